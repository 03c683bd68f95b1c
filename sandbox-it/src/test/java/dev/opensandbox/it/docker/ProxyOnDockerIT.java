package dev.opensandbox.it.docker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.it.docker.BuiltInExecdDockerIT.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.opensandbox.it.docker.BuiltInExecdDockerIT.send;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The reverse proxy {@code /v1/sandboxes/{id}/proxy/{port}/...} on the real Docker engine, against
 * servers running inside a plain busybox sandbox: server-sent events relayed as they are produced,
 * a WebSocket echoed both ways and closed normally, a 200 MiB download relayed in bounded memory,
 * and a 502 in JSON for a port nobody listens on.
 *
 * <p>The backends come from {@code proxy-backends/}: busybox {@code httpd} runs two CGI scripts
 * (an SSE stream and 200 MiB of zeros) on 8080, and {@code nc -ll -e} runs a shell RFC 6455 echo
 * server per connection on 9000. They are uploaded and started through the server's built-in
 * execd, on the proxy route itself. One sandbox serves every test; it carries this class's
 * {@code run} metadata label and is removed after the class.
 */
class ProxyOnDockerIT {

    private static final String RUN = UUID.randomUUID().toString();
    private static final int HTTPD_PORT = 8080;
    private static final int WS_PORT = 9000;
    private static final int UNUSED_PORT = 9999;
    private static final long DOWNLOAD_BYTES = 200L * 1024 * 1024;
    private static final long HEAP_GROWTH_LIMIT_BYTES = 48L * 1024 * 1024;
    private static final String WS_CLOSE_LOG = "/tmp/ws-close.log";
    /** A plain client: the proxy route answers without the API key. */
    private static final HttpClient HTTP = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();

    @TempDir
    static Path dir;

    private static DockerServerStack stack;
    private static String id;

    @BeforeAll
    static void startServerSandboxAndBackends() {
        assumeTrue(ServerOnDockerIT.docker("info").exit() == 0, "no Docker engine reachable: `docker info` failed");
        stack = new DockerServerStack(dir.resolve("store.db"), Map.of("network_mode", "bridge"), Duration.ofSeconds(5));
        DockerServerStack.Reply created = stack.call("POST", "/v1/sandboxes",
            "{\"image\":{\"uri\":\"" + ServerOnDockerIT.IMAGE + "\"},\"entrypoint\":[\"sleep\",\"3600\"],"
                + "\"resourceLimits\":{\"cpu\":\"1\",\"memory\":\"128Mi\"},\"timeout\":600,"
                + "\"metadata\":{\"suite\":\"proxy-on-docker\",\"run\":\"" + RUN + "\"}}");
        assertEquals(202, created.status(), created.body());
        id = created.json().get("id").asText();

        upload("/www/index.html", 644, "ok".getBytes(StandardCharsets.UTF_8));
        upload("/www/cgi-bin/sse", 755, resource("sse.cgi"));
        upload("/www/cgi-bin/zeros", 755, resource("zeros.cgi"));
        upload("/opt/proxy-backends/ws-echo.sh", 755, resource("ws-echo.sh"));
        startInBackground("{\"command\":\"httpd -f -p " + HTTPD_PORT + " -h /www\",\"background\":true}");
        startInBackground("{\"command\":\"nc -ll -p " + WS_PORT + " -e /opt/proxy-backends/ws-echo.sh\","
            + "\"envs\":{\"WS_CLOSE_LOG\":\"" + WS_CLOSE_LOG + "\"},\"background\":true}");

        assertTrue(ServerOnDockerIT.waitUntil(Duration.ofSeconds(20), () -> {
            Response index = get(proxyUrl(HTTPD_PORT, "/index.html"));
            return index.status() == 200 && index.text().equals("ok");
        }), "httpd answers through the proxy: " + get(proxyUrl(HTTPD_PORT, "/index.html")));
        // A plain GET has no Sec-WebSocket-Key: the echo script answers it with 400, which shows nc is listening.
        assertTrue(ServerOnDockerIT.waitUntil(Duration.ofSeconds(20), () -> get(proxyUrl(WS_PORT, "/")).status() == 400),
            "the WebSocket echo server answers through the proxy: " + get(proxyUrl(WS_PORT, "/")));
    }

