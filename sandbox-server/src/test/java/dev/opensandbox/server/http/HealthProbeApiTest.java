package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.opensandbox.server.http.ApiAssertions.assertJson;
import static dev.opensandbox.server.http.ApiAssertions.fieldNames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /health} reports the runtime's background probe: 200 {@code {"status":"healthy"}} while
 * the last probe passed, 503 {@code {status, code, message}} when it failed or has hung for three
 * intervals, and it never calls the runtime itself. Probes are triggered by hand and time is the
 * test's clock; only the last test waits for the real background schedule (on a latch).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HealthProbeApiTest {

    /** A runtime whose probe the test controls: passing, failing, or blocked until released. */
    static final class ProbedRuntime extends ForwardingSandboxRuntime {
        volatile UnavailableException failure;
        volatile CountDownLatch hold;
        final CountDownLatch entered = new CountDownLatch(1);
        final AtomicInteger probes = new AtomicInteger();
        final CountDownLatch probedAtStart = new CountDownLatch(1);
        volatile CountDownLatch probedTwice = new CountDownLatch(2);

        ProbedRuntime(dev.opensandbox.core.spi.SandboxRuntime delegate) {
            super(delegate);
        }

        @Override
        public void probe() {
            probes.incrementAndGet();
            probedAtStart.countDown();
            probedTwice.countDown();
            CountDownLatch latch = hold;
            if (latch != null) {
                entered.countDown();
                try {
                    latch.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            UnavailableException e = failure;
            if (e != null) {
                throw e;
            }
        }
    }

    private ApiTestServer api;
    private ProbedRuntime runtime;

    /** A server that probes once at start and then only every hour, unless the test probes. */
    private ApiTestServer start(Duration interval) {
        api = ApiTestServer.builder().settings(s -> s.withHealthProbeInterval(interval))
            .runtime(memory -> runtime = new ProbedRuntime(memory)).start();
        return api;
    }

    @AfterEach
    void stop() {
        if (runtime != null && runtime.hold != null) {
            runtime.hold.countDown();
        }
        if (api != null) {
            api.close();
        }
    }

    private JsonNode unhealthy(String code) {
        ApiTestServer.Response response = api.get("/health");
        assertEquals(503, response.status(), response::toString);
        JsonNode json = response.json();
        assertEquals(java.util.List.of("status", "code", "message"), fieldNames(json), json::toString);
        assertEquals("unhealthy", json.get("status").asText());
        assertEquals(code, json.get("code").asText());
        return json;
    }

    private void healthy() {
        assertEquals("{\"status\":\"healthy\"}", assertJson(api.get("/health"), 200).toString());
    }

    @Test
    void aFailedProbeIs503WithTheRuntimesCodeAndMessageUntilAProbePassesAgain() {
        start(Duration.ofHours(1));
        api.server.health().probeOnce();
        healthy();

        runtime.failure = new UnavailableException("DOCKER::ENGINE_UNAVAILABLE",
            "The Docker engine at unix:///var/run/docker.sock does not answer.");
        api.server.health().probeOnce();
        JsonNode json = unhealthy("DOCKER::ENGINE_UNAVAILABLE");
        assertEquals("The Docker engine at unix:///var/run/docker.sock does not answer.", json.get("message").asText());

        runtime.failure = null;
        api.server.health().probeOnce();
        healthy();
    }

    @Test
    void healthNeverCallsTheRuntime() throws InterruptedException {
        start(Duration.ofHours(1));
        assertTrue(runtime.probedAtStart.await(10, TimeUnit.SECONDS), "no probe at start");
        int probes = runtime.probes.get();
        for (int i = 0; i < 5; i++) {
            healthy();
        }
        assertEquals(probes, runtime.probes.get());
    }

    @Test
    void aProbeThatHangsIsAFailureAfterThreeIntervalsAndHealthAnswersMeanwhile() throws Exception {
        start(Duration.ofSeconds(5));
        api.server.health().probeOnce();
        runtime.hold = new CountDownLatch(1);
        CompletableFuture<Void> hung = CompletableFuture.runAsync(() -> api.server.health().probeOnce());
        assertTrue(runtime.entered.await(10, TimeUnit.SECONDS), "the probe never started");

        healthy(); // answered at once from the last outcome, while the probe hangs
        api.clock.advance(Duration.ofSeconds(15));
        healthy(); // three intervals: not yet
        api.clock.advance(Duration.ofSeconds(1));
        JsonNode json = unhealthy(HealthProbe.PROBE_TIMEOUT);
        assertTrue(json.get("message").asText().contains("16 s"), json::toString);

        runtime.hold.countDown();
        hung.get(10, TimeUnit.SECONDS);
        healthy();
    }

    @Test
    void theServerProbesByItselfEveryInterval() throws Exception {
        start(Duration.ofMillis(20));
        runtime.failure = new UnavailableException("DOCKER::ENGINE_UNAVAILABLE", "gone");
        runtime.probedTwice = new CountDownLatch(2);
        assertTrue(runtime.probedTwice.await(10, TimeUnit.SECONDS), "no background probes");
        unhealthy("DOCKER::ENGINE_UNAVAILABLE");
    }
}
