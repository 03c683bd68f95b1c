package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.UnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.opensandbox.server.http.ApiAssertions.assertEmpty;
import static dev.opensandbox.server.http.ApiAssertions.assertError;
import static dev.opensandbox.server.http.ApiAssertions.assertJson;
import static dev.opensandbox.server.http.ApiAssertions.assertPagination;
import static dev.opensandbox.server.http.ApiAssertions.assertTimestamp;
import static dev.opensandbox.server.http.ApiAssertions.assertUuid;
import static dev.opensandbox.server.http.ApiAssertions.fieldNames;
import static dev.opensandbox.server.http.ApiAssertions.ids;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lifecycle routes over a real port with real JSON, against the in-memory runtime (which
 * speaks the Docker error codes). Every test runs at the root and under {@code /v1}.
 */
class LifecycleApiTest {

    private static final String START = "2030-01-02T03:04:05Z";
    private static final String VALIDATION = "GENERAL::VALIDATION_ERROR";
    private static final String NOT_FOUND = "DOCKER::SANDBOX_NOT_FOUND";
    private static final String IMAGE = "\"image\":{\"uri\":\"python:3.11\"}";
    private static final String LIMITS = "\"resourceLimits\":{\"cpu\":\"500m\",\"memory\":\"512Mi\"}";
    private static final String TAIL = "\"entrypoint\":[\"tail\",\"-f\",\"/dev/null\"]";

    ApiTestServer api;

    @BeforeEach
    void start() {
        api = ApiTestServer.start();
    }

    @AfterEach
    void stop() {
        api.close();
    }

    private String create(String prefix, Integer timeout, String metadata) {
        return api.createSandbox(prefix, timeout, metadata);
    }

    private ApiTestServer.Response createRaw(String prefix, String body) {
        return api.post(prefix + "/sandboxes", body);
    }

    private JsonNode getSandbox(String prefix, String id) {
        return assertJson(api.get(prefix + "/sandboxes/" + id), 200);
    }

    // =================================================================== create

    @Nested
    class Create {

        @BothPrefixes
        void createAnswers202WithTheSandboxAndExpiryFromTheTimeout(String prefix) {
            api.clock.advance(Duration.ofNanos(123_456_789)); // microseconds are kept, nanoseconds dropped
            ApiTestServer.Response response = createRaw(prefix, "{" + IMAGE + "," + TAIL + "," + LIMITS
                + ",\"timeout\":600,\"metadata\":{\"team\":\"a\",\"env\":\"prod\"}}");

            JsonNode json = assertJson(response, 202);
            assertUuid(json.get("id"));
            assertEquals("Running", json.at("/status/state").asText());
            assertTimestamp("2030-01-02T03:04:05.123456Z", json.get("createdAt"));
            assertTimestamp("2030-01-02T03:14:05.123456Z", json.get("expiresAt"));
            assertEquals(List.of("tail", "-f", "/dev/null"), strings(json.get("entrypoint")));
            assertEquals(Map.of("team", "a", "env", "prod"), ApiTestServer.JSON.convertValue(json.get("metadata"), Map.class));
            assertFalse(json.has("image"), "the create response never carries image");
            assertFalse(json.has("snapshotId"));
            assertNull(response.header("Location"));
        }

        @BothPrefixes
        void createWithoutTimeoutHasNoExpiresAtKey(String prefix) {
            JsonNode json = assertJson(createRaw(prefix, "{" + IMAGE + "," + TAIL + "," + LIMITS + "}"), 202);
            assertFalse(json.has("expiresAt"), json::toString);
            assertFalse(json.has("metadata"), "no metadata was sent, so none is echoed");
            assertTimestamp(START, json.get("createdAt"));
            assertFalse(getSandbox(prefix, json.get("id").asText()).has("expiresAt"));
        }

        @BothPrefixes
        void createAcceptsExplicitNullsForOptionalFields(String prefix) {
            // SDK 1.0.0 sends auth:null and extensions:null; SDK 1.0.12 sends timeout:null for manual cleanup.
            JsonNode json = assertJson(createRaw(prefix, "{\"image\":{\"uri\":\"python:3.11\",\"auth\":null},"
                + TAIL + "," + LIMITS + ",\"timeout\":null,\"extensions\":null,\"env\":null,\"metadata\":null,"
                + "\"platform\":null,\"volumes\":null,\"networkPolicy\":null,\"snapshotId\":null,"
                + "\"secureAccess\":null,\"credentialProxy\":null}"), 202);
            assertFalse(json.has("expiresAt"));
            assertEquals("Running", json.at("/status/state").asText());
        }

        @BothPrefixes
        void createIgnoresUnknownFields(String prefix) {
            JsonNode json = assertJson(createRaw(prefix, "{\"image\":{\"uri\":\"python:3.11\",\"digest\":\"x\"},"
                + TAIL + "," + LIMITS + ",\"timeout\":60,\"somethingNew\":{\"nested\":[1,2,3]},\"flag\":true}"), 202);
            assertTimestamp("2030-01-02T03:05:05Z", json.get("expiresAt"));
        }

        @BothPrefixes
        void createAcceptsSnakeCaseFieldNames(String prefix) {
            // Without the alias, resourceLimits would be missing (422); with it, the bad memory value is read (400).
            ApiTestServer.Response bad = createRaw(prefix, "{" + IMAGE + "," + TAIL
                + ",\"resource_limits\":{\"memory\":\"1.5Gi\"}}");
            assertTrue(assertError(bad, 400, "SANDBOX::INVALID_PARAMETER").get("message").asText()
                .contains("resourceLimits.memory"), bad::toString);

            assertJson(createRaw(prefix, "{" + IMAGE + "," + TAIL + ",\"resource_limits\":{\"memory\":\"1Gi\"}}"), 202);

            String source = create(prefix, 600, null);
            String snapshotId = assertJson(api.post(prefix + "/sandboxes/" + source + "/snapshots", "{}"), 202)
                .get("id").asText();
            JsonNode restored = assertJson(createRaw(prefix, "{\"snapshot_id\":\"" + snapshotId
                + "\",\"resource_limits\":{}}"), 202);
            assertEquals(List.of("tail", "-f", "/dev/null"), strings(restored.get("entrypoint")));
        }

