package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built-in execd as the HTTP API exposes it, on the in-memory runtime: where port 44772
 * resolves, and the answers that need no exec (readiness, state, access, unsupported families).
 * Commands and files through a real engine are in {@code BuiltInExecdDockerIT}.
 */
class BuiltInExecdApiTest {

    private final ApiTestServer api = ApiTestServer.builder().apiKey("k").builtInExecd().start();

    @AfterEach
    void stop() {
        api.close();
    }

    private String create(String extra) {
        String limits = extra.contains("resourceLimits") ? "" : ",\"resourceLimits\":{\"cpu\":\"500m\"}";
        ApiTestServer.Response created = api.post("/v1/sandboxes", "{\"image\":{\"uri\":\"python:3.11\"},"
            + "\"entrypoint\":[\"tail\",\"-f\",\"/dev/null\"],\"timeout\":600" + limits + extra + "}",
            "OPEN-SANDBOX-API-KEY", "k");
        assertEquals(202, created.status(), created.toString());
        return created.json().get("id").asText();
    }

    @Test
    void port44772ResolvesToTheServersOwnExecdWithOrWithoutTheProxyFlag() {
        String id = create("");
        String expected = "127.0.0.1:" + api.port() + "/sandboxes/" + id + "/proxy/44772";
        for (String prefix : new String[] {"", "/v1"}) {
            for (String query : new String[] {"", "?use_server_proxy=false", "?use_server_proxy=true"}) {
                JsonNode json = api.get(prefix + "/sandboxes/" + id + "/endpoints/44772" + query,
                    "OPEN-SANDBOX-API-KEY", "k").json();
                assertEquals(expected, json.get("endpoint").asText(), prefix + query);
            }
        }
        JsonNode egress = api.get("/v1/sandboxes/" + id + "/endpoints/18080", "OPEN-SANDBOX-API-KEY", "k").json();
        assertEquals("in-memory.invalid:18080", egress.get("endpoint").asText(), "other ports keep the runtime's answer");
        ApiTestServer.Response unknown = api.get("/v1/sandboxes/" + java.util.UUID.randomUUID() + "/endpoints/44772",
            "OPEN-SANDBOX-API-KEY", "k");
        assertEquals(404, unknown.status(), unknown.toString());
    }

    @Test
    void pingAnswersWithoutTheApiKeyWhileRunningAnd409WhilePaused() {
        String id = create("");
        String ping = "/sandboxes/" + id + "/proxy/44772/ping";
        ApiTestServer.Response pong = api.get(ping);
        assertEquals(200, pong.status(), pong.toString());
        assertEquals("pong", pong.body());
        assertEquals(200, api.get("/v1" + ping).status());

        assertEquals(202, api.post("/v1/sandboxes/" + id + "/pause", null, "OPEN-SANDBOX-API-KEY", "k").status());
        ApiTestServer.Response paused = api.get(ping);
        assertEquals(409, paused.status(), paused.toString());
        assertEquals("DOCKER::SANDBOX_NOT_RUNNING", paused.json().get("code").asText());
        assertEquals(202, api.post("/v1/sandboxes/" + id + "/resume", null, "OPEN-SANDBOX-API-KEY", "k").status());
        assertEquals(200, api.get(ping).status());
    }

