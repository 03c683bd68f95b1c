package dev.opensandbox.server.http;

import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.opensandbox.server.http.ApiAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With the platform hung, the proxy cannot take the request threads nor grow a thread per request:
 * WebSocket upgrades resolve their sandbox off the Jetty threads, at most a quarter of the request
 * threads' worth at once (the others are refused with a JSON 503), each waited for a bounded time;
 * proxied HTTP requests wait for their sandbox at most as many at once as there are request
 * threads. {@code /health} keeps answering throughout.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ProxyUnderHungPlatformApiTest {

    private static final int REQUEST_THREADS = 16;
    private static final int CAP = REQUEST_THREADS / 4;
    private static final Duration UPGRADE_TIMEOUT = Duration.ofSeconds(2);

    /** The in-memory runtime whose inspect blocks while {@code hang} is set, counting who waits in it. */
    static final class HangingRuntime extends ForwardingSandboxRuntime {
        volatile CountDownLatch hang;
        final AtomicInteger waiting = new AtomicInteger();
        final AtomicInteger mostWaiting = new AtomicInteger();
        final CountDownLatch capReached = new CountDownLatch(CAP);

        HangingRuntime(SandboxRuntime delegate) {
            super(delegate);
        }

        @Override
        public Optional<Sandbox> inspect(SandboxId id) {
            CountDownLatch latch = hang;
            if (latch != null) {
                mostWaiting.accumulateAndGet(waiting.incrementAndGet(), Math::max);
                capReached.countDown();
                try {
                    latch.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    waiting.decrementAndGet();
                }
            }
            return super.inspect(id);
        }
    }

    private ApiTestServer api;
    private HangingRuntime runtime;
    private String sandbox;

    @BeforeEach
    void start() {
        api = ApiTestServer.builder()
            .settings(s -> new HttpSettings(null, List.of("*"), null, 0, Duration.ofSeconds(30), 128, REQUEST_THREADS)
                .withUpgradeTimeout(UPGRADE_TIMEOUT))
            .runtime(memory -> runtime = new HangingRuntime(memory))
            .start();
        sandbox = api.createSandbox("/v1", null, null);
    }

    @AfterEach
    void stop() {
        if (runtime.hang != null) {
            runtime.hang.countDown();
        }
        api.close();
    }

    private static String upgrade(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    }

    @Test
    void aFloodOfUpgradesToAHungPlatformLeavesHealthAnsweringAndTheRestRefused() throws Exception {
        int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
        runtime.hang = new CountDownLatch(1);
        int upgrades = 40;
        List<RawHttp> clients = new ArrayList<>();
        try {
            for (int i = 0; i < upgrades; i++) {
                clients.add(RawHttp.connect(api.port(), Duration.ofSeconds(20))
                    .write(upgrade("/v1/sandboxes/" + sandbox + "/proxy/9090/ws")));
            }
            assertTrue(runtime.capReached.await(20, TimeUnit.SECONDS), "the upgrades never reached the runtime");

            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(api.base() + "/health"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
            int threadsDuring = ManagementFactory.getThreadMXBean().getThreadCount();

            int refused = 0;
            for (RawHttp client : clients) {
                RawHttp.Response response = client.read();
                if (response.status() == 503) {
                    assertError(response, 503, "PROXY::TOO_MANY_UPGRADES");
                    refused++;
                } else {
                    assertEquals(101, response.status(), response::toString); // then closed: see the next test
                }
            }
            assertEquals(upgrades - CAP, refused, "all but " + CAP + " upgrades are refused at once");
            assertTrue(runtime.mostWaiting.get() <= CAP, "threads waiting on the runtime: " + runtime.mostWaiting.get());
            assertTrue(threadsDuring - threadsBefore < upgrades / 2, "threads grew from " + threadsBefore + " to "
                + threadsDuring + " for " + upgrades + " upgrades");
        } finally {
            clients.forEach(RawHttp::close);
        }
    }

    @Test
    void proxiedRequestsToAHungPlatformWaitAtMostAsManyAsThereAreRequestThreads() throws Exception {
        runtime.hang = new CountDownLatch(1);
        int requests = 3 * REQUEST_THREADS;
        ExecutorService readers = Executors.newFixedThreadPool(requests);
        List<RawHttp> clients = new ArrayList<>();
        try {
            CountDownLatch refusals = new CountDownLatch(requests - REQUEST_THREADS);
            // Recorded before the latch counts down, so that every counted answer is in the list when it opens.
            List<RawHttp.Response> answered = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<Future<RawHttp.Response>> responses = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                RawHttp client = RawHttp.connect(api.port(), Duration.ofSeconds(30)).write("GET /v1/sandboxes/" + sandbox
                    + "/proxy/8080/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
                clients.add(client);
                responses.add(readers.submit(() -> {
                    RawHttp.Response response = client.read();
                    answered.add(response);
                    refusals.countDown();
                    return response;
                }));
            }
            assertTrue(refusals.await(20, TimeUnit.SECONDS), "the requests beyond the cap were not refused at once");
            assertEquals(requests - REQUEST_THREADS, answered.size(), "answered while the platform hangs");
            answered.forEach(response -> assertError(response, 503, "PROXY::TOO_MANY_PENDING"));
            assertEquals(REQUEST_THREADS, runtime.waiting.get(), "exactly the capped lookups wait on the runtime");
            long exchangeThreads = Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().matches("opensandbox-proxy-\\d+")).count();
            assertTrue(exchangeThreads <= REQUEST_THREADS, exchangeThreads + " proxy threads for " + requests + " requests");
            HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(api.base() + "/health")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());

            runtime.hang.countDown(); // the platform answers: the waiting requests go on (nothing listens on 8080)
            for (Future<RawHttp.Response> response : responses) {
                assertTrue(Set.of(502, 503).contains(response.get(20, TimeUnit.SECONDS).status()));
            }
        } finally {
            readers.shutdownNow();
            clients.forEach(RawHttp::close);
        }
    }

    @Test
    void anUpgradeWhoseSandboxDoesNotResolveInTimeIsClosedWith1011() throws Exception {
        runtime.hang = new CountDownLatch(1);
        ReverseProxyTest.Collector events = new ReverseProxyTest.Collector();
        HttpClient.newHttpClient().newWebSocketBuilder()
            .buildAsync(URI.create(ReverseProxyTest.wsBase(api) + "/v1/sandboxes/" + sandbox + "/proxy/9090/ws"), events)
            .get(UPGRADE_TIMEOUT.toSeconds() + 10, TimeUnit.SECONDS);
        String close = events.next();
        assertTrue(close.startsWith("close:1011 PROXY::UPGRADE_TIMEOUT"), close);

        // The permit is held until the hung lookup ends, then given back: upgrades work again.
        runtime.hang.countDown();
        runtime.hang = null;
        ReverseProxyTest.Collector next = new ReverseProxyTest.Collector();
        HttpClient.newHttpClient().newWebSocketBuilder()
            .buildAsync(URI.create(ReverseProxyTest.wsBase(api) + "/v1/sandboxes/" + sandbox + "/proxy/9090/ws"), next)
            .get(10, TimeUnit.SECONDS);
        // Nothing listens on 9090 of the in-memory sandbox: resolved, then refused by the backend.
        assertTrue(next.next().startsWith("close:1011 PROXY::BACKEND"), "resolved once the platform answers");
    }
}
