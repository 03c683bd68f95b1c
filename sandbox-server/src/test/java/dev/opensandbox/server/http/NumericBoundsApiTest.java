package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AutoClose;

import java.util.List;

import static dev.opensandbox.server.http.ApiAssertions.assertError;
import static dev.opensandbox.server.http.ApiAssertions.assertJson;
import static dev.opensandbox.server.http.ApiAssertions.assertTimestamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Numbers a client sends that do not fit what the server can represent (64-bit integers,
 * durations, instants written in RFC 3339) are clear 4xx errors: never a 500, never silently
 * truncated into another value, never an answer the client cannot parse.
 */
class NumericBoundsApiTest {

    @AutoClose
    static final ApiTestServer api = ApiTestServer.start();

    private static String renew(String prefix, String id) {
        return prefix + "/sandboxes/" + id + "/renew-expiration";
    }

    @BothPrefixes
    void epochNumbersBeyondWhatRfc3339CanWriteAre400(String prefix) {
        String id = api.createSandbox(prefix, 600, null);
        // 1.5e15 is read as milliseconds: year 49503, which RFC 3339 cannot write.
        for (String number : List.of("1e30", "-1e30", "9e18", "1e19", "1.5e15", "9000000000000000000",
            "99999999999999999999", "1e999", "-1e999", "-1")) {
            JsonNode error = assertError(api.post(renew(prefix, id), "{\"expiresAt\":" + number + "}"), 400,
                "DOCKER::INVALID_EXPIRATION");
            assertTrue(error.get("message").asText().contains("expiresAt"), error::toString);
        }
        assertTimestamp("2030-01-02T03:14:05Z", api.get(prefix + "/sandboxes/" + id).json().get("expiresAt"));
    }

    @BothPrefixes
    void epochNumbersWithinRangeStillWork(String prefix) {
        String id = api.createSandbox(prefix, 600, null);
        assertTimestamp("2033-05-18T03:33:20Z", assertJson(api.post(renew(prefix, id),
            "{\"expiresAt\":2000000000}"), 200).get("expiresAt"));
        assertTimestamp("2033-05-18T03:33:20.500000Z", assertJson(api.post(renew(prefix, id),
            "{\"expiresAt\":2000000000500}"), 200).get("expiresAt"));
    }

    @BothPrefixes
    void aTimestampWhoseOffsetCarriesItPastYear9999Is400(String prefix) {
        String id = api.createSandbox(prefix, 600, null);
        assertError(api.post(renew(prefix, id), "{\"expiresAt\":\"9999-12-31T23:00:00-05:00\"}"), 400,
            "DOCKER::INVALID_EXPIRATION");
    }

    @BothPrefixes
    void aLogsSinceThatOverflowsIs400(String prefix) {
        String id = api.createSandbox(prefix, 600, null);
        for (String since : List.of("99999999999999999999s", "9223372036854775807d", "106751991167301d")) {
            assertError(api.get(prefix + "/sandboxes/" + id + "/diagnostics/logs?since=" + since), 400,
                "SANDBOX::INVALID_PARAMETER");
        }
    }

    @BothPrefixes
    void aLogsSinceBeforeTheEpochMeansAllLogs(String prefix) {
        String id = api.createSandbox(prefix, 600, null);
        ApiTestServer.Response logs = api.get(prefix + "/sandboxes/" + id + "/diagnostics/logs?since=100000000d");
        assertEquals(200, logs.status(), logs::toString);
    }

    @BothPrefixes
    void anIntegerBeyond64BitsIsNotTruncatedIntoAnotherValue(String prefix) {
        // 2^64 + 100: truncated to 64 bits it would read as a 100-second timeout.
        ApiTestServer.Response response = api.post(prefix + "/sandboxes", "{\"image\":{\"uri\":\"python:3.11\"},"
            + "\"entrypoint\":[\"tail\",\"-f\",\"/dev/null\"],\"resourceLimits\":{\"cpu\":\"500m\"},"
            + "\"timeout\":18446744073709551716}");
        JsonNode error = assertError(response, 422, "GENERAL::VALIDATION_ERROR");
        assertTrue(error.get("message").asText().contains("body.timeout"), error::toString);
    }
}
