package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.core.Pool;
import dev.opensandbox.core.testing.FakePoolRuntime;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static dev.opensandbox.server.http.ApiAssertions.assertEmpty;
import static dev.opensandbox.server.http.ApiAssertions.assertError;
import static dev.opensandbox.server.http.ApiAssertions.assertJson;
import static dev.opensandbox.server.http.ApiAssertions.fieldNames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pools routes over a real port, against the in-memory runtime with a fake pool runtime
 * attached (what the Kubernetes runtime offers). Every test runs at the root and under {@code /v1}.
 */
class PoolsApiTest {

    private static final String VALIDATION = "GENERAL::VALIDATION_ERROR";
    private static final String NOT_FOUND = "KUBERNETES::POOL_NOT_FOUND";
    private static final String TEMPLATE = "\"template\":{\"spec\":{\"containers\":[{\"name\":\"sandbox\","
        + "\"image\":\"python:3.11\"}]}}";
    private static final String CAPACITY = "\"capacitySpec\":{\"bufferMax\":3,\"bufferMin\":1,\"poolMax\":10,\"poolMin\":0}";

    final MutableClock poolClock = new MutableClock(Instant.parse("2030-01-02T03:04:05Z"));
    final FakePoolRuntime pools = new FakePoolRuntime(poolClock);
    ApiTestServer api;

    @BeforeEach
    void start() {
        api = ApiTestServer.builder().runtime(pools::attachTo).start();
    }

    @AfterEach
    void stop() {
        api.close();
    }

    private ApiTestServer.Response create(String prefix, String body) {
        return api.post(prefix + "/pools", body);
    }

    private void createPool(String prefix, String name) {
        assertEquals(201, create(prefix, "{\"name\":\"" + name + "\"," + TEMPLATE + "," + CAPACITY + "}").status());
    }

    /** Creates pool {@code p} with {@code capacityField} and returns the answered {@code capacitySpec}. */
    private JsonNode createdCapacity(String prefix, String capacityField) {
        return assertJson(create(prefix, "{\"name\":\"p\"," + TEMPLATE + "," + capacityField + "}"), 201).get("capacitySpec");
    }

    private ApiTestServer.Response put(String path, String body) {
        return api.send("PUT", path, body);
    }

    private static void assertCapacity(JsonNode capacity, int bufferMax, int bufferMin, int poolMax, int poolMin) {
        assertEquals(List.of("bufferMax", "bufferMin", "poolMax", "poolMin"), fieldNames(capacity));
        assertEquals(bufferMax, capacity.get("bufferMax").asInt());
        assertEquals(bufferMin, capacity.get("bufferMin").asInt());
        assertEquals(poolMax, capacity.get("poolMax").asInt());
        assertEquals(poolMin, capacity.get("poolMin").asInt());
    }

    // =================================================================== create

    @Nested
    class Create {

        @BothPrefixes
        void createAnswers201WithThePoolAndNoStatusYet(String prefix) {
            poolClock.advance(Duration.ofMillis(250));
            JsonNode pool = assertJson(create(prefix, "{\"name\":\"warm-python\"," + TEMPLATE + "," + CAPACITY + "}"), 201);

            assertEquals(List.of("name", "capacitySpec", "createdAt"), fieldNames(pool));
            assertEquals("warm-python", pool.get("name").asText());
            assertCapacity(pool.get("capacitySpec"), 3, 1, 10, 0);
            assertEquals("2030-01-02T03:04:05.250000Z", pool.get("createdAt").asText());
            assertEquals(List.of("create warm-python"), pools.calls());
        }

        @BothPrefixes
        void snakeCaseNamesAndLaxIntegersAreAccepted(String prefix) {
            assertCapacity(createdCapacity(prefix, "\"capacity_spec\":{\"buffer_max\":\"2\",\"buffer_min\":1.0,"
                + "\"pool_max\":4,\"pool_min\":0}"), 2, 1, 4, 0);
        }

        @BothPrefixes
        void theTemplateReachesTheRuntimeVerbatim(String prefix) {
            createPool(prefix, "p");

            assertEquals(Map.of("spec", Map.of("containers", List.of(Map.of("name", "sandbox", "image", "python:3.11")))),
                pools.get("p").template());
        }

        @BothPrefixes
        void aTakenNameIs409(String prefix) {
            createPool(prefix, "p");

            JsonNode error = assertError(create(prefix, "{\"name\":\"p\"," + TEMPLATE + "," + CAPACITY + "}"), 409,
                "KUBERNETES::POOL_ALREADY_EXISTS");
            assertEquals("Pool 'p' already exists.", error.get("message").asText());
        }

