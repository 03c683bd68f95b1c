package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code [renew_intent] enabled}: traffic through the proxy (here the built-in execd's ping)
 * extends a sandbox created with {@code access.renew.extend.seconds}. Which sandboxes qualify is
 * tested in the core ({@code RenewOnAccessTest}), the throttle in {@code AccessRenewalsTest}.
 */
class RenewOnAccessApiTest {

    private final ApiTestServer api = ApiTestServer.builder().builtInExecd()
        .settings(s -> s.withRenewOnAccess(Duration.ofSeconds(60))).start();

    @AfterEach
    void stop() {
        api.close();
    }

    private Instant expiresAt(String id) {
        return Instant.parse(api.get("/v1/sandboxes/" + id).json().get("expiresAt").asText());
    }

    private Instant awaitExpiryAfter(String id, Instant before) throws InterruptedException {
        // The renewal runs off the request thread (fire-and-forget): wait for it, bounded.
        for (int attempt = 0; attempt < 100 && !expiresAt(id).isAfter(before); attempt++) {
            Thread.sleep(20);
        }
        return expiresAt(id);
    }

    @Test
    void proxiedTrafficKeepsTheSandboxAliveAtMostOncePerInterval() throws InterruptedException {
        JsonNode created = api.post("/v1/sandboxes", "{\"image\":{\"uri\":\"python:3.11\"},\"entrypoint\":[\"sleep\",\"1\"],"
            + "\"resourceLimits\":{\"cpu\":\"500m\"},\"timeout\":600,"
            + "\"extensions\":{\"access.renew.extend.seconds\":\"900\"}}").json();
        String id = created.get("id").asText();
        Instant original = expiresAt(id);

        api.clock.advance(Duration.ofMinutes(8));
        assertEquals(200, api.get("/sandboxes/" + id + "/proxy/44772/ping").status());
        Instant renewed = awaitExpiryAfter(id, original);
        assertEquals(api.clock.instant().plusSeconds(900), renewed);

        api.clock.advance(Duration.ofSeconds(61)); // past the throttle interval (the throttle itself: AccessRenewalsTest)
        assertEquals(200, api.get("/sandboxes/" + id + "/proxy/44772/ping").status());
        assertEquals(api.clock.instant().plusSeconds(900), awaitExpiryAfter(id, renewed));
    }
}