        @BothPrefixes
        void createAcceptsLaxIntegers(String prefix) {
            JsonNode json = assertJson(createRaw(prefix, "{" + IMAGE + "," + TAIL + "," + LIMITS
                + ",\"timeout\":\"120\"}"), 202);
            assertTimestamp("2030-01-02T03:06:05Z", json.get("expiresAt"));
            json = assertJson(createRaw(prefix, "{" + IMAGE + "," + TAIL + "," + LIMITS + ",\"timeout\":60.0}"), 202);
            assertTimestamp("2030-01-02T03:05:05Z", json.get("expiresAt"));
        }

        @BothPrefixes
        void createEchoesAnEmptyMetadataMap(String prefix) {
            JsonNode json = assertJson(createRaw(prefix, "{" + IMAGE + "," + TAIL + "," + LIMITS + ",\"metadata\":{}}"), 202);
            assertTrue(json.get("metadata").isObject() && json.get("metadata").isEmpty(), json::toString);
        }

        @BothPrefixes
        void schemaViolationsAre422(String prefix) {
            String[] bodies = {
                "{" + LIMITS + "," + TAIL + "}",                                        // neither image nor snapshotId
                "{" + IMAGE + "," + LIMITS + "}",                                       // image without entrypoint
                "{" + IMAGE + "," + LIMITS + ",\"entrypoint\":[]}",                     // empty entrypoint
                "{" + IMAGE + "," + TAIL + "," + LIMITS + ",\"timeout\":10}",           // timeout < 60
                "{" + IMAGE + "," + TAIL + "," + LIMITS + ",\"timeout\":60.5}",         // fractional integer
                "{" + IMAGE + "," + TAIL + "}",                                         // no resourceLimits
                "{" + IMAGE + "," + TAIL + "," + LIMITS + ",\"env\":{\"A\":1}}",        // non-string env value
                "{" + IMAGE + "," + TAIL + "," + LIMITS + ",\"metadata\":{\"a\":null}}", // null metadata value
                "{\"image\":{\"uri\":\"x\",\"auth\":{\"username\":\"u\"}}," + TAIL + "," + LIMITS + "}",
                "{" + IMAGE + ",\"entrypoint\":\"tail\"," + LIMITS + "}",               // not a list
                "{\"image\":{\"uri\":\"python:3.11\"}," + TAIL + "," + LIMITS,          // malformed JSON
                "[]",
                "\"text\"",
            };
            for (String body : bodies) {
                assertError(createRaw(prefix, body), 422, VALIDATION);
            }
            assertError(api.post(prefix + "/sandboxes", null), 422, VALIDATION);
            assertError(api.post(prefix + "/sandboxes", "null"), 422, VALIDATION);
            assertEquals(0, api.memory.list().size(), "nothing was created");
        }

        @BothPrefixes
        void ruleViolationsAre400WithTheUpstreamCode(String prefix) {
            assertError(createRaw(prefix, "{" + IMAGE + "," + TAIL + "," + LIMITS
                + ",\"metadata\":{\"opensandbox.io/expires-at\":\"x\"}}"), 400, "SANDBOX::INVALID_METADATA_LABEL");
            assertError(createRaw(prefix, "{" + IMAGE + "," + TAIL + "," + LIMITS
                + ",\"metadata\":{\"team\":\"not a label!\"}}"), 400, "SANDBOX::INVALID_METADATA_LABEL");
            JsonNode memory = assertError(createRaw(prefix, "{" + IMAGE + "," + TAIL
                + ",\"resourceLimits\":{\"memory\":\"1.5Gi\"}}"), 400, "SANDBOX::INVALID_PARAMETER");
            assertTrue(memory.get("message").asText().contains("resourceLimits.memory"), memory::toString);
            assertError(createRaw(prefix, "{" + TAIL + "," + LIMITS + ",\"extensions\":{\"poolRef\":\"pool-a\"}}"),
                400, "SANDBOX::UNSUPPORTED_POOL_REF");
            assertError(createRaw(prefix, "{" + IMAGE + "," + TAIL + "," + LIMITS
                + ",\"platform\":{\"os\":\"darwin\",\"arch\":\"amd64\"}}"), 400, "SANDBOX::INVALID_PARAMETER");
            assertEquals(0, api.memory.list().size(), "nothing was created");
        }

        @BothPrefixes
        void aRuntimeFailureAnswersTheRuntimesCodeAndLeavesNothingBehind(String prefix) {
            api.memory.failNextCreate(new RuntimeFailureException("DOCKER::SANDBOX_IMAGE_PULL_FAILED",
                "Failed to pull image python:3.11: manifest unknown"));
            JsonNode error = assertError(createRaw(prefix, ApiTestServer.createBody(600, null)), 500,
                "DOCKER::SANDBOX_IMAGE_PULL_FAILED");
            assertEquals("Failed to pull image python:3.11: manifest unknown", error.get("message").asText());

            api.memory.failNextCreate(new UnavailableException("DOCKER::SANDBOX_EXECD_START_FAILED", "execd is down"));
            assertError(createRaw(prefix, ApiTestServer.createBody(600, null)), 503, "DOCKER::SANDBOX_EXECD_START_FAILED");

            JsonNode list = assertJson(api.get(prefix + "/sandboxes"), 200);
            assertEquals(0, list.get("items").size());
            assertTrue(api.store.findAll().isEmpty(), "no record is left behind");
            // Only the next create fails.
            create(prefix, 600, null);
        }

        @BothPrefixes
        void anEntrypointThatExitsNonZeroShowsFailedOnGet(String prefix) {
            JsonNode created = assertJson(createRaw(prefix, "{" + IMAGE + "," + LIMITS
                + ",\"entrypoint\":[\"sh\",\"-c\",\"exit 3\"]}"), 202);
            JsonNode sandbox = getSandbox(prefix, created.get("id").asText());
            assertEquals("Failed", sandbox.at("/status/state").asText());
            assertTrue(sandbox.at("/status/message").asText().contains("code 3"), sandbox::toString);
        }
    }

