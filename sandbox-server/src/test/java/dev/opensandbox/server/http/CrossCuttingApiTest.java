package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static dev.opensandbox.server.http.ApiAssertions.HEX32;
import static dev.opensandbox.server.http.ApiAssertions.assertError;
import static dev.opensandbox.server.http.ApiAssertions.assertJson;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What every route shares: health, routing errors, request ids, authentication, CORS, unexpected failures. */
class CrossCuttingApiTest {

    private static final String KEY = "test-api-key-12345";
    private static final String KEY_HEADER = "OPEN-SANDBOX-API-KEY";
    private static final String MISSING_MESSAGE =
        "Authentication credentials are missing. Provide API key via OPEN-SANDBOX-API-KEY header.";
    private static final String INVALID_MESSAGE =
        "Authentication credentials are invalid. Check your API key and try again.";
    private static final String ORIGIN = "http://console.example.com:3000";

    private ApiTestServer api;

    private ApiTestServer open() {
        api = ApiTestServer.start();
        return api;
    }

    private ApiTestServer secured() {
        api = ApiTestServer.builder().apiKey(KEY).start();
        return api;
    }

    @AfterEach
    void stop() {
        if (api != null) {
            api.close();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    // =================================================================== health and routing

    @Nested
    class HealthAndRouting {

        @Test
        void healthIsHealthyWithoutAKeyEvenWhenOneIsConfigured() {
            secured();
            JsonNode json = assertJson(api.get("/health"), 200);
            assertEquals("{\"status\":\"healthy\"}", json.toString());
        }

        @Test
        void thereIsNoHealthUnderV1() {
            open();
            JsonNode error = assertError(api.get("/v1/health"), 404, "GENERAL::NOT_FOUND");
            assertEquals("Not Found", error.get("message").asText());
        }

        @Test
        void healthUnderV1NeedsTheKeyLikeAnyOtherPath() {
            secured();
            assertError(api.get("/v1/health"), 401, "MISSING_API_KEY");
            assertError(api.get("/v1/health", KEY_HEADER, KEY), 404, "GENERAL::NOT_FOUND");
        }

        @Test
        void unknownRoutesAre404WithCodeAndMessage() {
            open();
            for (String path : List.of("/nope", "/v1/nope", "/v2/sandboxes", "/sandboxes/x/unknown", "/v1/metrics/events")) {
                assertError(api.get(path), 404, "GENERAL::NOT_FOUND");
            }
            assertError(api.post("/v1/metrics/events", "{\"eventType\":\"sandbox.create\"}"), 404, "GENERAL::NOT_FOUND");
        }

        @Test
        void wrongMethodsAre405WithCodeAndMessage() {
            open();
            JsonNode error = assertError(api.send("PUT", "/v1/sandboxes", "{}"), 405, "GENERAL::METHOD_NOT_ALLOWED");
            assertEquals("Method Not Allowed", error.get("message").asText());
            assertError(api.send("PATCH", "/sandboxes", "{}"), 405, "GENERAL::METHOD_NOT_ALLOWED");
            assertError(api.delete("/v1/snapshots"), 405, "GENERAL::METHOD_NOT_ALLOWED");
            assertError(api.get("/v1/sandboxes/" + java.util.UUID.randomUUID() + "/pause"), 405,
                "GENERAL::METHOD_NOT_ALLOWED");
            assertError(api.post("/health", "{}"), 405, "GENERAL::METHOD_NOT_ALLOWED");
        }
    }

    // =================================================================== request id

    @Nested
    class RequestId {

        @Test
        void theInboundIdIsEchoedTrimmedOnSuccessAndErrors() {
            secured();
            assertEquals("req-2xx", api.get("/v1/sandboxes", KEY_HEADER, KEY, "X-Request-ID", "  req-2xx  ")
                .header("X-Request-ID"));
            assertEquals("req-401", api.get("/v1/sandboxes", "X-Request-ID", "req-401").header("X-Request-ID"));
            assertEquals("req-404", api.get("/v1/nope", KEY_HEADER, KEY, "X-Request-ID", "\treq-404")
                .header("X-Request-ID"));
            ApiTestServer.Response invalid = api.get("/v1/sandboxes?page=0", KEY_HEADER, KEY, "X-Request-ID", "req-422");
            assertEquals(422, invalid.status());
            assertEquals("req-422", invalid.header("X-Request-ID"));
            String uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
            assertEquals(uuid, api.get("/health", "X-Request-ID", uuid).header("X-Request-ID"));
            String longest = "a".repeat(128);
            assertEquals(longest, api.get("/health", "X-Request-ID", longest).header("X-Request-ID"));
        }

        @Test
        void anUnsafeInboundIdIsReplacedByAFreshOne() {
            open();
            for (String unsafe : List.of("a".repeat(129), "<script>", "id with spaces", "x\"y", "{json}")) {
                String id = api.get("/health", "X-Request-ID", unsafe).header("X-Request-ID");
                assertTrue(HEX32.matcher(id).matches(), () -> unsafe + " -> " + id);
            }
        }

        @Test
        void logLinesWrittenWhenASlowRuntimeCallEndsCarryTheRequestId() {
            api = ApiTestServer.builder().runtime(memory -> new ForwardingSandboxRuntime(memory) {
                @Override
                public Optional<Sandbox> inspect(SandboxId id) {
                    sleep(200); // the call ends on a runtime thread, after the HTTP thread moved on
                    return super.inspect(id);
                }
            }).start();
            ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ErrorResponses.class);
            ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                new ch.qos.logback.core.read.ListAppender<>();
            appender.start();
            ch.qos.logback.classic.Level previousLevel = logger.getLevel();
            logger.setLevel(ch.qos.logback.classic.Level.INFO); // rejections are logged at INFO
            logger.addAppender(appender);
            try {
                String unknown = java.util.UUID.randomUUID().toString();
                assertError(api.get("/v1/sandboxes/" + unknown, "X-Request-ID", "req-mdc-1"), 404, "DOCKER::SANDBOX_NOT_FOUND");
                assertError(api.delete("/v1/sandboxes/" + unknown, "X-Request-ID", "req-mdc-2"), 404,
                    "DOCKER::SANDBOX_NOT_FOUND");
                List<String> logged = appender.list.stream()
                    .filter(event -> event.getFormattedMessage().contains(unknown))
                    .map(event -> event.getMDCPropertyMap().get(Filters.MDC_REQUEST_ID))
                    .toList();
                assertEquals(List.of("req-mdc-1", "req-mdc-2"), logged);
            } finally {
                logger.detachAppender(appender);
                logger.setLevel(previousLevel);
            }
        }

        @Test
        void anIdIsGeneratedWhenAbsentOrBlank() {
            open();
            String first = api.get("/health").header("X-Request-ID");
            String second = api.get("/v1/sandboxes").header("X-Request-ID");
            String blank = api.get("/health", "X-Request-ID", "   ").header("X-Request-ID");
            for (String id : List.of(first, second, blank)) {
                assertTrue(id != null && HEX32.matcher(id).matches(), () -> "generated id " + id);
            }
            assertNotEquals(first, second);
            assertEquals(1, api.get("/health").headerValues("X-Request-ID").size());
        }
    }

    // =================================================================== authentication

    @Nested
    class Authentication {

        @Test
        void aMissingKeyIs401WithTheUpstreamMessage() {
            secured();
            for (ApiTestServer.Response response : List.of(api.get("/v1/sandboxes"), api.get("/sandboxes"),
                api.post("/v1/sandboxes", ApiTestServer.createBody(600, null)), api.get("/v1/pools"),
                api.delete("/v1/sandboxes/" + java.util.UUID.randomUUID()), api.get("/v1/nope"))) {
                JsonNode error = assertError(response, 401, "MISSING_API_KEY");
                assertEquals(MISSING_MESSAGE, error.get("message").asText());
                assertNull(response.header("WWW-Authenticate"));
            }
            assertEquals(0, api.memory.list().size(), "the create was not run");
        }

        @Test
        void anEmptyKeyHeaderCountsAsMissing() {
            secured();
            assertError(api.get("/v1/sandboxes", KEY_HEADER, ""), 401, "MISSING_API_KEY");
        }

        @Test
        void aWrongKeyIs401InvalidWithTheUpstreamMessage() {
            // (Surrounding whitespace is not part of an HTTP header value, so " " + KEY is the key itself.)
            secured();
            for (String wrong : List.of("nope", KEY + "x", KEY.toUpperCase(), KEY.substring(1), "x" + KEY)) {
                JsonNode error = assertError(api.get("/v1/sandboxes", KEY_HEADER, wrong), 401, "INVALID_API_KEY");
                assertEquals(INVALID_MESSAGE, error.get("message").asText());
            }
        }

        @Test
        void theRightKeyPassesWhateverTheHeaderNameCase() {
            secured();
            assertJson(api.get("/v1/sandboxes", KEY_HEADER, KEY), 200);
            assertJson(api.get("/sandboxes", "open-sandbox-api-key", KEY), 200);
            assertJson(api.post("/v1/sandboxes", ApiTestServer.createBody(600, null), KEY_HEADER, KEY), 202);
        }

        @Test
        void onlyTheExactPublicPathsAreExempt() {
            secured();
            assertEquals(200, api.get("/health").status());
            assertNotEquals(401, api.get("/openapi.json").status(), "/openapi.json is public");
            for (String path : List.of("/healthzzz", "/healthz", "/health/x", "/openapi.jsonx", "/v1/openapi.json")) {
                assertError(api.get(path), 401, "MISSING_API_KEY");
            }
        }

        @Test
        void proxyShapedPathsAreNotRejectedByAuthentication() {
            secured();
            for (String path : List.of("/sandboxes/abc-123/proxy/8080/foo/bar", "/v1/sandboxes/sid/proxy/443/",
                "/sandboxes/x/proxy/8080", "/v1/sandboxes/x/proxy/44772/ping?x=1")) {
                ApiTestServer.Response response = api.get(path);
                assertNotEquals(401, response.status(), () -> path + " -> " + response);
            }
        }

        @Test
        void pathsThatOnlyLookLikeTheProxyNeedTheKey() {
            secured();
            for (String path : List.of("/sandboxes/x/proxy/abc/", "/sandboxes/s1/proxy/not-a-port/x",
                "/sandboxes/x/proxy/8080x", "/proxy/sandboxes/anything", "/foo/sandboxes/id/proxy/8080",
                "/sandboxes/x/proxy/8080/file..txt", "/v1/sandboxes/x/proxy/8080/a/../b")) {
                assertError(api.get(path), 401, "MISSING_API_KEY");
            }
        }

        @Test
        void withoutAConfiguredKeyNothingIsAuthenticated() {
            open();
            assertJson(api.get("/v1/sandboxes"), 200);
            assertJson(api.get("/v1/sandboxes", KEY_HEADER, "anything"), 200);
        }
    }

    // =================================================================== CORS

    @Nested
    class Cors {

        private void assertCors(ApiTestServer.Response response) {
            assertEquals(ORIGIN, response.header("Access-Control-Allow-Origin"), response::toString);
            assertEquals("true", response.header("Access-Control-Allow-Credentials"), response::toString);
            assertTrue(response.headerValues("Vary").stream().anyMatch(v -> v.contains("Origin")), response::toString);
        }

        @Test
        void anOriginIsEchoedWithCredentialsOnSuccessAndErrors() {
            secured();
            ApiTestServer.Response ok = api.get("/v1/sandboxes", KEY_HEADER, KEY, "Origin", ORIGIN);
            assertEquals(200, ok.status());
            assertCors(ok);
            ApiTestServer.Response unauthorized = api.get("/v1/sandboxes", "Origin", ORIGIN);
            assertError(unauthorized, 401, "MISSING_API_KEY");
            assertCors(unauthorized);
            ApiTestServer.Response notFound = api.get("/v1/sandboxes/" + java.util.UUID.randomUUID(), KEY_HEADER, KEY,
                "Origin", ORIGIN);
            assertError(notFound, 404, "DOCKER::SANDBOX_NOT_FOUND");
            assertCors(notFound);
        }

        @Test
        void withoutAnOriginThereAreNoCorsHeaders() {
            open();
            ApiTestServer.Response response = api.get("/v1/sandboxes");
            assertNull(response.header("Access-Control-Allow-Origin"));
            assertNull(response.header("Access-Control-Allow-Credentials"));
        }

        @Test
        void aPreflightIsAnsweredBeforeAuthentication() {
            secured();
            for (String path : List.of("/v1/sandboxes", "/sandboxes/x/pause", "/anything/at/all")) {
                ApiTestServer.Response preflight = api.send("OPTIONS", path, null, "Origin", ORIGIN,
                    "Access-Control-Request-Method", "POST",
                    "Access-Control-Request-Headers", "content-type, open-sandbox-api-key, x-request-id");
                assertEquals(200, preflight.status(), preflight::toString);
                assertEquals("OK", preflight.body());
                assertTrue(preflight.contentType().orElse("").startsWith("text/plain"), preflight::toString);
                assertCors(preflight);
                assertEquals("600", preflight.header("Access-Control-Max-Age"));
                assertEquals("content-type, open-sandbox-api-key, x-request-id",
                    preflight.header("Access-Control-Allow-Headers"));
                String methods = preflight.header("Access-Control-Allow-Methods");
                for (String method : List.of("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")) {
                    assertTrue(methods.contains(method), methods);
                }
                assertTrue(HEX32.matcher(preflight.header("X-Request-ID")).matches());
            }
        }

        @Test
        void onlyConfiguredOriginsAreAllowed() {
            api = ApiTestServer.builder().corsOrigins(List.of(ORIGIN)).start();
            assertCors(api.get("/v1/sandboxes", "Origin", ORIGIN));
            ApiTestServer.Response other = api.get("/v1/sandboxes", "Origin", "http://evil.example");
            assertEquals(200, other.status());
            assertNull(other.header("Access-Control-Allow-Origin"));
        }
    }

    // =================================================================== unexpected failures

    @Nested
    class UnexpectedFailures {

        @Test
        void anUnexpectedExceptionIsA500WithTheGenericJsonBody() {
            api = ApiTestServer.builder().runtime(memory -> new ForwardingSandboxRuntime(memory) {
                @Override
                public List<Sandbox> list() {
                    throw new IllegalStateException("secret internal detail");
                }

                @Override
                public Optional<Sandbox> inspect(SandboxId id) {
                    throw new NullPointerException("another internal detail");
                }
            }).start();

            for (String path : List.of("/v1/sandboxes", "/sandboxes", "/v1/sandboxes/" + java.util.UUID.randomUUID())) {
                ApiTestServer.Response response = api.get(path, "X-Request-ID", "req-500", "Origin", ORIGIN);
                JsonNode error = assertError(response, 500, "GENERAL::UNKNOWN_ERROR");
                assertEquals("An unexpected error occurred.", error.get("message").asText());
                assertFalse(response.body().contains("detail"), "internals never leak");
                assertEquals("req-500", response.header("X-Request-ID"));
                assertEquals(ORIGIN, response.header("Access-Control-Allow-Origin"));
            }
            assertEquals(200, api.get("/health").status(), "the server keeps serving");
        }
    }
}