        @BothPrefixes
        void schemaViolationsAre422AndReachNoRuntime(String prefix) {
            String capacityWithout = "\"capacitySpec\":{\"bufferMax\":3,\"poolMax\":10,\"poolMin\":0}";
            Map<String, String> bodies = Map.ofEntries(
                Map.entry("", "body: Field required."),
                Map.entry("{not json", "body: JSON decode error"),
                Map.entry("[]", "body: Input should be a valid dictionary or object."),
                Map.entry("{" + TEMPLATE + "," + CAPACITY + "}", "body.name: Field required."),
                Map.entry("{\"name\":7," + TEMPLATE + "," + CAPACITY + "}", "body.name: Input should be a valid string."),
                Map.entry("{\"name\":\"p\"," + CAPACITY + "}", "body.template: Field required."),
                Map.entry("{\"name\":\"p\",\"template\":[]," + CAPACITY + "}",
                    "body.template: Input should be a valid dictionary."),
                Map.entry("{\"name\":\"p\"," + TEMPLATE + "}", "body.capacitySpec: Field required."),
                Map.entry("{\"name\":\"p\"," + TEMPLATE + "," + capacityWithout + "}",
                    "body.capacitySpec.bufferMin: Field required."),
                Map.entry("{\"name\":\"p\"," + TEMPLATE + ",\"capacitySpec\":{\"bufferMax\":1.5,\"bufferMin\":0,"
                    + "\"poolMax\":1,\"poolMin\":0}}", "body.capacitySpec.bufferMax: Input should be a valid integer"),
                Map.entry("{\"name\":\"p\"," + TEMPLATE + ",\"capacitySpec\":{\"bufferMax\":1,\"bufferMin\":0,"
                    + "\"poolMax\":2147483648,\"poolMin\":0}}", "body.capacitySpec.poolMax: Input should be a valid 32-bit integer."),
                Map.entry("{\"name\":\"p\"," + TEMPLATE + ",\"capacitySpec\":{\"bufferMax\":1,\"bufferMin\":-1,"
                    + "\"poolMax\":1,\"poolMin\":0}}", "capacitySpec.bufferMin must be greater than or equal to 0."),
                Map.entry("{\"name\":\"Warm_Python\"," + TEMPLATE + "," + CAPACITY + "}", "name 'Warm_Python' is invalid: "
                    + "must be at most 253 characters and match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$."),
                Map.entry("{\"name\":\"" + "a".repeat(254) + "\"," + TEMPLATE + "," + CAPACITY + "}",
                    "must be at most 253 characters"));
            bodies.forEach((body, message) -> {
                JsonNode error = assertError(create(prefix, body), 422, VALIDATION);
                assertTrue(error.get("message").asText().contains(message),
                    () -> body + " -> " + error.get("message").asText() + ", expected " + message);
            });
            assertTrue(pools.calls().isEmpty(), "nothing reached the runtime: " + pools.calls());
        }

        @BothPrefixes
        void capacityValuesAreNotCrossCheckedAsUpstream(String prefix) {
            assertCapacity(createdCapacity(prefix, "\"capacitySpec\":{\"bufferMax\":0,\"bufferMin\":5,\"poolMax\":1,"
                + "\"poolMin\":9}"), 0, 5, 1, 9);
        }
    }

    // =================================================================== read

    @Nested
    class Read {

        @BothPrefixes
        void listAnswersItemsWithoutPagination(String prefix) {
            JsonNode empty = assertJson(api.get(prefix + "/pools"), 200);
            assertEquals(List.of("items"), fieldNames(empty));
            assertEquals(0, empty.get("items").size());

            createPool(prefix, "a");
            createPool(prefix, "b");
            JsonNode list = assertJson(api.get(prefix + "/pools"), 200);

            assertEquals(List.of("items"), fieldNames(list));
            assertEquals(List.of("a", "b"), list.get("items").findValuesAsText("name"));
        }

        @BothPrefixes
        void getAnswersThePoolWithTheControllersStatus(String prefix) {
            createPool(prefix, "p");
            pools.reportStatus("p", new Pool.Status(4, 1, 2, "0123456789abcdef"));

            JsonNode pool = assertJson(api.get(prefix + "/pools/p"), 200);

            assertEquals(List.of("name", "capacitySpec", "status", "createdAt"), fieldNames(pool));
            JsonNode status = pool.get("status");
            assertEquals(List.of("total", "allocated", "available", "revision"), fieldNames(status));
            assertEquals(4, status.get("total").asInt());
            assertEquals(1, status.get("allocated").asInt());
            assertEquals(2, status.get("available").asInt());
            assertEquals("0123456789abcdef", status.get("revision").asText());
        }