    // =================================================================== get

    @Nested
    class Get {

        @BothPrefixes
        void getReturnsTheFullSandbox(String prefix) {
            String id = create(prefix, 600, "{\"team\":\"a\"}");
            JsonNode json = getSandbox(prefix, id);
            assertEquals(id, json.get("id").asText());
            assertEquals("python:3.11", json.at("/image/uri").asText());
            assertEquals(List.of("uri"), fieldNames(json.get("image")), "image.auth is never returned");
            assertFalse(json.has("snapshotId"));
            assertEquals("Running", json.at("/status/state").asText());
            assertEquals(List.of("tail", "-f", "/dev/null"), strings(json.get("entrypoint")));
            assertEquals("a", json.at("/metadata/team").asText());
            assertTimestamp(START, json.get("createdAt"));
            assertTimestamp("2030-01-02T03:14:05Z", json.get("expiresAt"));
        }

        @BothPrefixes
        void aSandboxIsTheSameAtBothPrefixes(String prefix) {
            String id = create(prefix, 600, null);
            assertEquals(api.get("/sandboxes/" + id).json(), api.get("/v1/sandboxes/" + id).json());
        }
    }

    // =================================================================== list

    @Nested
    class ListSandboxes {

        @BothPrefixes
        void stateFilterIsACaseInsensitiveOr(String prefix) {
            String running = create(prefix, 600, null);
            api.clock.advance(Duration.ofSeconds(1));
            String paused = create(prefix, 600, null);
            assertEmpty(api.post(prefix + "/sandboxes/" + paused + "/pause", null), 202);

            assertEquals(List.of(running), ids(assertJson(api.get(prefix + "/sandboxes?state=running"), 200)));
            assertEquals(List.of(paused), ids(assertJson(api.get(prefix + "/sandboxes?state=PAUSED"), 200)));
            assertEquals(List.of(paused, running),
                ids(assertJson(api.get(prefix + "/sandboxes?state=Paused&state=rUnNiNg"), 200)));
            assertEquals(List.of(), ids(assertJson(api.get(prefix + "/sandboxes?state=Terminated"), 200)));
            assertEquals(List.of(), ids(assertJson(api.get(prefix + "/sandboxes?state="), 200)));
        }

        @BothPrefixes
        void metadataFilterIsAnAndOfExactPairs(String prefix) {
            String match = create(prefix, 600, "{\"team\":\"a\",\"env\":\"prod\"}");
            create(prefix, 600, "{\"team\":\"a\",\"env\":\"dev\"}");
            create(prefix, 600, "{\"team\":\"b\",\"env\":\"prod\"}");

            JsonNode list = assertJson(api.get(prefix + "/sandboxes?metadata=team%3Da%26env%3Dprod"), 200);
            assertEquals(List.of(match), ids(list));
            assertPagination(list, 1, 20, 1, 1, false);
            assertEquals(2, assertJson(api.get(prefix + "/sandboxes?metadata=team%3Da"), 200).get("items").size());
        }

        @BothPrefixes
        void metadataFilterIsDecodedTwiceAsTheGoSdkEncodesIt(String prefix) {
            String match = create(prefix, 600, "{\"example.com/team\":\"a\"}");
            create(prefix, 600, "{\"team\":\"a\"}");
            // Go: url.Values{"example.com/team": {"a"}}.Encode() = "example.com%2Fteam=a", then encoded again as the query value.
            assertEquals(List.of(match), ids(assertJson(api.get(prefix + "/sandboxes?metadata=example.com%252Fteam%3Da"), 200)));
            // Python sends the raw string, encoded once.
            assertEquals(List.of(match), ids(assertJson(api.get(prefix + "/sandboxes?metadata=example.com%2Fteam%3Da"), 200)));
            assertEquals(1, api.get(prefix + "/sandboxes?metadata=team%3Da").json().get("items").size());
        }

        @BothPrefixes
        void malformedMetadataFilterIs400(String prefix) {
            JsonNode error = assertError(api.get(prefix + "/sandboxes?metadata=a%3D1%26broken"), 400,
                "INVALID_METADATA_FORMAT");
            assertTrue(error.get("message").asText().contains("bad query field"), error::toString);
            assertError(api.get(prefix + "/sandboxes?metadata=a%3D1%26"), 400, "INVALID_METADATA_FORMAT");
        }

        @BothPrefixes
        void anEmptyMetadataValueMatchesTheEmptyString(String prefix) {
            String blank = create(prefix, 600, "{\"note\":\"\"}");
            create(prefix, 600, "{\"note\":\"x\"}");
            create(prefix, 600, null);
            assertEquals(List.of(blank), ids(assertJson(api.get(prefix + "/sandboxes?metadata=note%3D"), 200)));
        }

        @BothPrefixes
        void anEmptyMetadataParameterIsNoFilter(String prefix) {
            create(prefix, 600, "{\"team\":\"a\"}");
            create(prefix, 600, null);
            assertEquals(2, assertJson(api.get(prefix + "/sandboxes?metadata="), 200).get("items").size());
        }

        @BothPrefixes
        void pagesAreNewestFirstWithExactArithmetic(String prefix) {
            List<String> created = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                created.add(create(prefix, 600, null));
                api.clock.advance(Duration.ofSeconds(1));
            }
            List<String> newestFirst = new ArrayList<>(created);
            Collections.reverse(newestFirst);

            JsonNode all = assertJson(api.get(prefix + "/sandboxes"), 200);
            assertEquals(newestFirst, ids(all));
            assertPagination(all, 1, 20, 5, 1, false);

