package dev.opensandbox.server.http;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static dev.opensandbox.server.http.ApiAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Errors that Jetty answers itself, before any route runs (the request line, the headers, the
 * WebSocket mapping), are {@code {code, message}} JSON like every other error, not HTML pages.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JettyErrorsApiTest {

    @AutoClose
    static final ApiTestServer api = ApiTestServer.start();

    private static RawHttp.Response send(String request) {
        return RawHttp.exchange(api.port(), request);
    }

    private static void assertJettyError(RawHttp.Response response, int status, String code) {
        assertError(response, status, code);
        assertNotNull(response.header("X-Request-ID"), () -> "X-Request-ID on " + response);
    }

    @Test
    void aTenKilobyteUriIs414() {
        String uri = "/v1/sandboxes?metadata=" + "a".repeat(10 * 1024);
        assertJettyError(send("GET " + uri + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"), 414,
            "GENERAL::URI_TOO_LONG");
    }

    @Test
    void headersLargerThanTheLimitAre431() {
        String header = "X-Big: " + "b".repeat(20 * 1024) + "\r\n";
        assertJettyError(send("GET /v1/sandboxes HTTP/1.1\r\nHost: h\r\n" + header + "Connection: close\r\n\r\n"), 431,
            "GENERAL::REQUEST_HEADER_FIELDS_TOO_LARGE");
    }

    @Test
    void aMalformedHeaderLineIs400() {
        assertJettyError(send("GET /v1/sandboxes HTTP/1.1\r\nHost: h\r\nNo colon here\r\nConnection: close\r\n\r\n"), 400,
            "GENERAL::BAD_REQUEST");
    }

    @Test
    void aMalformedRequestLineIs400() {
        assertJettyError(send("GET\u0001/v1/sandboxes HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"), 400,
            "GENERAL::BAD_REQUEST");
    }

    @Test
    void aBrokenPercentEncodingIs400() {
        assertJettyError(send("GET /v1/sandboxes/%zz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"), 400,
            "GENERAL::BAD_REQUEST");
    }

    @Test
    void aLegacyUtf16EscapeInAPathParameterIs400NotAFailedDecode() {
        for (String path : java.util.List.of("/v1/sandboxes/%ud800", "/sandboxes/%ud800/renew-expiration",
            "/v1/sandboxes/x/proxy/44772/command/%u12/logs", "/v1/sandboxes/%")) {
            assertJettyError(send("GET " + path + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"), 400,
                "GENERAL::BAD_REQUEST");
        }
    }

    @Test
    void anUnsupportedHttpVersionIs505() {
        assertJettyError(send("GET /v1/sandboxes HTTP/3.7\r\nHost: h\r\nConnection: close\r\n\r\n"), 505,
            "GENERAL::HTTP_VERSION_NOT_SUPPORTED");
    }

    @Test
    void aWebSocketUpgradeToAPathWithoutWebSocketsIs404() {
        for (String path : java.util.List.of("/v1/nope", "/v1/sandboxes", "/health")) {
            assertJettyError(send("GET " + path + " HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"), 404,
                "GENERAL::NOT_FOUND");
        }
    }

    @Test
    void aWebSocketUpgradeWithABadVersionIs400() {
        assertJettyError(send("GET /v1/sandboxes/x/proxy/80 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 99\r\n"
            + "Connection: close\r\n\r\n"), 400, "GENERAL::BAD_REQUEST");
    }

    @Test
    void errorsOfMethodsWithoutAnErrorPageByDefaultStillHaveABody() {
        assertJettyError(send("DELETE /v1/nope HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"), 404, "GENERAL::NOT_FOUND");
    }
}
