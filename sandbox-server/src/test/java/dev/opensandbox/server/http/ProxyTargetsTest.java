package dev.opensandbox.server.http;

import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.SandboxId;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Target URIs and header rules of the reverse proxy, without sockets. */
class ProxyTargetsTest {

    private static final SandboxId ID = SandboxId.tryParse(UUID.randomUUID().toString()).orElseThrow();

    private static ProxyTargets.Target target(String path, String query) {
        return new ProxyTargets.Target(ID, 8080, path, query);
    }

    @Test
    void theBackendRootIsExactlyTheEndpointAddress() {
        Endpoint base = Endpoint.of("10.57.1.91:40109/base");
        assertEquals("http://10.57.1.91:40109/base", ProxyTargets.backendUri("http", base, target("", null)).toString());
        assertEquals("http://10.57.1.91:40109/base/a/b/", ProxyTargets.backendUri("http", base, target("a/b/", null)).toString());
        assertEquals("ws://10.57.1.91:40109/base/x?q=1", ProxyTargets.backendUri("ws", base, target("x", "q=1")).toString());
    }

    @Test
    void rawPathsAndQueriesKeepTheirEncodingAndOnlyIllegalCharactersAreEscaped() {
        Endpoint e = Endpoint.of("h:1");
        assertEquals("http://h:1/a%2Fb/%7E?path=%2Fworkspace&x=a+b",
            ProxyTargets.backendUri("http", e, target("a%2Fb/%7E", "path=%2Fworkspace&x=a+b")).toString());
        assertEquals("a%20b/%C3%A9/100%25/x|y".replace("|", "%7C"), ProxyTargets.escapeIllegal("a b/é/100%/x|y", false));
        assertEquals("a=1?b=2", ProxyTargets.escapeIllegal("a=1?b=2", true));
    }

    @Test
    void parsingUsesTheRawUri() {
        ProxyTargets targets = new ProxyTargets(null);
        ProxyTargets.Target t = targets.parse("/v1/sandboxes/" + ID + "/proxy/44772/files/a%2Fb/", "x=%2F");
        assertEquals(ID, t.id());
        assertEquals(44772, t.port());
        assertEquals("files/a%2Fb/", t.path());
        assertEquals("x=%2F", t.query());
        assertEquals("", targets.parse("/sandboxes/" + ID + "/proxy/1", null).path());
        assertEquals("", targets.parse("/sandboxes/" + ID + "/proxy/1/", null).path());
    }

    @Test
    void backendHeadersDropCredentialsHopByHopAndConnectionListedNames() {
        Map<String, List<String>> inbound = new java.util.LinkedHashMap<>();
        inbound.put("Host", List.of("proxy"));
        inbound.put("connection", List.of("keep-alive, X-Secret"));
        inbound.put("X-Secret", List.of("s"));
        inbound.put("authorization", List.of("Bearer t"));
        inbound.put("Open-Sandbox-Api-Key", List.of("k"));
        inbound.put("X-Forwarded-For", List.of("1.2.3.4"));
        inbound.put("OpenSandbox-Ingress-To", List.of("client-value"));
        inbound.put("OpenSandbox-Secure-Access", List.of("client-token"));
        inbound.put("X-Trace", List.of("a", "b"));
        List<Map.Entry<String, String>> out = ProxyHeaders.toBackend(inbound,
            Map.of("OpenSandbox-Ingress-To", "sandbox-1", "OpenSandbox-Secure-Access", "endpoint-token"),
            Map.of("X-Forwarded-For", "127.0.0.1", "X-Forwarded-Proto", "http"), false);
        List<String> names = out.stream().map(e -> e.getKey().toLowerCase()).toList();
        for (String gone : List.of("host", "connection", "x-secret", "authorization", "open-sandbox-api-key")) {
            assertFalse(names.contains(gone), gone + " in " + out);
        }
        assertTrue(out.contains(Map.entry("X-Trace", "a")) && out.contains(Map.entry("X-Trace", "b")));
        assertTrue(out.contains(Map.entry("X-Forwarded-For", "1.2.3.4")));
        assertFalse(out.contains(Map.entry("X-Forwarded-For", "127.0.0.1")), "not appended to an existing chain");
        assertTrue(out.contains(Map.entry("X-Forwarded-Proto", "http")));
        assertTrue(out.contains(Map.entry("OpenSandbox-Ingress-To", "sandbox-1")), "endpoint headers override");
        assertTrue(out.contains(Map.entry("OpenSandbox-Secure-Access", "client-token")), "access is never granted by the proxy");
        assertFalse(out.contains(Map.entry("OpenSandbox-Secure-Access", "endpoint-token")));
    }

    @Test
    void closeReasonsFitAControlFrame() {
        assertEquals(123, WebSocketProxy.truncateReason("x".repeat(300)).length());
        String accented = WebSocketProxy.truncateReason("é".repeat(100));
        assertTrue(accented.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 123);
        assertEquals(1000, WebSocketProxy.toClientCode(1005));
        assertEquals(1011, WebSocketProxy.toClientCode(1006));
        assertEquals(4001, WebSocketProxy.toClientCode(4001));
    }
}