            JsonNode page1 = assertJson(api.get(prefix + "/sandboxes?page=1&pageSize=2"), 200);
            assertEquals(newestFirst.subList(0, 2), ids(page1));
            assertPagination(page1, 1, 2, 5, 3, true);
            JsonNode page2 = assertJson(api.get(prefix + "/sandboxes?page=2&pageSize=2"), 200);
            assertEquals(newestFirst.subList(2, 4), ids(page2));
            assertPagination(page2, 2, 2, 5, 3, true);
            JsonNode page3 = assertJson(api.get(prefix + "/sandboxes?page=3&pageSize=2"), 200);
            assertEquals(newestFirst.subList(4, 5), ids(page3));
            assertPagination(page3, 3, 2, 5, 3, false);
            JsonNode beyond = assertJson(api.get(prefix + "/sandboxes?page=4&pageSize=2"), 200);
            assertEquals(List.of(), ids(beyond));
            assertPagination(beyond, 4, 2, 5, 3, false);
            assertPagination(assertJson(api.get(prefix + "/sandboxes?pageSize=200"), 200), 1, 200, 5, 1, false);
        }

        @BothPrefixes
        void anEmptyListHasZeroPages(String prefix) {
            JsonNode list = assertJson(api.get(prefix + "/sandboxes"), 200);
            assertEquals(List.of(), ids(list));
            assertPagination(list, 1, 20, 0, 0, false);
        }

        @BothPrefixes
        void outOfRangePagingIs422(String prefix) {
            assertError(api.get(prefix + "/sandboxes?page=0"), 422, VALIDATION);
            assertError(api.get(prefix + "/sandboxes?page=-1"), 422, VALIDATION);
            assertError(api.get(prefix + "/sandboxes?pageSize=0"), 422, VALIDATION);
            assertError(api.get(prefix + "/sandboxes?pageSize=201"), 422, VALIDATION);
            assertError(api.get(prefix + "/sandboxes?page=abc"), 422, VALIDATION);
        }

