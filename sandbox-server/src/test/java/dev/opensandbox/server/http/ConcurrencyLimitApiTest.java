package dev.opensandbox.server.http;

import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.core.service.ServicePolicy;
import dev.opensandbox.core.service.SnapshotService;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConcurrencyLimitApiTest {

    @Test
    void requestsBeyondTheConcurrencyLimitAreAnsweredAt503WithJson() throws Exception {
        CountDownLatch listEntered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        MutableClock clock = new MutableClock();
        var runtime = new ForwardingSandboxRuntime(new InMemorySandboxRuntime(clock)) {
            @Override
            public List<Sandbox> list() {
                listEntered.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.list();
            }
        };
        InMemorySandboxStore store = new InMemorySandboxStore();
        SandboxService sandboxes = new SandboxService(runtime, store, clock, ServicePolicy.defaults());
        HttpSettings oneAtATime = new HttpSettings(null, List.of("*"), null, 1, Duration.ofSeconds(30), 128, 16);
        try (ApiServer api = new ApiServer(sandboxes, new SnapshotService(sandboxes, store, clock, Runnable::run),
            oneAtATime, clock, 4).start("127.0.0.1", 0)) {
            HttpClient client = HttpClient.newHttpClient();
            URI list = URI.create("http://127.0.0.1:" + api.port() + "/v1/sandboxes");
            CompletableFuture<HttpResponse<String>> first =
                client.sendAsync(HttpRequest.newBuilder(list).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(listEntered.await(10, TimeUnit.SECONDS), "the first request reached the runtime");

            HttpResponse<String> second = client.send(HttpRequest.newBuilder(list).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, second.statusCode());
            assertTrue(second.body().contains("\"code\":\"GENERAL::SERVER_BUSY\""), second.body());

            release.countDown();
            assertEquals(200, first.get(10, TimeUnit.SECONDS).statusCode());
            HttpResponse<String> third = client.send(HttpRequest.newBuilder(list).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, third.statusCode(), "the slot is released when a request ends");
        }
    }
}
