package dev.opensandbox.server.http;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static dev.opensandbox.server.http.ApiAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * JSON API bodies are bounded in size whatever their framing (a declared length or chunks) and
 * in time: a body that stops arriving is answered with JSON, not held for the connection's idle
 * timeout. The proxy and the execd upload stream their bodies and are not limited (see
 * {@link ReverseProxyTest#uploadsAreStreamedToTheBackendBeforeTheyAreComplete()}).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RequestBodyApiTest {

    /** The server waits at most this long for the next bytes of a body. */
    private static final Duration BODY_READ_TIMEOUT = Duration.ofMillis(500);

    @AutoClose
    static final ApiTestServer api = ApiTestServer.builder()
        .settings(s -> s.withRequestBodies(HttpSettings.DEFAULT_MAX_REQUEST_BODY_BYTES, BODY_READ_TIMEOUT))
        .start();

    private static String head(String method, String path, String framing) {
        return method + " " + path + " HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n" + framing + "\r\n";
    }

    private static byte[] chunk(int size) {
        byte[] data = new byte[size];
        Arrays.fill(data, (byte) ' ');
        byte[] header = (Integer.toHexString(size) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] chunk = new byte[header.length + size + 2];
        System.arraycopy(header, 0, chunk, 0, header.length);
        System.arraycopy(data, 0, chunk, header.length, size);
        chunk[chunk.length - 2] = '\r';
        chunk[chunk.length - 1] = '\n';
        return chunk;
    }

    @Test
    void aBodyShorterThanItsContentLengthIsAnswered408AfterTheReadTimeout() {
        try (RawHttp http = RawHttp.connect(api.port(), Duration.ofSeconds(10))) {
            // 10 of the 100 announced bytes, and the connection stays open: the server cannot know more will not come.
            http.write(head("POST", "/v1/sandboxes", "Content-Length: 100\r\n") + "{\"image\":");
            assertError(http.read(), 408, "GENERAL::REQUEST_TIMEOUT");
        }
    }

    @Test
    void aBodyCutShortByTheClientIs400() throws Exception {
        try (RawHttp http = RawHttp.connect(api.port(), Duration.ofSeconds(10))) {
            http.write(head("POST", "/v1/sandboxes/" + java.util.UUID.randomUUID() + "/renew-expiration",
                "Content-Length: 100\r\n") + "{\"expiresAt\":");
            http.shutdownOutput();
            assertError(http.read(), 400, "GENERAL::BAD_REQUEST");
        }
    }

    @Test
    void aDeclaredLengthOverTheLimitIs413BeforeAnyBodyIsSent() {
        try (RawHttp http = RawHttp.connect(api.port(), Duration.ofSeconds(10))) {
            http.write(head("POST", "/v1/sandboxes", "Content-Length: 10485760\r\n"));
            RawHttp.Response response = http.read();
            assertError(response, 413, "GENERAL::REQUEST_TOO_LARGE");
            assertEquals("close", response.header("Connection"));
        }
    }

    @Test
    void aChunkedBodyOverTheLimitIs413AsSoonAsTheLimitIsPassed() {
        try (RawHttp http = RawHttp.connect(api.port(), Duration.ofSeconds(10))) {
            http.write(head("POST", "/v1/sandboxes", "Transfer-Encoding: chunked\r\n"));
            // Past the limit, then nothing more (no last chunk): only a reader that stops at the limit answers.
            long sent = 0;
            while (sent <= HttpSettings.DEFAULT_MAX_REQUEST_BODY_BYTES && http.tryWrite(chunk(64 * 1024))) {
                sent += 64 * 1024;
            }
            RawHttp.Response response = http.read();
            assertError(response, 413, "GENERAL::REQUEST_TOO_LARGE");
            assertTrue(response.json().get("message").asText().contains(
                String.valueOf(HttpSettings.DEFAULT_MAX_REQUEST_BODY_BYTES)), response.toString());
        }
    }

    @Test
    void aChunkedBodyWithinTheLimitIsRead() {
        String body = ApiTestServer.createBody(null, null);
        try (RawHttp http = RawHttp.connect(api.port(), Duration.ofSeconds(10))) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            http.write(head("POST", "/v1/sandboxes", "Transfer-Encoding: chunked\r\nConnection: close\r\n"))
                .write(Integer.toHexString(bytes.length) + "\r\n").write(bytes).write("\r\n0\r\n\r\n");
            RawHttp.Response response = http.read();
            assertEquals(202, response.status(), response.toString());
        }
    }

    @Test
    void aBodyThatStallsHalfwayIsAnswered408() {
        try (RawHttp http = RawHttp.connect(api.port(), Duration.ofSeconds(10))) {
            http.write(head("PATCH", "/v1/sandboxes/" + java.util.UUID.randomUUID() + "/metadata",
                "Transfer-Encoding: chunked\r\n")).write(chunk(10));
            assertError(http.read(), 408, "GENERAL::REQUEST_TIMEOUT");
        }
    }
}
