package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Assertions shared by the HTTP contract tests. */
final class ApiAssertions {

    /** RFC 3339 in UTC with {@code Z}; six fraction digits only when non-zero. */
    static final Pattern RFC3339_UTC = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{6})?Z");
    static final Pattern HEX32 = Pattern.compile("[0-9a-f]{32}");

    private ApiAssertions() {
    }

    /** An error response: the status, a JSON body with exactly {@code code} and {@code message}, the code. */
    static JsonNode assertError(ApiTestServer.Response response, int status, String code) {
        assertEquals(status, response.status(), () -> "status of " + response);
        assertJsonContentType(response);
        JsonNode json = response.json();
        assertEquals(List.of("code", "message"), fieldNames(json), () -> "error keys of " + response);
        assertEquals(code, json.get("code").asText(), () -> "code of " + response);
        assertTrue(json.get("message").isTextual() && !json.get("message").asText().isBlank(),
            () -> "message of " + response);
        assertTrue(response.header("X-Request-ID") != null, () -> "X-Request-ID on " + response);
        return json;
    }

    /** The same for a response read from a raw connection. */
    static JsonNode assertError(RawHttp.Response response, int status, String code) {
        assertEquals(status, response.status(), () -> "status of " + response);
        String type = response.header("Content-Type");
        assertTrue(type != null && type.startsWith("application/json"), () -> "Content-Type of " + response);
        JsonNode json = response.json();
        assertEquals(List.of("code", "message"), fieldNames(json), () -> "error keys of " + response);
        assertEquals(code, json.get("code").asText(), () -> "code of " + response);
        assertTrue(json.get("message").isTextual() && !json.get("message").asText().isBlank(),
            () -> "message of " + response);
        return json;
    }

    static void assertJsonContentType(ApiTestServer.Response response) {
        String type = response.contentType().orElse("");
        assertTrue(type.startsWith("application/json"), () -> "Content-Type of " + response);
    }

    /** A 2xx JSON response with no null anywhere in it; returns the body. */
    static JsonNode assertJson(ApiTestServer.Response response, int status) {
        assertEquals(status, response.status(), () -> "status of " + response);
        assertJsonContentType(response);
        JsonNode json = response.json();
        assertNoNulls(json, "$");
        return json;
    }

    /** Null fields are omitted, never written as null. */
    static void assertNoNulls(JsonNode node, String path) {
        if (node.isNull()) {
            fail("null at " + path);
        }
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> assertNoNulls(e.getValue(), path + "." + e.getKey()));
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                assertNoNulls(node.get(i), path + "[" + i + "]");
            }
        }
    }

    static void assertTimestamp(String expected, JsonNode actual) {
        assertTrue(actual != null && actual.isTextual(), () -> "timestamp missing: " + actual);
        assertTrue(RFC3339_UTC.matcher(actual.asText()).matches(), () -> "not RFC 3339 UTC: " + actual);
        if (expected != null) {
            assertEquals(expected, actual.asText());
        }
    }

    static void assertUuid(JsonNode id) {
        assertTrue(id != null && id.isTextual(), "id must be a string");
        assertEquals(id.asText(), UUID.fromString(id.asText()).toString(), "id must be a canonical lowercase UUID");
    }

    /** An empty success: the status, no body, and a declared zero length (the JS SDK needs it). */
    static void assertEmpty(ApiTestServer.Response response, int status) {
        assertEquals(status, response.status(), () -> "status of " + response);
        assertEquals("", response.body());
        assertFalse(response.contentType().isPresent(), () -> "an empty body has no Content-Type: " + response);
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        Iterator<String> it = node.fieldNames();
        it.forEachRemaining(names::add);
        return names;
    }

    static List<String> ids(JsonNode list) {
        List<String> ids = new ArrayList<>();
        list.get("items").forEach(item -> ids.add(item.get("id").asText()));
        return ids;
    }

    static void assertPagination(JsonNode list, long page, int pageSize, long totalItems, long totalPages,
                                 boolean hasNextPage) {
        JsonNode p = list.get("pagination");
        assertEquals(List.of("page", "pageSize", "totalItems", "totalPages", "hasNextPage"), fieldNames(p));
        assertEquals(page, p.get("page").asLong(), "page");
        assertEquals(pageSize, p.get("pageSize").asInt(), "pageSize");
        assertEquals(totalItems, p.get("totalItems").asLong(), "totalItems");
        assertEquals(totalPages, p.get("totalPages").asLong(), "totalPages");
        assertEquals(hasNextPage, p.get("hasNextPage").asBoolean(), "hasNextPage");
    }
}
