package dev.opensandbox.it.secure;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.it.fuzz.LaunchedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

import static dev.opensandbox.it.secure.SecureHttp.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Per-sandbox secure access on the whole server (in-memory runtime, built-in execd): a sandbox
 * created with {@code secureAccess} answers its proxy and execd routes — HTTP and WebSocket, at
 * both prefixes — only to requests carrying its own token in {@code OpenSandbox-Secure-Access};
 * no token, a wrong one or another sandbox's is a 401 {@code {code, message}}. With
 * {@code [server] require_secure_access} every sandbox gets a token.
 */
class SecureAccessTest {

    private static Path dir;
    private static LaunchedServer server;
    private static SecureHttp http;
    private static String secure;
    private static String token;
    private static String otherToken;
    private static String open;

    @BeforeAll
    static void startServerAndSandboxes() throws Exception {
        dir = Files.createTempDirectory("secure-access-");
        server = LaunchedServer.config(dir, "in-memory").set("server", "api_key", "\"secure-key\"").start(Map.of(),
            Clock.systemUTC());
        http = new SecureHttp(server.port(), "secure-key");
        secure = http.createSandbox("opensandbox-test/busybox:latest", true, Map.of());
        String other = http.createSandbox("opensandbox-test/busybox:latest", true, Map.of());
        open = http.createSandbox("opensandbox-test/busybox:latest", false, Map.of());
        token = http.secureAccessToken(secure);
        otherToken = http.secureAccessToken(other);
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    @DisplayName("the execd endpoint of a secure sandbox names its token; an open sandbox's names none")
    void endpointsHandOutTheTokenOfTheirSandboxOnly() throws Exception {
        assertTrue(token.length() >= 16, "a token worth the name: " + token);
        assertNotEquals(token, otherToken, "every sandbox has its own token");
        JsonNode openEndpoint = http.json(http.send("GET", "/v1/sandboxes/" + open + "/endpoints/44772", null, Map.of()));
        assertTrue(openEndpoint.path("headers").path(SecureHttp.SECURE_HEADER).isMissingNode(), openEndpoint.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/v1"})
    void theBuiltInExecdOfASecureSandboxWantsItsToken(String prefix) throws Exception {
        String ping = prefix + "/sandboxes/" + secure + "/proxy/44772/ping";
        assertRefused(http.send("GET", ping, null, Map.of()), "PROXY::SECURE_ACCESS_REQUIRED");
        assertRefused(http.send("GET", ping, null, Map.of(SecureHttp.SECURE_HEADER, "wrong")), "PROXY::SECURE_ACCESS_INVALID");
        assertRefused(http.send("GET", ping, null, Map.of(SecureHttp.SECURE_HEADER, otherToken)), "PROXY::SECURE_ACCESS_INVALID");
        assertRefused(http.send("GET", ping, null, Map.of(SecureHttp.SECURE_HEADER, token + "x")), "PROXY::SECURE_ACCESS_INVALID");
        SecureHttp.Reply right = http.send("GET", ping, null, Map.of(SecureHttp.SECURE_HEADER, token));
        assertEquals(200, right.status(), right.toString());
        assertEquals("pong", right.body());

        String command = prefix + "/sandboxes/" + secure + "/proxy/44772/command";
        String body = "{\"command\":\"echo secured\"}";
        assertRefused(http.send("POST", command, body, Map.of()), "PROXY::SECURE_ACCESS_REQUIRED");
        SecureHttp.Reply ran = http.send("POST", command, body, Map.of(SecureHttp.SECURE_HEADER, token));
        assertEquals(200, ran.status(), ran.toString());
        assertTrue(ran.body().contains("\"init\""), "the command started: " + ran.body());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/v1"})
    void theProxyToASecureSandboxWantsItsToken(String prefix) throws Exception {
        String path = prefix + "/sandboxes/" + secure + "/proxy/8080/index.html";
        assertRefused(http.send("GET", path, null, Map.of()), "PROXY::SECURE_ACCESS_REQUIRED");
        assertRefused(http.send("POST", path, "{}", Map.of(SecureHttp.SECURE_HEADER, "wrong")), "PROXY::SECURE_ACCESS_INVALID");
        assertRefused(http.send("GET", path, null, Map.of(SecureHttp.SECURE_HEADER, otherToken)), "PROXY::SECURE_ACCESS_INVALID");
        // Past the check the proxy dials the sandbox; nothing listens in the in-memory runtime.
        SecureHttp.Reply right = http.send("GET", path, null, Map.of(SecureHttp.SECURE_HEADER, token));
        assertEquals("PROXY::BACKEND_UNREACHABLE", http.json(right).path("code").asText(), right.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/v1"})
    void aWebSocketToASecureSandboxWantsItsToken(String prefix) throws Exception {
        String path = prefix + "/sandboxes/" + secure + "/proxy/8080/ws";
        assertRefused(http.webSocketHandshake(path, null), "PROXY::SECURE_ACCESS_REQUIRED");
        assertRefused(http.webSocketHandshake(path, "wrong"), "PROXY::SECURE_ACCESS_INVALID");
        SecureHttp.Reply right = http.webSocketHandshake(path, token);
        assertTrue(right.status() != 401 && right.status() != 403, "the right token passes the check: " + right);
    }

    @Test
    void anOpenSandboxNeedsNoToken() throws Exception {
        SecureHttp.Reply ping = http.send("GET", "/v1/sandboxes/" + open + "/proxy/44772/ping", null, Map.of());
        assertEquals(200, ping.status(), ping.toString());
    }

    @Test
    @DisplayName("with [server] require_secure_access every sandbox needs its token, secureAccess or not")
    void requireSecureAccessGivesEverySandboxAToken() throws Exception {
        Path other = Files.createTempDirectory(dir, "required-");
        try (LaunchedServer required = LaunchedServer.config(other, "in-memory").set("server", "api_key", "\"k2\"")
            .set("server", "require_secure_access", "true").start(Map.of(), Clock.systemUTC())) {
            SecureHttp client = new SecureHttp(required.port(), "k2");
            String id = client.createSandbox("opensandbox-test/busybox:latest", false, Map.of());
            String ping = "/v1/sandboxes/" + id + "/proxy/44772/ping";
            assertRefused(client.send("GET", ping, null, Map.of()), "PROXY::SECURE_ACCESS_REQUIRED");
            assertEquals(200, client.send("GET", ping, null, Map.of(SecureHttp.SECURE_HEADER, client.secureAccessToken(id)))
                .status());
        }
    }
}