        @BothPrefixes
        void anUnknownPoolIs404(String prefix) {
            JsonNode error = assertError(api.get(prefix + "/pools/missing"), 404, NOT_FOUND);
            assertEquals("Pool 'missing' not found.", error.get("message").asText());
            assertError(api.get(prefix + "/pools/Not_A_Name"), 404, NOT_FOUND);
        }
    }

    // =================================================================== update and delete

    @Nested
    class UpdateAndDelete {

        @BothPrefixes
        void putReplacesTheCapacity(String prefix) {
            createPool(prefix, "p");

            JsonNode pool = assertJson(put(prefix + "/pools/p",
                "{\"capacitySpec\":{\"bufferMax\":6,\"bufferMin\":2,\"poolMax\":20,\"poolMin\":1}}"), 200);

            assertEquals("p", pool.get("name").asText());
            assertCapacity(pool.get("capacitySpec"), 6, 2, 20, 1);
            assertCapacity(assertJson(api.get(prefix + "/pools/p"), 200).get("capacitySpec"), 6, 2, 20, 1);
        }

        @BothPrefixes
        void putOfAnUnknownPoolIs404(String prefix) {
            assertError(put(prefix + "/pools/missing", "{" + CAPACITY + "}"), 404, NOT_FOUND);
        }

        @BothPrefixes
        void putValidatesTheBody(String prefix) {
            createPool(prefix, "p");

            assertError(put(prefix + "/pools/p", "{}"), 422, VALIDATION);
            assertError(put(prefix + "/pools/p", ""), 422, VALIDATION);
            JsonNode error = assertError(put(prefix + "/pools/p",
                "{\"capacitySpec\":{\"bufferMax\":1,\"bufferMin\":0,\"poolMax\":1,\"poolMin\":-2}}"), 422, VALIDATION);
            assertEquals("capacitySpec.poolMin must be greater than or equal to 0.", error.get("message").asText());
            assertEquals(List.of("create p"), pools.calls());
        }

        @BothPrefixes
        void deleteAnswers204ThenTheNameIsUnknown(String prefix) {
            createPool(prefix, "p");

            assertEmpty(api.delete(prefix + "/pools/p"), 204);

            assertError(api.get(prefix + "/pools/p"), 404, NOT_FOUND);
            assertError(api.delete(prefix + "/pools/p"), 404, NOT_FOUND);
        }
    }

    // =================================================================== failures and other runtimes

    @BothPrefixes
    void platformFailuresAre500PoolApiError(String prefix) {
        pools.breakPlatform();

        for (ApiTestServer.Response response : List.of(
            create(prefix, "{\"name\":\"p\"," + TEMPLATE + "," + CAPACITY + "}"),
            api.get(prefix + "/pools"),
            api.get(prefix + "/pools/p"),
            put(prefix + "/pools/p", "{" + CAPACITY + "}"),
            api.delete(prefix + "/pools/p"))) {
            assertError(response, 500, "KUBERNETES::POOL_API_ERROR");
        }
    }

    @Test
    void poolRoutesNeedTheApiKey() {
        try (ApiTestServer secured = ApiTestServer.builder().apiKey("s3cret").runtime(pools::attachTo).start()) {
            assertError(secured.get("/v1/pools"), 401, "MISSING_API_KEY");
            assertEquals(200, secured.get("/v1/pools", "OPEN-SANDBOX-API-KEY", "s3cret").status());
        }
    }

    @BothPrefixes
    void withoutPoolsEveryRouteIs501BeforeTheBodyIsRead(String prefix) {
        try (ApiTestServer plain = ApiTestServer.start()) {
            for (ApiTestServer.Response response : List.of(
                plain.post(prefix + "/pools", "{not json"),
                plain.post(prefix + "/pools", "{}"),
                plain.send("PUT", prefix + "/pools/Not_A_Name", ""),
                plain.get(prefix + "/pools/Not_A_Name"))) {
                JsonNode error = assertError(response, 501, "KUBERNETES::POOL_NOT_SUPPORTED");
                assertEquals("Pool management is only available when runtime.type is 'kubernetes'.",
                    error.get("message").asText());
            }
        }
    }
}