    @AfterAll
    static void removeEverything() {
        if (stack != null) {
            stack.close();
        }
        ServerOnDockerIT.removeContainersOfRun(RUN);
    }

    // ------------------------------------------------------------ SSE

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void serverSentEventsReachTheClientAsTheBackendWritesThem() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(proxyUrl(HTTPD_PORT, "/cgi-bin/sse")))
            .timeout(Duration.ofSeconds(20)).header("Accept", "text/event-stream").GET().build();
        long start = System.nanoTime();
        HttpResponse<InputStream> response = HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertEquals("text/event-stream", response.headers().firstValue("Content-Type").orElse(""), response.headers().toString());

        List<String> events = new ArrayList<>();
        List<Long> arrivedMillis = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.startsWith("data:")) {
                    events.add(line);
                    arrivedMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                }
            }
        }
        System.out.printf("proxy SSE: events %s arrived %s ms after the request%n", events, arrivedMillis);

        assertEquals(List.of("data: one", "data: two"), events);
        long first = arrivedMillis.get(0);
        long last = arrivedMillis.get(1);
        assertAll(
            () -> assertTrue(first < 2_000, "the first event arrived " + first + " ms after the request, before the stream ended"),
            () -> assertTrue(last >= 2_500, "the last event arrived " + last + " ms after the request, when the backend wrote it"));
    }

    // ------------------------------------------------------------ WebSocket

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aWebSocketEchoesTextBothWaysAndClosesNormallyEndToEnd() throws Exception {
        Collector collector = new Collector();
        String url = "ws://127.0.0.1:" + stack.api.port() + "/v1/sandboxes/" + id + "/proxy/" + WS_PORT + "/echo";
        WebSocket ws = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
            .buildAsync(URI.create(url), collector).get(20, TimeUnit.SECONDS);

        String small = "hello through the proxy";
        String large = "ünïcödé, 100% \\ and a 16-bit length: " + "x".repeat(200);
        ws.sendText(small, true).get(5, TimeUnit.SECONDS);
        assertEquals(small, collector.texts.poll(10, TimeUnit.SECONDS), "the first message came back");
        ws.sendText(large, true).get(5, TimeUnit.SECONDS);
        assertEquals(large, collector.texts.poll(10, TimeUnit.SECONDS), "the second message came back");

        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
        int closeCode = collector.closed.get(10, TimeUnit.SECONDS);
        assertEquals(WebSocket.NORMAL_CLOSURE, closeCode, "a normal close");
        assertEquals(List.of(), List.copyOf(collector.texts), "nothing else arrived");
        assertTrue(ServerOnDockerIT.waitUntil(Duration.ofSeconds(10),
            () -> download(WS_CLOSE_LOG).trim().equals("1000")),
            "the backend received the client's close with status 1000: '" + download(WS_CLOSE_LOG) + "'");
    }

    /** Collects text messages and the close status of one WebSocket. */
    private static final class Collector implements WebSocket.Listener {
        final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                texts.add(partial.toString());
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.completeExceptionally(error);
        }
    }

    // ------------------------------------------------------------ large download

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void a200MibDownloadIsRelayedInFullWithBoundedServerHeap() throws Exception {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long baseline = heapAfterGc(memory);
        HttpRequest request = HttpRequest.newBuilder(URI.create(proxyUrl(HTTPD_PORT, "/cgi-bin/zeros")))
            .timeout(Duration.ofSeconds(30)).GET().build();

        long start = System.nanoTime();
        HttpResponse<InputStream> response = HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertEquals(String.valueOf(DOWNLOAD_BYTES), response.headers().firstValue("Content-Length").orElse(""),
            response.headers().toString());

        long total = 0;
        int nonZero = 0;
        long peak = baseline;
        List<Long> samplesMib = new ArrayList<>();
        long nextSample = DOWNLOAD_BYTES / 10;
        byte[] buffer = new byte[64 * 1024];
        try (InputStream body = response.body()) {
            for (int n = body.read(buffer); n >= 0; n = body.read(buffer)) {
                for (int i = 0; i < n; i++) {
                    nonZero |= buffer[i];
                }
                total += n;
                if (total >= nextSample) {
                    long used = heapAfterGc(memory);
                    samplesMib.add(used >> 20);
                    peak = Math.max(peak, used);
                    nextSample += DOWNLOAD_BYTES / 10;
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long growth = peak - baseline;
        System.out.printf("proxy download: %d bytes in %.2f s = %.1f MB/s; heap after GC %d MiB before, samples %s MiB,"
                + " peak growth %.1f MiB (limit %d MiB)%n", total, seconds, total / 1e6 / seconds, baseline >> 20, samplesMib,
            growth / 1048576.0, HEAP_GROWTH_LIMIT_BYTES >> 20);

        assertEquals(DOWNLOAD_BYTES, total, "every byte arrived");
        assertEquals(0, nonZero, "the bytes are the backend's zeros");
        assertTrue(samplesMib.size() >= 9, "the heap was sampled during the transfer: " + samplesMib);
        assertTrue(growth < HEAP_GROWTH_LIMIT_BYTES, "the heap grew by " + (growth >> 20) + " MiB while relaying 200 MiB");
    }

    private static long heapAfterGc(MemoryMXBean memory) {
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    // ------------------------------------------------------------ nobody listening

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aPortNobodyListensOnAnswers502WithAJsonError() {
        Response response = get(proxyUrl(UNUSED_PORT, "/anything?x=1"));
        assertEquals(502, response.status(), response.text());
        assertTrue(response.header("Content-Type").startsWith("application/json"), response.headers().toString());
        JsonNode error = response.json();
        assertAll(
            () -> assertEquals("PROXY::BACKEND_UNREACHABLE", error.path("code").asText(), response.text()),
            () -> assertTrue(error.path("message").isTextual() && !error.path("message").asText().isBlank(), response.text()));
    }

    // ------------------------------------------------------------ helpers

    private static String proxyUrl(int port, String pathAndQuery) {
        return "http://127.0.0.1:" + stack.api.port() + "/v1/sandboxes/" + id + "/proxy/" + port + pathAndQuery;
    }

    private static Response get(String url) {
        return send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).GET());
    }

    private static HttpRequest.Builder execd(String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.api.port() + "/sandboxes/" + id
            + "/proxy/44772" + pathAndQuery)).timeout(Duration.ofSeconds(30));
    }

    private static byte[] resource(String name) {
        try (InputStream in = ProxyOnDockerIT.class.getResourceAsStream("/proxy-backends/" + name)) {
            assertNotNull(in, "test resource proxy-backends/" + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a file into the sandbox through the built-in execd's multipart upload. */
    private static void upload(String path, int mode, byte[] content) {
        String boundary = "opensandbox-it-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(("--" + boundary + "\r\n"
            + "Content-Disposition: form-data; name=\"metadata\"\r\n"
            + "Content-Type: application/json\r\n\r\n"
            + "{\"path\":\"" + path + "\",\"mode\":" + mode + "}\r\n"
            + "--" + boundary + "\r\n"
            + "Content-Disposition: form-data; name=\"file\"; filename=\"" + Path.of(path).getFileName() + "\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(content);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        Response response = send(execd("/files/upload").header("Content-Type", "multipart/form-data; boundary=" + boundary)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
        assertEquals(200, response.status(), "upload " + path + ": " + response.text());
    }

    private static String download(String path) {
        Response response = send(execd("/files/download?path=" + java.net.URLEncoder.encode(path, StandardCharsets.UTF_8)).GET());
        return response.status() == 200 ? response.text() : "";
    }

    /** Starts a background command; its stream ends at once with init and execution_complete. */
    private static void startInBackground(String commandJson) {
        Response response = send(execd("/command").header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(commandJson)));
        assertEquals(200, response.status(), response.text());
        assertTrue(response.text().contains("execution_complete"), "started in the background: " + response.text());
    }
}
