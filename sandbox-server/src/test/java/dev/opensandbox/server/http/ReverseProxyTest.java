package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reverse proxy end to end on real sockets: a real {@link ApiServer} over the in-memory
 * runtime whose INTERNAL endpoints point at test backends on 127.0.0.1 (port 8080 → the HTTP
 * backend, 9090 → the WebSocket backend, 7070 → a port nobody listens on).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReverseProxyTest {

    static final int HTTP = 8080;
    static final int WS = 9090;
    static final int DEAD = 7070;

    static ProxyBackends backends;
    static ApiTestServer api;
    static String sandbox;
    static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws IOException {
        backends = new ProxyBackends();
        api = server(s -> s.withProxy(false, Duration.ofSeconds(2), null));
        sandbox = api.createSandbox("/v1", null, null);
    }

    @AfterAll
    static void stop() {
        api.close();
        backends.close();
    }

    /** A server whose INTERNAL endpoints lead to the test backends. */
    static ApiTestServer server(java.util.function.UnaryOperator<HttpSettings> settings) {
        return ApiTestServer.builder().settings(settings).runtime(memory -> new ForwardingSandboxRuntime(memory) {
            @Override
            public Endpoint resolveEndpoint(SandboxId id, int port, EndpointPurpose purpose) {
                Endpoint resolved = super.resolveEndpoint(id, port, purpose); // keeps the not-found check
                if (purpose != EndpointPurpose.INTERNAL) {
                    return resolved;
                }
                int real = switch (port) {
                    case HTTP -> backends.httpPort();
                    case WS -> backends.wsPort();
                    case DEAD -> backends.deadPort;
                    default -> port;
                };
                return Endpoint.of("127.0.0.1:" + real);
            }
        }).start();
    }

    static String proxy(String prefix, int port, String rest) {
        return prefix + "/sandboxes/" + sandbox + "/proxy/" + port + rest;
    }

    // ------------------------------------------------------------ HTTP

    @Test
    void everyMethodAndTheQueryStringReachTheBackendVerbatim() {
        for (String prefix : List.of("", "/v1")) {
            for (String method : List.of("GET", "POST", "PUT", "DELETE", "PATCH")) {
                String body = method.equals("GET") ? null : "{\"m\":\"" + method + "\"}";
                ApiTestServer.Response r = api.send(method, proxy(prefix, HTTP, "/api/a%2Fb/c?x=1&path=%2Fworkspace&y=a+b"), body);
                assertEquals(200, r.status(), r.toString());
                assertEquals("method=" + method + " bytes=" + (body == null ? 0 : body.length()), r.body());
                ProxyBackends.Seen seen = backends.seen.get();
                assertEquals(method, seen.method());
                assertEquals("/api/a%2Fb/c", seen.rawPath());
                assertEquals("x=1&path=%2Fworkspace&y=a+b", seen.rawQuery());
                assertEquals(body == null ? "" : body, new String(seen.body(), StandardCharsets.UTF_8));
            }
        }
        // The backend root, with and without a trailing slash.
        for (String rest : List.of("", "/")) {
            assertEquals(200, api.get(proxy("/v1", HTTP, rest)).status());
            assertEquals("/", backends.seen.get().rawPath());
        }
        // HEAD and OPTIONS are relayed too.
        assertEquals(200, api.send("HEAD", proxy("/v1", HTTP, "/h"), null).status());
        assertEquals("HEAD", backends.seen.get().method());
        assertEquals(200, api.send("OPTIONS", proxy("/v1", HTTP, "/o"), null).status());
        assertEquals("OPTIONS", backends.seen.get().method());
    }

    @Test
    void aMethodOverrideHeaderReachesTheBackendButDoesNotChangeTheMethod() {
        ApiTestServer.Response r = api.send("POST", proxy("/v1", HTTP, "/override"), "{}", "X-HTTP-Method-Override", "DELETE");
        assertEquals(200, r.status(), r.toString());
        ProxyBackends.Seen seen = backends.seen.get();
        assertEquals("POST", seen.method());
        assertEquals(List.of("DELETE"), seen.headerValues("X-HTTP-Method-Override"));
    }

    @Test
    void credentialsAndHopByHopHeadersAreDroppedAndForwardedHeadersAddedOnlyWhenAbsent() throws IOException {
        RawResponse r = raw("GET " + proxy("/v1", HTTP, "/headers") + " HTTP/1.1\r\n"
            + "Host: proxy.example:1234\r\n"
            + "Authorization: Bearer secret\r\n"
            + "Cookie: session=1\r\n"
            + "OPEN-SANDBOX-API-KEY: key\r\n"
            + "Proxy-Authorization: Basic x\r\n"
            + "Keep-Alive: timeout=5\r\n"
            + "TE: trailers\r\n"
            + "Connection: close, X-Drop-Me\r\n"
            + "X-Drop-Me: 1\r\n"
            + "X-Trace: trace-1\r\n"
            + "X-Multi: one\r\n"
            + "X-Multi: two\r\n"
            + "x-forwarded-proto: https\r\n"
            + "X-Request-ID: req-headers-1\r\n"
            + "\r\n");
        assertEquals(200, r.status, r.toString());
        assertEquals(1, r.headers().getOrDefault("Date", List.of()).size(), "one Date header: " + r.headers());
        ProxyBackends.Seen seen = backends.seen.get();
        for (String gone : List.of("Authorization", "Cookie", "OPEN-SANDBOX-API-KEY", "Proxy-Authorization",
            "Keep-Alive", "TE", "X-Drop-Me")) {
            assertNull(seen.header(gone), gone + " reached the backend: " + seen.headers());
        }
        assertEquals("trace-1", seen.header("X-Trace"));
        assertEquals(List.of("one", "two"), seen.headerValues("X-Multi"), "repeated request headers stay separate");
        assertEquals(List.of("https"), seen.headerValues("X-Forwarded-Proto"), "an existing X-Forwarded-Proto is kept, not doubled");
        assertEquals("proxy.example:1234", seen.header("X-Forwarded-Host"));
        assertEquals("127.0.0.1", seen.header("X-Forwarded-For"));
        assertEquals("req-headers-1", seen.header("X-Request-ID"));
        assertEquals("127.0.0.1:" + backends.httpPort(), seen.header("Host"), "Host names the backend");
    }

    @Test
    void repeatedResponseHeadersStaySeparateAndHopByHopOnesAreDropped() {
        ApiTestServer.Response r = api.get(proxy("/v1", HTTP, "/cookies"), "X-Request-ID", "req-cookies-1");
        assertEquals(200, r.status());
        assertEquals(List.of("a=1; Path=/", "b=2; Path=/; HttpOnly"), r.headerValues("Set-Cookie"));
        assertEquals("echo", r.header("X-Backend"));
        assertEquals(List.of("req-cookies-1"), r.headerValues("X-Request-ID"), "the server's request id, not the backend's");
        assertNull(r.header("Keep-Alive"));
        assertNull(r.header("Proxy-Authenticate"));
        assertEquals("text/plain; charset=utf-8", r.header("Content-Type"));
    }

    @Test
    void aGeneratedRequestIdIsForwardedAndEchoed() {
        ApiTestServer.Response r = api.get(proxy("", HTTP, "/id"));
        String id = r.header("X-Request-ID");
        assertNotNull(id);
        assertEquals(id, backends.seen.get().header("X-Request-ID"));
    }

    @Test
    void compressedBodiesAreRelayedRaw() throws Exception {
        HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create(api.base() + proxy("/v1", HTTP, "/gzip")))
            .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        assertEquals("gzip", r.headers().firstValue("Content-Encoding").orElse(null));
        assertEquals(String.valueOf(ProxyBackends.GZIPPED.length), r.headers().firstValue("Content-Length").orElse(null));
        assertArrayEquals(ProxyBackends.GZIPPED, r.body());
    }

    @Test
    void sseEventsArriveAsTheyAreProducedAndTheResponseTimeoutDoesNotCutStreams() throws Exception {
        // The server's response timeout is 2 s; the stream lasts 3 s: only the headers are bounded.
        long start = System.nanoTime();
        HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(URI.create(api.base() + proxy("/v1", HTTP, "/sse")))
            .build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        assertEquals("text/event-stream", r.headers().firstValue("Content-Type").orElse(null));
        long firstEvent = -1;
        int events = 0;
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.startsWith("data:")) {
                    events++;
                    if (firstEvent < 0) {
                        firstEvent = System.nanoTime() - start;
                    }
                }
            }
        }
        long end = System.nanoTime() - start;
        System.out.printf("[measure] SSE through the proxy: first event after %d ms, stream end after %d ms%n",
            firstEvent / 1_000_000, end / 1_000_000);
        assertEquals(ProxyBackends.SSE_EVENTS, events);
        long streamMillis = (ProxyBackends.SSE_EVENTS - 1) * ProxyBackends.SSE_INTERVAL_MS;
        assertTrue(end / 1_000_000 >= streamMillis - 100, "the stream ended too early: " + end / 1_000_000 + " ms");
        assertTrue(firstEvent / 1_000_000 < 1500, "first event after " + firstEvent / 1_000_000 + " ms");
        assertTrue(end - firstEvent > 2_000_000_000L, "events were buffered: first " + firstEvent / 1_000_000
            + " ms, end " + end / 1_000_000 + " ms");
    }

    @Test
    void uploadsAreStreamedToTheBackendBeforeTheyAreComplete() throws Exception {
        long size = 10L * 1024 * 1024;
        for (boolean knownLength : List.of(true, false)) {
            backends.firstMegabyte = new CountDownLatch(1);
            AtomicBoolean backendSawPartialUpload = new AtomicBoolean();
            InputStream body = heldUpload(size, backendSawPartialUpload);
            HttpRequest.BodyPublisher publisher = HttpRequest.BodyPublishers.ofInputStream(() -> body);
            if (knownLength) {
                publisher = HttpRequest.BodyPublishers.fromPublisher(publisher, size);
            }
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(api.base() + proxy("/v1", HTTP, "/upload")))
                .POST(publisher).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(String.valueOf(size), r.body());
            assertTrue(backendSawPartialUpload.get(), "the backend saw nothing before the upload was complete"
                + (knownLength ? " (Content-Length)" : " (chunked)"));
        }
    }

    /**
     * An upload body that holds its second half until the backend has read the first megabyte
     * (at most 20 s): a proxy that buffered the body would never get there.
     */
    private static InputStream heldUpload(long size, AtomicBoolean backendSawPartialUpload) {
        long half = size / 2;
        return new InputStream() {
            final byte[] block = ProxyBackends.pattern(64 * 1024);
            long sent;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (sent == size) {
                    return -1;
                }
                if (sent == half) {
                    try {
                        backendSawPartialUpload.set(backends.firstMegabyte.await(20, TimeUnit.SECONDS));
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                }
                int limit = (int) Math.min(Math.min(len, block.length), (sent < half ? half : size) - sent);
                System.arraycopy(block, 0, b, off, limit);
                sent += limit;
                return limit;
            }
        };
    }

    @Test
    void a200MegabyteDownloadStreamsWithBoundedHeap() throws Exception {
        long megabytes = 200;
        long baseline = usedHeapAfterGc();
        long start = System.nanoTime();
        HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(URI.create(api.base()
            + proxy("/v1", HTTP, "/download?mb=" + megabytes))).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        assertEquals(String.valueOf(megabytes * 1024 * 1024), r.headers().firstValue("Content-Length").orElse(null));
        byte[] expected = ProxyBackends.pattern(64 * 1024);
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        long midway = -1;
        try (InputStream in = r.body()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                for (int i = 0; i < n; i++) {
                    if (buffer[i] != expected[(int) ((total + i) % expected.length)]) {
                        throw new AssertionError("byte " + (total + i) + " differs");
                    }
                }
                total += n;
                if (midway < 0 && total >= megabytes * 1024 * 1024 / 2) {
                    midway = usedHeapAfterGc(); // the reader pauses here, so the proxy has to hold or stall
                }
            }
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        long growth = midway - baseline;
        System.out.printf("[measure] %d MB through the proxy in %d ms; heap after GC: %d MB before, %d MB midway (growth %d MB)%n",
            megabytes, millis, baseline >> 20, midway >> 20, growth >> 20);
        assertEquals(megabytes * 1024 * 1024, total);
        assertTrue(growth < 48L * 1024 * 1024, "heap grew by " + (growth >> 20) + " MB during a "
            + megabytes + " MB download");
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 2; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    // ------------------------------------------------------------ errors

    @Test
    void aPortNobodyListensOnIs502() {
        ApiTestServer.Response r = api.get(proxy("/v1", DEAD, "/x"));
        assertEquals(502, r.status(), r.toString());
        assertEquals("PROXY::BACKEND_UNREACHABLE", r.json().get("code").asText());
        assertTrue(r.json().get("message").asText().contains("Could not connect to the backend sandbox"));
        assertNotNull(r.header("X-Request-ID"));
    }

    @Test
    void aBackendThatDoesNotAnswerIs504() {
        long start = System.nanoTime();
        ApiTestServer.Response r = api.get(proxy("/v1", HTTP, "/slow"));
        assertEquals(504, r.status(), r.toString());
        assertEquals("PROXY::BACKEND_TIMEOUT", r.json().get("code").asText());
        assertTrue(System.nanoTime() - start < 5_000_000_000L, "the 2 s response timeout was not applied");
    }

    @Test
    void aQuietBackendOutlivesTheConnectionIdleTimeout() throws Exception {
        // Jetty's idle timeout (timeout_keep_alive) is for idle keep-alive connections, not for proxied exchanges.
        try (ApiTestServer quick = server(s -> new HttpSettings(null, List.of("*"), null, 0, Duration.ofSeconds(1), 128, 16)
            .withProxy(false, Duration.ofSeconds(10), null))) {
            String id = quick.createSandbox("/v1", null, null);
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(quick.base() + "/v1/sandboxes/" + id
                + "/proxy/" + HTTP + "/slow?ms=2500")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(204, r.statusCode(), r.body());
        }
    }

    @Test
    void unknownSandboxesAre404() {
        for (String id : List.of(UUID.randomUUID().toString(), "not-a-uuid")) {
            ApiTestServer.Response r = api.get("/v1/sandboxes/" + id + "/proxy/8080/x");
            assertEquals(404, r.status(), r.toString());
            assertEquals("DOCKER::SANDBOX_NOT_FOUND", r.json().get("code").asText());
        }
    }

    @Test
    void badPortsAre422Or400() {
        assertEquals(422, api.get("/v1/sandboxes/" + sandbox + "/proxy/http/x").status());
        ApiTestServer.Response r = api.get(proxy("/v1", 70000, "/x"));
        assertEquals(400, r.status());
        assertEquals("DOCKER::INVALID_PORT", r.json().get("code").asText());
    }

    @Test
    void pausedSandboxesAreAnsweredAtOnceWith409() {
        String paused = api.createSandbox("/v1", null, null);
        assertEquals(202, api.post("/v1/sandboxes/" + paused + "/pause", null).status());
        long start = System.nanoTime();
        ApiTestServer.Response r = api.get("/v1/sandboxes/" + paused + "/proxy/8080/x");
        assertEquals(409, r.status(), r.toString());
        assertEquals("DOCKER::SANDBOX_NOT_RUNNING", r.json().get("code").asText());
        assertTrue(r.json().get("message").asText().contains("paused"));
        assertTrue(System.nanoTime() - start < 2_000_000_000L);
    }

    @Test
    void anUpgradeHeaderWithoutAHandshakeIs400() throws IOException {
        // (Without "Connection: upgrade" Jetty itself already answers 400 before any handler runs.)
        RawResponse r = raw("POST " + proxy("/v1", HTTP, "/x") + " HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\n"
            + "Connection: Upgrade, close\r\nContent-Length: 0\r\n\r\n");
        assertEquals(400, r.status, r.toString());
        assertTrue(r.body.contains("PROXY::INVALID_UPGRADE"), r.body);
        assertTrue(r.body.contains("Websocket upgrade is not supported yet"), r.body);
    }

    // ------------------------------------------------------------ access

    @Test
    void secureAccessSandboxesRequireTheirToken() throws Exception {
        ApiTestServer.Response created = api.post("/v1/sandboxes", "{\"image\":{\"uri\":\"python:3.11\"},"
            + "\"entrypoint\":[\"tail\",\"-f\",\"/dev/null\"],\"resourceLimits\":{\"cpu\":\"500m\"},"
            + "\"secureAccess\":true}");
        assertEquals(202, created.status(), created.toString());
        String id = created.json().get("id").asText();
        JsonNode endpoint = api.get("/v1/sandboxes/" + id + "/endpoints/8080").json();
        String token = endpoint.path("headers").path("OpenSandbox-Secure-Access").asText(null);
        assertNotNull(token, endpoint.toString());
        String path = "/v1/sandboxes/" + id + "/proxy/8080/secure";

        ApiTestServer.Response missing = api.get(path);
        assertEquals(401, missing.status());
        assertEquals("PROXY::SECURE_ACCESS_REQUIRED", missing.json().get("code").asText());
        ApiTestServer.Response wrong = api.get(path, "OpenSandbox-Secure-Access", token + "x");
        assertEquals(401, wrong.status());
        assertEquals("PROXY::SECURE_ACCESS_INVALID", wrong.json().get("code").asText());
        assertEquals(200, api.get(path, "OpenSandbox-Secure-Access", token).status());

        // WebSockets too: the upgrade itself is refused.
        ExecutionException refused = assertThrows(ExecutionException.class, () -> client.newWebSocketBuilder()
            .buildAsync(URI.create(wsBase(api) + "/v1/sandboxes/" + id + "/proxy/" + WS + "/chat"), new Collector())
            .get(10, TimeUnit.SECONDS));
        WebSocketHandshakeException handshake = assertInstanceOf(WebSocketHandshakeException.class, refused.getCause());
        assertEquals(401, handshake.getResponse().statusCode());
        Collector ok = new Collector();
        WebSocket ws = client.newWebSocketBuilder().header("OpenSandbox-Secure-Access", token)
            .buildAsync(URI.create(wsBase(api) + "/v1/sandboxes/" + id + "/proxy/" + WS + "/chat"), ok)
            .get(10, TimeUnit.SECONDS);
        ws.sendText("hi", true).get(5, TimeUnit.SECONDS);
        assertEquals("echo:hi", ok.next());
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
    }

    @Test
    void theProxyNeedsNoApiKeyUnlessConfiguredTo() throws Exception {
        try (ApiTestServer open = ApiTestServer.builder().apiKey("k3y").runtime(memory -> api.runtime).start()) {
            // Sandboxes live in the shared runtime, the store is per server: the proxy only needs the runtime.
            assertEquals(200, open.get(proxy("/v1", HTTP, "/open")).status());
            assertEquals(401, open.get("/v1/sandboxes").status());
        }
        try (ApiTestServer strict = server(s -> new HttpSettings("k3y", List.of("*"), null)
            .withProxy(true, null, null))) {
            String id = strict.post("/v1/sandboxes", ApiTestServer.createBody(null, null), "OPEN-SANDBOX-API-KEY", "k3y")
                .json().get("id").asText();
            String path = "/v1/sandboxes/" + id + "/proxy/" + HTTP + "/strict";
            ApiTestServer.Response denied = strict.get(path);
            assertEquals(401, denied.status());
            assertEquals("MISSING_API_KEY", denied.json().get("code").asText());
            assertEquals(200, strict.get(path, "OPEN-SANDBOX-API-KEY", "k3y").status());
            assertNull(backends.seen.get().header("OPEN-SANDBOX-API-KEY"), "the key never reaches the sandbox");

            ExecutionException refused = assertThrows(ExecutionException.class, () -> client.newWebSocketBuilder()
                .buildAsync(URI.create(wsBase(strict) + "/v1/sandboxes/" + id + "/proxy/" + WS + "/chat"), new Collector())
                .get(10, TimeUnit.SECONDS));
            assertEquals(401, assertInstanceOf(WebSocketHandshakeException.class, refused.getCause()).getResponse().statusCode());
            WebSocket ws = client.newWebSocketBuilder().header("OPEN-SANDBOX-API-KEY", "k3y")
                .buildAsync(URI.create(wsBase(strict) + "/v1/sandboxes/" + id + "/proxy/" + WS + "/chat"), new Collector())
                .get(10, TimeUnit.SECONDS);
            assertNull(backends.wsHandshake.get().get("OPEN-SANDBOX-API-KEY"));
            ws.abort();
        }
    }

    // ------------------------------------------------------------ WebSocket

    @Test
    void webSocketsAreRelayedBothWaysWithTheBackendsSubprotocol() throws Exception {
        for (String prefix : List.of("", "/v1")) {
            backends.wsClosed = new CountDownLatch(1);
            Collector messages = new Collector();
            WebSocket ws = client.newWebSocketBuilder()
                .subprotocols("chat.v2", "chat.v1")
                .header("Authorization", "Bearer secret")
                .header("X-Trace", "ws-trace")
                .buildAsync(URI.create(wsBase(api) + proxy(prefix, WS, "/rooms/1?user=a%20b")), messages)
                .get(10, TimeUnit.SECONDS);
            assertEquals("chat.v1", ws.getSubprotocol(), "the backend chose the second offer");
            Map<String, List<String>> handshake = backends.wsHandshake.get();
            assertEquals("/rooms/1?user=a%20b", handshake.get(":uri").get(0));
            assertNull(handshake.get("Authorization"));
            assertEquals(List.of("ws-trace"), handshake.get("X-Trace"));

            ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
            assertEquals("echo:hello", messages.next());
            String big = "x".repeat(200_000); // beyond Jetty's 64 KiB default
            ws.sendText(big, true).get(5, TimeUnit.SECONDS);
            String echoed = messages.next();
            assertEquals(big.length() + 5, echoed.length(), () -> echoed.substring(0, Math.min(200, echoed.length())));
            assertEquals("echo:" + big, echoed);
            ws.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), true).get(5, TimeUnit.SECONDS);
            assertEquals("binary:[1, 2, 3, 4]", messages.next());

            // Client close: code and reason reach the backend.
            ws.sendClose(4002, "client bye").get(5, TimeUnit.SECONDS);
            assertTrue(backends.wsClosed.await(10, TimeUnit.SECONDS));
            assertTrue(backends.wsCloses.contains("4002 client bye"), backends.wsCloses.toString());
            assertEquals("close:4002 client bye", messages.next(), "the close handshake completes");
        }
        // Backend close: code and reason reach the client.
        Collector messages = new Collector();
        WebSocket ws = client.newWebSocketBuilder()
            .buildAsync(URI.create(wsBase(api) + proxy("/v1", WS, "/rooms/2")), messages).get(10, TimeUnit.SECONDS);
        ws.sendText("close-me", true).get(5, TimeUnit.SECONDS);
        assertEquals("close:4001 bye from backend", messages.next());
    }

    @Test
    void webSocketFailuresCloseWith1011Or1008() throws Exception {
        Collector dead = new Collector();
        client.newWebSocketBuilder().buildAsync(URI.create(wsBase(api) + proxy("/v1", DEAD, "/x")), dead)
            .get(10, TimeUnit.SECONDS);
        String close = dead.next();
        assertTrue(close.startsWith("close:1011 PROXY::BACKEND_UNREACHABLE"), close);

        Collector refused = new Collector(); // the HTTP backend answers the handshake with a plain 200
        client.newWebSocketBuilder().buildAsync(URI.create(wsBase(api) + proxy("/v1", HTTP, "/not-ws")), refused)
            .get(10, TimeUnit.SECONDS);
        assertEquals("close:1008 ", refused.next());

        Collector unknown = new Collector();
        client.newWebSocketBuilder().buildAsync(URI.create(wsBase(api) + "/v1/sandboxes/" + UUID.randomUUID()
            + "/proxy/" + WS + "/x"), unknown).get(10, TimeUnit.SECONDS);
        assertTrue(unknown.next().startsWith("close:1011 DOCKER::SANDBOX_NOT_FOUND"));
    }

    // ------------------------------------------------------------ helpers

    static String wsBase(ApiTestServer server) {
        return "ws://127.0.0.1:" + server.port();
    }

    /** Collects text messages, binary messages (as "binary:[...]") and the close ("close:CODE REASON"). */
    static final class Collector implements WebSocket.Listener {
        private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                events.add(text.toString());
                text.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            events.add("binary:" + Arrays.toString(bytes));
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            events.add("close:" + statusCode + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            events.add("error:" + error);
        }

        String next() throws InterruptedException {
            String event = events.poll(10, TimeUnit.SECONDS);
            assertNotNull(event, "no WebSocket event within 10 s");
            return event;
        }
    }

    record RawResponse(int status, Map<String, List<String>> headers, String body) {
    }

    /** One request written byte for byte (the JDK client refuses Connection, Upgrade and friends). */
    static RawResponse raw(String request) throws IOException {
        String withClose = request.contains("Connection:") ? request : request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n");
        try (Socket socket = new Socket("127.0.0.1", api.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(withClose.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            int split = response.indexOf("\r\n\r\n");
            String[] head = response.substring(0, split).split("\r\n");
            Map<String, List<String>> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (int i = 1; i < head.length; i++) {
                int colon = head[i].indexOf(':');
                headers.computeIfAbsent(head[i].substring(0, colon).trim(), k -> new java.util.ArrayList<>())
                    .add(head[i].substring(colon + 1).trim());
            }
            return new RawResponse(Integer.parseInt(head[0].split(" ")[1]), headers, response.substring(split + 4));
        }
    }
}
