package dev.opensandbox.server.http;

import org.junit.jupiter.api.AutoClose;

import java.util.List;

import static dev.opensandbox.server.http.ApiAssertions.assertEmpty;
import static dev.opensandbox.server.http.ApiAssertions.assertError;
import static dev.opensandbox.server.http.ApiAssertions.assertJson;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The method on the request line is the method: no header changes it (Javalin honours X-HTTP-Method-Override). */
class MethodOverrideApiTest {

    @AutoClose
    static final ApiTestServer api = ApiTestServer.start();

    @BothPrefixes
    void aGetAskingToBeADeleteIsAGet(String prefix) {
        String id = api.createSandbox(prefix, 600, null);
        for (String header : List.of("X-HTTP-Method-Override", "x-http-method-override", "X-HTTP-Method", "X-Method-Override")) {
            assertEquals(id, assertJson(api.get(prefix + "/sandboxes/" + id, header, "DELETE"), 200).get("id").asText());
        }
        assertJson(api.get(prefix + "/sandboxes/" + id), 200);
    }

    @BothPrefixes
    void aPostAskingToBeAnotherMethodRunsThePostRoute(String prefix) {
        String id = api.createSandbox(prefix, 600, null);
        assertEmpty(api.post(prefix + "/sandboxes/" + id + "/pause", null, "X-HTTP-Method-Override", "DELETE"), 202);
        assertEquals("Paused", api.get(prefix + "/sandboxes/" + id).json().at("/status/state").asText());
        // A route that exists only for another method stays unreachable.
        assertError(api.get(prefix + "/sandboxes/" + id + "/resume", "X-HTTP-Method-Override", "POST"), 405,
            "GENERAL::METHOD_NOT_ALLOWED");
        assertEquals("Paused", api.get(prefix + "/sandboxes/" + id).json().at("/status/state").asText());
    }
}