    @Test
    void unknownSandboxesAndRoutesAreJsonErrors() {
        ApiTestServer.Response unknown = api.get("/sandboxes/" + java.util.UUID.randomUUID() + "/proxy/44772/ping");
        assertEquals(404, unknown.status(), unknown.toString());
        assertTrue(unknown.json().get("code").asText().endsWith("::SANDBOX_NOT_FOUND"));

        String id = create("");
        ApiTestServer.Response route = api.get("/sandboxes/" + id + "/proxy/44772/no/such/route");
        assertEquals(404, route.status());
        assertEquals("NOT_FOUND", route.json().get("code").asText());

        for (String path : new String[] {"/code", "/code/contexts"}) {
            ApiTestServer.Response code = api.post("/sandboxes/" + id + "/proxy/44772" + path, "{}");
            assertEquals(501, code.status(), path + " " + code);
            assertEquals("NOT_IMPLEMENTED", code.json().get("code").asText());
            assertNotNull(code.json().get("message").asText());
        }

        ApiTestServer.Response noSession = api.delete("/sandboxes/" + id + "/proxy/44772/session/" + "0".repeat(32));
        assertEquals(404, noSession.status(), noSession.toString());
        assertEquals("NOT_FOUND", noSession.json().get("code").asText());

        ApiTestServer.Response badBody = api.post("/sandboxes/" + id + "/proxy/44772/command", "{not json");
        assertEquals(400, badBody.status(), badBody.toString());
        assertEquals("INVALID_REQUEST_BODY", badBody.json().get("code").asText());
        ApiTestServer.Response noCommand = api.post("/sandboxes/" + id + "/proxy/44772/command", "{\"cwd\":null}");
        assertEquals(400, noCommand.status());
        ApiTestServer.Response noPath = api.get("/sandboxes/" + id + "/proxy/44772/files/download");
        assertEquals(400, noPath.status());
        assertEquals("MISSING_QUERY", noPath.json().get("code").asText());
    }

    @Test
    void secureAccessSandboxesNeedTheirTokenForTheBuiltInExecdToo() {
        String id = create(",\"secureAccess\":true");
        JsonNode endpoint = api.get("/v1/sandboxes/" + id + "/endpoints/44772", "OPEN-SANDBOX-API-KEY", "k").json();
        String token = endpoint.path("headers").path("OpenSandbox-Secure-Access").asText(null);
        assertNotNull(token, endpoint.toString());
        String ping = "/sandboxes/" + id + "/proxy/44772/ping";

        assertEquals(401, api.get(ping).status());
        assertEquals(401, api.get(ping, "OpenSandbox-Secure-Access", token + "x").status());
        assertEquals(200, api.get(ping, "OpenSandbox-Secure-Access", token).status());
    }

    /** One request written as raw bytes (java.net.URI refuses malformed escapes); the status and body come back. */
    private String raw(String target) throws java.io.IOException {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", api.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    @Test
    void malformedQueryEscapesAreNamedAndCursorsAreSixtyFourBitOffsets() throws Exception {
        String id = create("");
        String base = "/sandboxes/" + id + "/proxy/44772";
        // (a bad escape in the path is Jetty's to refuse before any handler runs)
        for (String target : new String[] {base + "/files/info?path=%zz", base + "/command/abc/logs?cursor=%",
            base + "/directories/list?path=/tmp&depth=%G1"}) {
            String response = raw(target);
            assertTrue(response.startsWith("HTTP/1.1 400"), target + " -> " + response);
            assertTrue(response.contains("\"code\":\"INVALID_REQUEST_BODY\""), target + " -> " + response);
        }
        ApiTestServer.Response largeCursor = api.get(base + "/command/" + "0".repeat(32) + "/logs?cursor=99999999999");
        assertEquals(404, largeCursor.status(), "a cursor is a 64-bit offset: " + largeCursor);
        assertEquals("NOT_FOUND", largeCursor.json().get("code").asText());
        ApiTestServer.Response plus = api.get(base + "/command/status/a+b");
        assertEquals(404, plus.status(), plus.toString());
        assertTrue(plus.json().get("message").asText().contains("a+b"), "a plus in a path is a plus: " + plus);
    }

    @Test
    void metricsComeFromTheRuntimesStatistics() {
        String id = create(",\"resourceLimits\":{\"cpu\":\"2\",\"memory\":\"256Mi\"}");
        JsonNode metrics = api.get("/sandboxes/" + id + "/proxy/44772/metrics").json();
        assertEquals(2.0, metrics.get("cpu_count").asDouble());
        assertEquals(256.0, metrics.get("mem_total_mib").asDouble());
        assertTrue(metrics.get("cpu_used_pct").asDouble() >= 0);
        assertTrue(metrics.get("mem_used_mib").asDouble() > 0);
        assertEquals(api.clock.millis(), metrics.get("timestamp").asLong());
    }
}
