package dev.opensandbox.it.fuzz;

import dev.opensandbox.it.fuzz.FuzzClient.Exchange;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fuzzer's oracle refuses what the issue saw and lets a correct server through. */
class ResponseRulesTest {

    private static final String JSON = "application/json";

    private static Exchange answer(String method, String target, int status, String type, String body, String... headers) {
        FuzzRequest request = FuzzRequest.of("test", method, target, List.of(), null);
        Map<String, List<String>> map = new java.util.TreeMap<>();
        if (type != null) {
            map.put("content-type", List.of(type));
        }
        for (int i = 0; i < headers.length; i += 2) {
            map.put(headers[i].toLowerCase(java.util.Locale.ROOT), List.of(headers[i + 1]));
        }
        return new Exchange(request, status, map, body.getBytes(StandardCharsets.UTF_8), 1, null, false);
    }

    private static List<String> rules(Exchange exchange) {
        return ResponseRules.violations(exchange);
    }

    @Test
    void aJsonClientErrorPasses() {
        assertEquals(List.of(), rules(answer("GET", "/v1/sandboxes/x", 404, JSON,
            "{\"code\":\"DOCKER::SANDBOX_NOT_FOUND\",\"message\":\"Sandbox x not found.\"}")));
    }

    @Test
    void jettysHtmlErrorPagesAreRefused() {
        List<String> broken = rules(answer("GET", "/health", 431, "text/html;charset=iso-8859-1",
            "<h1>Bad Message 431</h1>"));
        assertTrue(broken.stream().anyMatch(b -> b.contains("is not JSON")), broken.toString());
    }

    @Test
    void anyServerFaultIsRefusedEvenAsJson() {
        List<String> broken = rules(answer("POST", "/v1/sandboxes/x/renew-expiration", 500, JSON,
            "{\"code\":\"GENERAL::UNKNOWN_ERROR\",\"message\":\"An unexpected error occurred.\"}"));
        assertEquals(List.of("server fault: 500 GENERAL::UNKNOWN_ERROR"), broken);
    }

    @Test
    void blankOrMissingFieldsAreRefused() {
        assertEquals(2, rules(answer("GET", "/v1/sandboxes", 400, JSON, "{\"code\":\"\"}")).size());
        assertEquals(1, rules(answer("GET", "/v1/sandboxes", 400, JSON, "[]")).size());
    }

    @Test
    void theProxysGatewayAnswersAreAllowedOnlyForBackendsWithAProxyCode() {
        assertEquals(List.of(), rules(answer("GET", "/sandboxes/x/proxy/8080/a", 502, JSON,
            "{\"code\":\"PROXY::BACKEND_UNREACHABLE\",\"message\":\"m\"}")));
        assertEquals(1, rules(answer("GET", "/sandboxes/x/proxy/8080/a", 502, JSON,
            "{\"code\":\"DOCKER::X\",\"message\":\"m\"}")).size());
        assertEquals(1, rules(answer("GET", "/sandboxes/x/proxy/44772/ping", 502, JSON,
            "{\"code\":\"PROXY::BACKEND_UNREACHABLE\",\"message\":\"m\"}")).size(), "the built-in execd has no backend");
        assertEquals(1, rules(answer("GET", "/v1/sandboxes", 503, JSON, "{\"code\":\"c\",\"message\":\"m\"}")).size());
    }

    @Test
    void aBackendsOwnAnswerIsTheBackendsBusiness() {
        assertEquals(List.of(), rules(answer("PUT", "/sandboxes/x/proxy/8080/a", 501, "text/html", "<h1>501</h1>",
            ResponseRules.BACKEND_HEADER, "yes")));
    }

    @Test
    void theUnexpectedFailureCodeIsRefusedOnClientErrors() {
        List<String> broken = rules(answer("POST", "/v1/sandboxes", 413, JSON,
            "{\"code\":\"GENERAL::UNKNOWN_ERROR\",\"message\":\"Content Too Large\"}"));
        assertEquals(1, broken.size(), broken.toString());
    }

    @Test
    void aRenewalMustAnswerAnRfc3339Expiry() {
        assertEquals(List.of(), rules(answer("POST", "/v1/sandboxes/x/renew-expiration", 200, JSON,
            "{\"expiresAt\":\"2030-01-02T03:04:05Z\"}")));
        assertEquals(1, rules(answer("POST", "/sandboxes/x/renew-expiration", 200, JSON,
            "{\"expiresAt\":\"+49503-02-10T02:40:00Z\"}")).size());
    }

    @Test
    void noAnswerIsRefusedUnlessTheRequestBrokeHttpItself() {
        FuzzRequest wellFormed = FuzzRequest.of("test", "GET", "/health", List.of(), null);
        assertEquals(1, rules(new Exchange(wellFormed, -1, Map.of(), new byte[0], 1, "closed", true)).size());
        FuzzRequest broken = wellFormed.overRawSocket("HTTP/1.1x", true);
        assertEquals(List.of(), rules(new Exchange(broken, -1, Map.of(), new byte[0], 1, "closed", true)));
        assertEquals(1, rules(new Exchange(broken, -1, Map.of(), new byte[0], 1, "no response within 15 s", false)).size());
    }

    @Test
    void aHeadErrorHasNoBodyToCheck() {
        assertEquals(List.of(), rules(answer("HEAD", "/v1/sandboxes/x", 404, JSON, "")));
    }

    @Test
    void onlyARequestBeyondTheHeaderLimitsMayEndInAResetOrACutAnswer() {
        FuzzRequest huge = FuzzRequest.of("test", "GET", "/v1/sandboxes/" + "p".repeat(9000), List.of(), null);
        FuzzRequest normal = FuzzRequest.of("test", "GET", "/v1/sandboxes/x", List.of(), null);
        Exchange reset = new Exchange(huge, -1, Map.of(), new byte[0], 1, "connection reset", true);
        Exchange cut = new Exchange(huge, 414, Map.of("content-type", List.of(JSON)), new byte[0], 1,
            "body not complete", false);

        assertEquals(List.of(), rules(reset));
        assertEquals(List.of(), rules(cut));
        assertEquals(1, rules(new Exchange(normal, -1, Map.of(), new byte[0], 1, "connection reset", true)).size());
        assertEquals(1, rules(new Exchange(huge, 414, Map.of("content-type", List.of(JSON)),
            "<h1>414</h1>".getBytes(StandardCharsets.UTF_8), 1, null, false)).size(), "a complete answer must be JSON");
    }
}
