package dev.opensandbox.it.secure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A small client of one server for the secure-defaults tests: the API key on every call, JSON helpers, a raw WebSocket handshake. */
final class SecureHttp {

    static final String SECURE_HEADER = "OpenSandbox-Secure-Access";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int port;
    private final String apiKey;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();

    SecureHttp(int port, String apiKey) {
        this.port = port;
        this.apiKey = apiKey;
    }

    /** One answer; {@code headers} lower-cased names. */
    record Reply(int status, Map<String, List<String>> headers, String body) {
        String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        @Override
        public String toString() {
            return status + " " + headers + " " + body;
        }
    }

    Reply send(String method, String path, String body, Map<String, String> headers) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(60))
            .header("OPEN-SANDBOX-API-KEY", apiKey)
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        headers.forEach(request::header);
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        Map<String, List<String>> lower = new java.util.TreeMap<>();
        response.headers().map().forEach((name, values) -> lower.put(name.toLowerCase(Locale.ROOT), values));
        return new Reply(response.statusCode(), lower, response.body());
    }

    JsonNode json(Reply reply) throws IOException {
        return JSON.readTree(reply.body());
    }

    /** Creates a sandbox that sleeps, with the given environment; returns its id. */
    String createSandbox(String image, boolean secureAccess, Map<String, String> env) throws Exception {
        return createSandbox("{\"image\":{\"uri\":\"" + image + "\"},\"entrypoint\":[\"sleep\",\"3600\"],\"timeout\":600,"
            + "\"resourceLimits\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"},\"secureAccess\":" + secureAccess
            + ",\"env\":" + JSON.writeValueAsString(env) + "}");
    }

    String createSandbox(String body) throws Exception {
        Reply created = send("POST", "/v1/sandboxes", body, Map.of());
        assertEquals(202, created.status(), created.toString());
        return json(created).path("id").asText();
    }

    /** The token the execd endpoint of a secure sandbox hands out. */
    String secureAccessToken(String sandbox) throws Exception {
        Reply endpoint = send("GET", "/v1/sandboxes/" + sandbox + "/endpoints/44772", null, Map.of());
        assertEquals(200, endpoint.status(), endpoint.toString());
        String token = json(endpoint).path("headers").path(SECURE_HEADER).asText("");
        assertFalse(token.isEmpty(), "no " + SECURE_HEADER + " header in " + endpoint);
        return token;
    }

    /** A WebSocket opening handshake over a raw socket; the status line, headers and any body of the answer. */
    Reply webSocketHandshake(String path, String token) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(20_000);
            String request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + "OPEN-SANDBOX-API-KEY: " + apiKey + "\r\n" + (token == null ? "" : SECURE_HEADER + ": " + token + "\r\n") + "\r\n";
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            InputStream in = socket.getInputStream();
            String[] status = line(in).split(" ", 3);
            Map<String, List<String>> headers = new java.util.TreeMap<>();
            for (String header = line(in); !header.isEmpty(); header = line(in)) {
                int colon = header.indexOf(':');
                headers.computeIfAbsent(header.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new java.util.ArrayList<>())
                    .add(header.substring(colon + 1).trim());
            }
            int code = Integer.parseInt(status[1]);
            String body = "";
            List<String> length = headers.get("content-length");
            if (code != 101 && length != null) {
                body = new String(in.readNBytes(Integer.parseInt(length.get(0))), StandardCharsets.UTF_8);
            }
            return new Reply(code, headers, body);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
            if (b != '\r') {
                out.write(b);
            }
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    /** A refusal: 401 or 403, {@code {code, message}} JSON with the given code. */
    static void assertRefused(Reply reply, String code) throws IOException {
        assertTrue(reply.status() == 401 || reply.status() == 403, "refused: " + reply);
        assertTrue(String.valueOf(reply.header("content-type")).startsWith("application/json"), "JSON: " + reply);
        JsonNode body = JSON.readTree(reply.body());
        assertEquals(code, body.path("code").asText(), reply.toString());
        assertFalse(body.path("message").asText("").isBlank(), reply.toString());
    }
}
