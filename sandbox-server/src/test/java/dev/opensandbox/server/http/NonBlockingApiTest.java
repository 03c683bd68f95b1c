package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.spi.ProvisionRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.opensandbox.server.http.ApiAssertions.assertJson;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Slow runtime calls never stall the HTTP server: while eight creates sit in a runtime that
 * takes two seconds each, {@code /health} and listing still answer at once. This test uses
 * real time on purpose: it is about real concurrency of the server, not about the clock.
 */
class NonBlockingApiTest {

    private static final int CREATES = 8;
    private static final long CREATE_MILLIS = 2_000;
    private static final long BOUND_MILLIS = 500;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void healthAndListAnswerWhileSlowCreatesAreInFlight() throws Exception {
        CountDownLatch entered = new CountDownLatch(CREATES);
        // On Java 17 runtime calls share one bounded pool (Java 21+ uses virtual threads): it must
        // be larger than the number of slow calls, or reads queue behind them. Jetty's own pool is separate.
        try (ApiTestServer api = ApiTestServer.builder().threads(CREATES * 2).runtime(memory -> new ForwardingSandboxRuntime(memory) {
            @Override
            public Sandbox create(ProvisionRequest request) {
                entered.countDown();
                try {
                    Thread.sleep(CREATE_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
                return super.create(request);
            }
        }).start()) {
            ExecutorService clients = Executors.newFixedThreadPool(CREATES);
            try {
                List<Future<ApiTestServer.Response>> creates = new ArrayList<>();
                long firedAt = System.nanoTime();
                for (int i = 0; i < CREATES; i++) {
                    creates.add(clients.submit(() -> api.post("/v1/sandboxes", ApiTestServer.createBody(600, null))));
                }
                assertTrue(entered.await(10, TimeUnit.SECONDS), "all creates reached the runtime");

                List<Long> health = new ArrayList<>();
                List<Long> list = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    long start = System.nanoTime();
                    ApiTestServer.Response response = api.get("/health");
                    health.add(elapsedMillis(start));
                    assertEquals(200, response.status());

                    start = System.nanoTime();
                    JsonNode page = assertJson(api.get("/v1/sandboxes"), 200);
                    list.add(elapsedMillis(start));
                    assertTrue(page.get("items").isArray());
                }
                long measuredWithin = elapsedMillis(firedAt);
                assertTrue(creates.stream().noneMatch(Future::isDone),
                    "the measurements were taken while every create was still in flight");
                System.out.printf("NonBlockingApiTest: %d creates in flight; /health ms %s; GET /v1/sandboxes ms %s "
                    + "(all measured within %d ms of firing)%n", CREATES, health, list, measuredWithin);
                for (long millis : health) {
                    assertTrue(millis < BOUND_MILLIS, "/health took " + millis + " ms: " + health);
                }
                for (long millis : list) {
                    assertTrue(millis < BOUND_MILLIS, "GET /v1/sandboxes took " + millis + " ms: " + list);
                }

                Set<String> ids = new HashSet<>();
                for (Future<ApiTestServer.Response> create : creates) {
                    ApiTestServer.Response response = create.get(30, TimeUnit.SECONDS);
                    ids.add(assertJson(response, 202).get("id").asText());
                }
                long allDone = elapsedMillis(firedAt);
                System.out.printf("NonBlockingApiTest: all %d creates answered 202 after %d ms%n", CREATES, allDone);
                assertEquals(CREATES, ids.size());
                assertTrue(allDone < CREATES * CREATE_MILLIS / 2, "the creates ran in parallel, not one by one: " + allDone);
                assertEquals(CREATES, api.get("/v1/sandboxes").json().get("items").size());
            } finally {
                clients.shutdownNow();
            }
            assertFalse(clients.isShutdown() && !clients.awaitTermination(5, TimeUnit.SECONDS));
        }
    }

    private static long elapsedMillis(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }
}