        @BothPrefixes
        void aHugePageNumberIsAnEmptyPage(String prefix) {
            create(prefix, 600, null);
            JsonNode list = assertJson(api.get(prefix + "/sandboxes?page=99999999999999999999999&pageSize=200"), 200);
            assertEquals(List.of(), ids(list));
            assertEquals(1, list.at("/pagination/totalItems").asLong());
            assertFalse(list.at("/pagination/hasNextPage").asBoolean());
            list = assertJson(api.get(prefix + "/sandboxes?page=" + Long.MAX_VALUE), 200);
            assertEquals(List.of(), ids(list));
        }
    }

    // =================================================================== delete

    @Nested
    class Delete {

        @BothPrefixes
        void deleteIs204ThenTheSandboxIsGone(String prefix) {
            String id = create(prefix, 600, null);
            assertEmpty(api.delete(prefix + "/sandboxes/" + id), 204);
            assertError(api.get(prefix + "/sandboxes/" + id), 404, NOT_FOUND);
            JsonNode second = assertError(api.delete(prefix + "/sandboxes/" + id), 404, NOT_FOUND);
            assertEquals("Sandbox " + id + " not found.", second.get("message").asText());
            assertEquals(0, api.get(prefix + "/sandboxes").json().get("items").size());
        }
    }

    // =================================================================== metadata

    @Nested
    class PatchMetadata {

        @BothPrefixes
        void patchMergesAndNullDeletes(String prefix) {
            String id = create(prefix, 600, "{\"a\":\"1\",\"b\":\"2\"}");
            JsonNode patched = assertJson(api.patch(prefix + "/sandboxes/" + id + "/metadata",
                "{\"b\":null,\"c\":\"3\",\"absent\":null}"), 200);
            assertEquals(Map.of("a", "1", "c", "3"), ApiTestServer.JSON.convertValue(patched.get("metadata"), Map.class));
            assertEquals(id, patched.get("id").asText());
            assertEquals("python:3.11", patched.at("/image/uri").asText(), "the full sandbox is returned");
            assertEquals(patched.get("metadata"), getSandbox(prefix, id).get("metadata"));

            JsonNode cleared = assertJson(api.patch(prefix + "/sandboxes/" + id + "/metadata",
                "{\"a\":null,\"c\":null}"), 200);
            assertFalse(cleared.has("metadata"), "empty metadata is omitted");
        }

        @BothPrefixes
        void anEmptyPatchChangesNothing(String prefix) {
            String id = create(prefix, 600, "{\"a\":\"1\"}");
            JsonNode before = getSandbox(prefix, id);
            JsonNode after = assertJson(api.patch(prefix + "/sandboxes/" + id + "/metadata", "{}"), 200);
            assertEquals(before, after);
        }

        @BothPrefixes
        void aReservedKeyIs400WithoutNamespace(String prefix) {
            String id = create(prefix, 600, null);
            JsonNode error = assertError(api.patch(prefix + "/sandboxes/" + id + "/metadata",
                "{\"opensandbox.io/expires-at\":\"x\"}"), 400, "INVALID_METADATA_LABEL");
            assertTrue(error.get("message").asText().contains("opensandbox.io/expires-at"), error::toString);
            assertError(api.patch(prefix + "/sandboxes/" + id + "/metadata", "{\"opensandbox.io/x\":null}"), 400,
                "INVALID_METADATA_LABEL");
        }

        @BothPrefixes
        void aBadValueIs400WithTheSandboxNamespace(String prefix) {
            String id = create(prefix, 600, "{\"a\":\"1\"}");
            assertError(api.patch(prefix + "/sandboxes/" + id + "/metadata", "{\"a\":\"not valid!\"}"), 400,
                "SANDBOX::INVALID_METADATA_LABEL");
            assertEquals("1", getSandbox(prefix, id).at("/metadata/a").asText(), "a rejected patch changes nothing");
        }

        @BothPrefixes
        void aBodyThatIsNotAnObjectOfStringsIs422(String prefix) {
            String id = create(prefix, 600, null);
            String path = prefix + "/sandboxes/" + id + "/metadata";
            assertError(api.patch(path, "[]"), 422, VALIDATION);
            assertError(api.patch(path, "[{\"a\":\"1\"}]"), 422, VALIDATION);
            assertError(api.patch(path, "{\"a\":1}"), 422, VALIDATION);
            assertError(api.patch(path, "{bad"), 422, VALIDATION);
            assertError(api.patch(path, null), 422, VALIDATION);
        }
    }

    // =================================================================== pause / resume

    @Nested
    class PauseResume {

        @BothPrefixes
        void pauseAndResumeAre202WithAZeroLengthBody(String prefix) {
            String id = create(prefix, 600, null);
            ApiTestServer.Response paused = api.post(prefix + "/sandboxes/" + id + "/pause", null);
            assertEmpty(paused, 202);
            assertEquals("0", paused.header("Content-Length"), "the JS SDK needs Content-Length: 0");
            assertEquals("Paused", getSandbox(prefix, id).at("/status/state").asText());

            ApiTestServer.Response resumed = api.post(prefix + "/sandboxes/" + id + "/resume", null);
            assertEmpty(resumed, 202);
            assertEquals("0", resumed.header("Content-Length"));
            assertEquals("Running", getSandbox(prefix, id).at("/status/state").asText());
        }

        @BothPrefixes
        void pausingAPausedSandboxIs409NotRunning(String prefix) {
            String id = create(prefix, 600, null);
            assertEmpty(api.post(prefix + "/sandboxes/" + id + "/pause", null), 202);
            JsonNode error = assertError(api.post(prefix + "/sandboxes/" + id + "/pause", null), 409,
                "DOCKER::SANDBOX_NOT_RUNNING");
            assertEquals("Sandbox is not in a running state.", error.get("message").asText());
        }

        @BothPrefixes
        void resumingARunningSandboxIs409NotPaused(String prefix) {
            String id = create(prefix, 600, null);
            JsonNode error = assertError(api.post(prefix + "/sandboxes/" + id + "/resume", null), 409,
                "DOCKER::SANDBOX_NOT_PAUSED");
            assertEquals("Sandbox is not in a paused state.", error.get("message").asText());
        }

        @BothPrefixes
        void pausingAnExitedSandboxIs409NotRunning(String prefix) {
            String id = assertJson(createRaw(prefix, "{" + IMAGE + "," + LIMITS
                + ",\"entrypoint\":[\"sh\",\"-c\",\"exit 0\"]}"), 202).get("id").asText();
            assertEquals("Terminated", getSandbox(prefix, id).at("/status/state").asText());
            assertError(api.post(prefix + "/sandboxes/" + id + "/pause", null), 409, "DOCKER::SANDBOX_NOT_RUNNING");
        }
    }

    // =================================================================== renew

    @Nested
    class Renew {

        @BothPrefixes
        void renewAnswersTheNewExpiryInUtcWithMicroseconds(String prefix) {
            String id = create(prefix, 600, null);
            JsonNode json = assertJson(api.post(prefix + "/sandboxes/" + id + "/renew-expiration",
                "{\"expiresAt\":\"2030-01-02T12:00:00.123456789+08:00\"}"), 200);
            assertEquals(List.of("expiresAt"), fieldNames(json));
            assertTimestamp("2030-01-02T04:00:00.123456Z", json.get("expiresAt"));
            assertTimestamp("2030-01-02T04:00:00.123456Z", getSandbox(prefix, id).get("expiresAt"));
        }

        @BothPrefixes
        void renewAcceptsAnEarlierButFutureTimeAndSnakeCase(String prefix) {
            String id = create(prefix, 600, null);
            JsonNode json = assertJson(api.post(prefix + "/sandboxes/" + id + "/renew-expiration",
                "{\"expires_at\":\"2030-01-02T03:05:00Z\"}"), 200);
            assertTimestamp("2030-01-02T03:05:00Z", json.get("expiresAt"));
        }

        @BothPrefixes
        void renewToThePastOrNowIs400(String prefix) {
            String id = create(prefix, 600, null);
            JsonNode error = assertError(api.post(prefix + "/sandboxes/" + id + "/renew-expiration",
                "{\"expiresAt\":\"2030-01-01T00:00:00Z\"}"), 400, "DOCKER::INVALID_EXPIRATION");
            assertEquals("New expiration time must be in the future.", error.get("message").asText());
            assertError(api.post(prefix + "/sandboxes/" + id + "/renew-expiration",
                "{\"expiresAt\":\"" + START + "\"}"), 400, "DOCKER::INVALID_EXPIRATION");
            assertTimestamp("2030-01-02T03:14:05Z", getSandbox(prefix, id).get("expiresAt"));
        }

        @BothPrefixes
        void renewOfAManualCleanupSandboxIs409(String prefix) {
            String id = create(prefix, null, null);
            JsonNode error = assertError(api.post(prefix + "/sandboxes/" + id + "/renew-expiration",
                "{\"expiresAt\":\"2031-01-01T00:00:00Z\"}"), 409, "DOCKER::INVALID_EXPIRATION");
            assertEquals("Sandbox " + id + " does not have automatic expiration enabled.", error.get("message").asText());
        }

        @BothPrefixes
        void aBodyWithoutAValidDatetimeIs422(String prefix) {
            String id = create(prefix, 600, null);
            String path = prefix + "/sandboxes/" + id + "/renew-expiration";
            assertError(api.post(path, "{\"expiresAt\":\"not-a-datetime\"}"), 422, VALIDATION);
            assertError(api.post(path, "{\"expiresAt\":true}"), 422, VALIDATION);
            assertError(api.post(path, "{}"), 422, VALIDATION);
            assertError(api.post(path, null), 422, VALIDATION);
        }
    }

    // =================================================================== endpoints

    @Nested
    class Endpoints {

        @BothPrefixes
        void execdAndEgressPortsResolveRightAfterCreate(String prefix) {
            String id = create(prefix, 600, null);
            for (int port : new int[] {44772, 18080, 8080, 1, 65535}) {
                JsonNode json = assertJson(api.get(prefix + "/sandboxes/" + id + "/endpoints/" + port
                    + "?use_server_proxy=false"), 200);
                assertEquals("in-memory.invalid:" + port, json.get("endpoint").asText());
                assertEquals(List.of("endpoint"), fieldNames(json), "no headers key without headers");
            }
        }

        @BothPrefixes
        void serverProxyEndpointsAreSchemeLessAndRootPrefixed(String prefix) {
            String id = create(prefix, 600, null);
            JsonNode json = assertJson(api.get(prefix + "/sandboxes/" + id + "/endpoints/44772?use_server_proxy=true"), 200);
            assertEquals("127.0.0.1:" + api.port() + "/sandboxes/" + id + "/proxy/44772", json.get("endpoint").asText());
            json = assertJson(api.get(prefix + "/sandboxes/" + id + "/endpoints/18080?use_server_proxy=1"), 200);
            assertEquals("127.0.0.1:" + api.port() + "/sandboxes/" + id + "/proxy/18080", json.get("endpoint").asText());
        }

        @BothPrefixes
        void serverProxyEndpointsUseTheConfiguredEip(String prefix) {
            try (ApiTestServer eip = ApiTestServer.builder().eip("https://sandbox.example.com/opensandbox/").start()) {
                String id = eip.createSandbox(prefix, 600, null);
                JsonNode json = assertJson(eip.get(prefix + "/sandboxes/" + id + "/endpoints/44772?use_server_proxy=true"), 200);
                assertEquals("sandbox.example.com/opensandbox/sandboxes/" + id + "/proxy/44772", json.get("endpoint").asText());
            }
        }

        @BothPrefixes
        void portsOutsideTheRangeAre400(String prefix) {
            String id = create(prefix, 600, null);
            JsonNode error = assertError(api.get(prefix + "/sandboxes/" + id + "/endpoints/0"), 400, "DOCKER::INVALID_PORT");
            assertEquals("Port must be between 1 and 65535.", error.get("message").asText());
            assertError(api.get(prefix + "/sandboxes/" + id + "/endpoints/70000"), 400, "DOCKER::INVALID_PORT");
            assertError(api.get(prefix + "/sandboxes/" + id + "/endpoints/-1"), 400, "DOCKER::INVALID_PORT");
        }

        @BothPrefixes
        void malformedParametersAre422(String prefix) {
            String id = create(prefix, 600, null);
            assertError(api.get(prefix + "/sandboxes/" + id + "/endpoints/not-a-port"), 422, VALIDATION);
            assertError(api.get(prefix + "/sandboxes/" + id + "/endpoints/44772?use_server_proxy=maybe"), 422, VALIDATION);
            assertError(api.get(prefix + "/sandboxes/" + id + "/endpoints/44772?expires=soon"), 422, VALIDATION);
        }

        @BothPrefixes
        void signedRoutesAreRejected(String prefix) {
            String id = create(prefix, 600, null);
            JsonNode combined = assertError(api.get(prefix + "/sandboxes/" + id
                + "/endpoints/44772?use_server_proxy=true&expires=1"), 400, "SANDBOX::INVALID_PARAMETER");
            assertTrue(combined.get("message").asText().contains("use_server_proxy cannot be combined with expires"));
            JsonNode signed = assertError(api.get(prefix + "/sandboxes/" + id + "/endpoints/44772?expires=2000000000"),
                400, "SANDBOX::API_NOT_SUPPORTED");
            assertTrue(signed.get("message").asText().contains("not supported"), signed::toString);
        }
    }

    // =================================================================== snapshots

    @Nested
    class Snapshots {

        private JsonNode snapshot(String prefix, String sandboxId, String body) {
            return assertJson(api.post(prefix + "/sandboxes/" + sandboxId + "/snapshots", body), 202);
        }

        @BothPrefixes
        void createIsAccepted202WithLocationThenReady(String prefix) {
            String id = create(prefix, 600, null);
            ApiTestServer.Response response = api.post(prefix + "/sandboxes/" + id + "/snapshots", "{\"name\":\"snap-1\"}");
            JsonNode json = assertJson(response, 202);
            assertUuid(json.get("id"));
            String snapshotId = json.get("id").asText();
            assertEquals("/v1/snapshots/" + snapshotId, response.header("Location"), "always with /v1");
            assertEquals(id, json.get("sandboxId").asText());
            assertEquals("snap-1", json.get("name").asText());
            assertEquals("Creating", json.at("/status/state").asText());
            assertEquals("snapshot_accepted", json.at("/status/reason").asText());
            assertEquals("Snapshot creation accepted.", json.at("/status/message").asText());
            assertTimestamp(START, json.get("createdAt"));

            JsonNode ready = assertJson(api.get(prefix + "/snapshots/" + snapshotId), 200);
            assertEquals("Ready", ready.at("/status/state").asText());
            assertEquals(snapshotId, ready.get("id").asText());
            assertEquals(id, ready.get("sandboxId").asText());
            assertEquals(List.of("id", "sandboxId", "name", "status", "createdAt"), fieldNames(ready));
        }

        @BothPrefixes
        void theBodyIsOptionalAndAnEmptyNameIs422(String prefix) {
            String id = create(prefix, 600, null);
            assertFalse(snapshot(prefix, id, null).has("name"));
            assertFalse(snapshot(prefix, id, "{}").has("name"));
            assertFalse(snapshot(prefix, id, "null").has("name"));
            assertFalse(snapshot(prefix, id, "{\"other\":1}").has("name"));
            assertError(api.post(prefix + "/sandboxes/" + id + "/snapshots", "{\"name\":\"\"}"), 422, VALIDATION);
            assertError(api.post(prefix + "/sandboxes/" + id + "/snapshots", "{\"name\":5}"), 422, VALIDATION);
        }

        @BothPrefixes
        void aSnapshotOfAnExitedSandboxIs409(String prefix) {
            String id = assertJson(createRaw(prefix, "{" + IMAGE + "," + LIMITS
                + ",\"entrypoint\":[\"sh\",\"-c\",\"exit 3\"]}"), 202).get("id").asText();
            assertError(api.post(prefix + "/sandboxes/" + id + "/snapshots", null), 409, "SNAPSHOT::INVALID_SOURCE_STATE");
        }

        @BothPrefixes
        void listFiltersBySandboxAndCaseSensitiveStateAndPages(String prefix) {
            String a = create(prefix, 600, null);
            String b = create(prefix, 600, null);
            List<String> created = new ArrayList<>();
            for (String source : List.of(a, a, b)) {
                api.clock.advance(Duration.ofSeconds(1));
                created.add(snapshot(prefix, source, null).get("id").asText());
            }
            List<String> newestFirst = new ArrayList<>(created);
            Collections.reverse(newestFirst);

            JsonNode all = assertJson(api.get(prefix + "/snapshots"), 200);
            assertEquals(newestFirst, ids(all));
            assertPagination(all, 1, 20, 3, 1, false);
            assertEquals(List.of(created.get(1), created.get(0)), ids(assertJson(api.get(prefix + "/snapshots?sandboxId=" + a), 200)));
            assertEquals(List.of(created.get(2)), ids(api.get(prefix + "/snapshots?sandboxId=" + b).json()));
            assertEquals(List.of(), ids(api.get(prefix + "/snapshots?sandboxId=" + UUID.randomUUID()).json()));
            assertEquals(newestFirst, ids(api.get(prefix + "/snapshots?state=Ready").json()));
            assertEquals(newestFirst, ids(api.get(prefix + "/snapshots?state=Failed&state=Ready").json()));
            assertEquals(List.of(), ids(api.get(prefix + "/snapshots?state=Failed").json()));
            JsonNode wrongCase = assertJson(api.get(prefix + "/snapshots?state=ready"), 200);
            assertEquals(List.of(), ids(wrongCase));
            assertEquals(0, wrongCase.at("/pagination/totalItems").asLong());

            JsonNode page1 = assertJson(api.get(prefix + "/snapshots?pageSize=2"), 200);
            assertEquals(newestFirst.subList(0, 2), ids(page1));
            assertPagination(page1, 1, 2, 3, 2, true);
            JsonNode page2 = assertJson(api.get(prefix + "/snapshots?pageSize=2&page=2"), 200);
            assertEquals(newestFirst.subList(2, 3), ids(page2));
            assertPagination(page2, 2, 2, 3, 2, false);

            assertError(api.get(prefix + "/snapshots?page=0"), 422, VALIDATION);
            assertError(api.get(prefix + "/snapshots?pageSize=201"), 422, VALIDATION);
        }

        @BothPrefixes
        void unknownSnapshotsAre404(String prefix) {
            String unknown = UUID.randomUUID().toString();
            JsonNode error = assertError(api.get(prefix + "/snapshots/" + unknown), 404, "SNAPSHOT::NOT_FOUND");
            assertTrue(error.get("message").asText().contains(unknown));
            assertError(api.delete(prefix + "/snapshots/" + unknown), 404, "SNAPSHOT::NOT_FOUND");
            assertError(api.get(prefix + "/snapshots/not-even-a-uuid"), 404, "SNAPSHOT::NOT_FOUND");
        }

        @BothPrefixes
        void deleteIs204ThenTheSnapshotIsGone(String prefix) {
            String id = create(prefix, 600, null);
            String snapshotId = snapshot(prefix, id, null).get("id").asText();
            assertEmpty(api.delete(prefix + "/snapshots/" + snapshotId), 204);
            assertError(api.get(prefix + "/snapshots/" + snapshotId), 404, "SNAPSHOT::NOT_FOUND");
            assertError(api.delete(prefix + "/snapshots/" + snapshotId), 404, "SNAPSHOT::NOT_FOUND");
            assertEquals(0, api.get(prefix + "/snapshots").json().get("items").size());
        }

        @BothPrefixes
        void createFromASnapshotUsesTheDefaultEntrypoint(String prefix) {
            String source = create(prefix, 600, null);
            String snapshotId = snapshot(prefix, source, null).get("id").asText();
            JsonNode restored = assertJson(createRaw(prefix, "{\"snapshotId\":\"" + snapshotId
                + "\",\"resourceLimits\":{},\"timeout\":60}"), 202);
            assertEquals(List.of("tail", "-f", "/dev/null"), strings(restored.get("entrypoint")));
            assertFalse(restored.has("image"));

            JsonNode sandbox = getSandbox(prefix, restored.get("id").asText());
            assertEquals(snapshotId, sandbox.get("snapshotId").asText());
            assertFalse(sandbox.has("image"), "snapshot-restored sandboxes report snapshotId, never image");
            assertEquals("Running", sandbox.at("/status/state").asText());
        }

        @BothPrefixes
        void createFromAnUnknownSnapshotIs404(String prefix) {
            assertError(createRaw(prefix, "{\"snapshotId\":\"" + UUID.randomUUID() + "\",\"resourceLimits\":{}}"),
                404, "SNAPSHOT::NOT_FOUND");
            assertEquals(0, api.memory.list().size());
        }

        @BothPrefixes
        void imageAndSnapshotTogetherAre422(String prefix) {
            String source = create(prefix, 600, null);
            String snapshotId = snapshot(prefix, source, null).get("id").asText();
            assertError(createRaw(prefix, "{" + IMAGE + "," + TAIL + "," + LIMITS + ",\"snapshotId\":\"" + snapshotId + "\"}"),
                422, VALIDATION);
        }
    }

    // =================================================================== diagnostics

    @Nested
    class DiagnosticsRoutes {

        private String createEchoing(String prefix) {
            return assertJson(createRaw(prefix, "{" + IMAGE + "," + LIMITS
                + ",\"entrypoint\":[\"sh\",\"-c\",\"echo hello-from-sandbox; tail -f /dev/null\"]}"), 202)
                .get("id").asText();
        }

        private void assertText(ApiTestServer.Response response, boolean deprecated) {
            assertEquals(200, response.status(), response::toString);
            assertTrue(response.contentType().orElse("").startsWith("text/plain"), response::toString);
            assertEquals(deprecated ? "true" : null, response.header("Deprecation"), response::toString);
        }

        @BothPrefixes
        void logsWithoutScopeArePlainTextAndDeprecated(String prefix) {
            String id = createEchoing(prefix);
            ApiTestServer.Response logs = api.get(prefix + "/sandboxes/" + id + "/diagnostics/logs?tail=25&since=5m");
            assertText(logs, true);
            assertTrue(logs.body().contains("hello-from-sandbox"), logs::toString);
            String quiet = create(prefix, 600, null);
            ApiTestServer.Response none = api.get(prefix + "/sandboxes/" + quiet + "/diagnostics/logs");
            assertText(none, true);
            assertEquals("(no logs)\n", none.body());
        }

        @BothPrefixes
        void anyScopeIs501WithoutLookingUpTheSandbox(String prefix) {
            String id = create(prefix, 600, null);
            for (String path : List.of(id + "/diagnostics/logs?scope=container", id + "/diagnostics/events?scope=runtime",
                UUID.randomUUID() + "/diagnostics/logs?scope=", "not-a-uuid/diagnostics/events?scope=x")) {
                JsonNode error = assertError(api.get(prefix + "/sandboxes/" + path), 501, "DIAGNOSTICS_NOT_IMPLEMENTED");
                assertEquals("The stable Diagnostics API is not implemented by this OpenSandbox server.",
                    error.get("message").asText());
            }
        }

        @BothPrefixes
        void rangeChecksAre422(String prefix) {
            String id = create(prefix, 600, null);
            assertError(api.get(prefix + "/sandboxes/" + id + "/diagnostics/logs?tail=0"), 422, VALIDATION);
            assertError(api.get(prefix + "/sandboxes/" + id + "/diagnostics/logs?tail=10001"), 422, VALIDATION);
            assertError(api.get(prefix + "/sandboxes/" + id + "/diagnostics/logs?tail=0&scope=x"), 422, VALIDATION);
            assertError(api.get(prefix + "/sandboxes/" + id + "/diagnostics/events?limit=501"), 422, VALIDATION);
            assertError(api.get(prefix + "/sandboxes/" + id + "/diagnostics/summary?event_limit=0"), 422, VALIDATION);
        }

        @BothPrefixes
        void eventsInspectAndSummaryArePlainText(String prefix) {
            String id = createEchoing(prefix);
            ApiTestServer.Response events = api.get(prefix + "/sandboxes/" + id + "/diagnostics/events");
            assertText(events, true);
            assertTrue(events.body().contains("Created"), events::toString);

            ApiTestServer.Response inspect = api.get(prefix + "/sandboxes/" + id + "/diagnostics/inspect");
            assertText(inspect, false);
            assertTrue(inspect.body().contains("id: " + id), inspect::toString);
            assertTrue(inspect.body().contains("state: Running"), inspect::toString);

            ApiTestServer.Response summary = api.get(prefix + "/sandboxes/" + id + "/diagnostics/summary");
            assertText(summary, false);
            assertTrue(summary.body().contains("=== INSPECT ===") && summary.body().contains("=== EVENTS ===")
                && summary.body().contains("=== LOGS ===") && summary.body().contains("hello-from-sandbox"), summary::toString);
        }
    }

    // =================================================================== pools

    @Nested
    class Pools {

        @BothPrefixes
        void everyPoolRouteIs501OnThisRuntime(String prefix) {
            List<ApiTestServer.Response> responses = List.of(
                api.get(prefix + "/pools"),
                api.post(prefix + "/pools", "{\"name\":\"p\",\"template\":{},\"capacitySpec\":{\"bufferMax\":1,"
                    + "\"bufferMin\":0,\"poolMax\":1,\"poolMin\":0}}"),
                api.get(prefix + "/pools/p"),
                api.send("PUT", prefix + "/pools/p", "{\"capacitySpec\":{\"bufferMax\":1,\"bufferMin\":0,"
                    + "\"poolMax\":1,\"poolMin\":0}}"),
                api.delete(prefix + "/pools/p"));
            for (ApiTestServer.Response response : responses) {
                JsonNode error = assertError(response, 501, "KUBERNETES::POOL_NOT_SUPPORTED");
                assertEquals("Pool management is only available when runtime.type is 'kubernetes'.",
                    error.get("message").asText());
            }
        }
    }

    // =================================================================== unknown sandboxes

    @Nested
    class UnknownSandbox {

        @BothPrefixes
        void everySandboxRouteAnswers404ForAnUnknownUuid(String prefix) {
            create(prefix, 600, null); // something exists, just not this one
            assertAll404(prefix, UUID.randomUUID().toString());
        }

        @BothPrefixes
        void everySandboxRouteAnswers404ForANonUuidId(String prefix) {
            assertAll404(prefix, "not-a-uuid");
            assertAll404(prefix, "1-2-3-4-5");
        }

        private void assertAll404(String prefix, String id) {
            String base = prefix + "/sandboxes/" + id;
            List<ApiTestServer.Response> responses = List.of(
                api.get(base),
                api.delete(base),
                api.patch(base + "/metadata", "{\"a\":\"1\"}"),
                api.patch(base + "/metadata", "{}"),
                api.post(base + "/pause", null),
                api.post(base + "/resume", null),
                api.post(base + "/renew-expiration", "{\"expiresAt\":\"2031-01-01T00:00:00Z\"}"),
                api.get(base + "/endpoints/44772"),
                api.get(base + "/endpoints/18080?use_server_proxy=true"),
                api.post(base + "/snapshots", null),
                api.get(base + "/diagnostics/logs"),
                api.get(base + "/diagnostics/events"),
                api.get(base + "/diagnostics/inspect"),
                api.get(base + "/diagnostics/summary"));
            for (ApiTestServer.Response response : responses) {
                JsonNode error = assertError(response, 404, NOT_FOUND);
                assertEquals("Sandbox " + id + " not found.", error.get("message").asText(), response::toString);
            }
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(item -> values.add(item.asText()));
        return values;
    }
}
