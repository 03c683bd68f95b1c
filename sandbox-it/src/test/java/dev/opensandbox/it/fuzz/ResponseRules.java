package dev.opensandbox.it.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opensandbox.it.fuzz.FuzzClient.Exchange;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What every answer of the server must satisfy, whatever was sent (the developers' guide: bad
 * input always gets a clear error):
 * <ul>
 *   <li>an answer arrives within the client's deadline (a request that breaks HTTP/1.1 itself may
 *       instead be answered by closing the connection);</li>
 *   <li>no server fault: never 500 or 503 (the platform is up), and no other 5xx but 501 (a
 *       feature this server does not offer), the proxy's 502/504 about the sandbox's own backend
 *       (with a {@code PROXY::} code), and 505 for a request line with another protocol version;</li>
 *   <li>every error (4xx, 5xx) is {@code {code, message}} JSON with Content-Type
 *       {@code application/json}, both fields non-blank strings (HEAD answers carry no body);</li>
 *   <li>a client error never carries the code of an unexpected server failure;</li>
 *   <li>a renewal answered 200 states its expiry in RFC 3339 ({@code 2030-01-02T03:04:05Z}).</li>
 * </ul>
 * An answer that carries {@value #BACKEND_HEADER} came from the sandbox's own HTTP backend through
 * the proxy: it is the backend's business, not the server's.
 */
final class ResponseRules {

    static final String UNEXPECTED_CODE = "GENERAL::UNKNOWN_ERROR";
    /** The header the fixture's backend puts on every answer. */
    static final String BACKEND_HEADER = "X-Fuzz-Backend";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern RFC3339_UTC = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z");
    private static final Pattern RENEW = Pattern.compile("^(?:/v1)?/sandboxes/[^/]+/renew-expiration/?$");

    private ResponseRules() {
    }

    /** The broken rules, each as one line naming the rule; empty when the answer is right. */
    static List<String> violations(Exchange exchange) {
        List<String> broken = new ArrayList<>();
        FuzzRequest request = exchange.sent();
        if (exchange.status() < 0) {
            if (!((request.malformed() || request.mayBeResetByAnEarlyClose()) && exchange.closedWithoutAnswer())) {
                broken.add("no answer: " + exchange.failure());
            }
            return broken;
        }
        if (request.mayBeResetByAnEarlyClose() && exchange.status() >= 400 && exchange.failure() != null) {
            return broken; // the answer was cut by the reset that follows the early close (see mayBeResetByAnEarlyClose)
        }
        int status = exchange.status();
        if (request.proxiesToBackend() && exchange.header(BACKEND_HEADER) != null) {
            return broken;
        }
        JsonNode error = null;
        if (status >= 400 && !request.isHead()) {
            error = errorBody(exchange, broken);
        }
        String code = error == null ? null : error.path("code").asText(null);
        if (status >= 500) {
            boolean gateway = (status == 502 || status == 504) && request.proxiesToBackend();
            boolean versionRefused = status == 505 && !request.version().equals("HTTP/1.1");
            if (!(status == 501 || gateway || versionRefused)) {
                broken.add("server fault: " + status + (code == null ? "" : " " + code));
            } else if (gateway && code != null && !code.startsWith("PROXY::")) {
                broken.add("gateway error " + status + " without a PROXY:: code: " + code);
            }
        }
        if (status >= 400 && status < 500 && UNEXPECTED_CODE.equals(code)) {
            broken.add("client error " + status + " carries the unexpected-failure code " + UNEXPECTED_CODE);
        }
        if (status == 200 && request.method().equals("POST") && RENEW.matcher(request.path()).matches()) {
            String expiresAt = json(exchange.bodyText()).path("expiresAt").asText("");
            if (!RFC3339_UTC.matcher(expiresAt).matches()) {
                broken.add("renewal answered 200 with an expiresAt that is not RFC 3339 UTC: '" + expiresAt + "'");
            }
        }
        if (exchange.failure() != null && status < 400) {
            broken.add("answer broken off: " + exchange.failure());
        }
        return broken;
    }

    /** The parsed {@code {code, message}} body, adding what is wrong with it to {@code broken}. */
    private static JsonNode errorBody(Exchange exchange, List<String> broken) {
        String type = exchange.header("content-type");
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            broken.add("error " + exchange.status() + " is not JSON: Content-Type " + type);
        }
        JsonNode body = json(exchange.bodyText());
        if (!body.isObject()) {
            broken.add("error " + exchange.status() + " body is not a JSON object");
            return null;
        }
        for (String field : List.of("code", "message")) {
            JsonNode value = body.get(field);
            if (value == null || !value.isTextual() || value.asText().isBlank()) {
                broken.add("error " + exchange.status() + " has no non-blank string '" + field + "'");
            }
        }
        return body;
    }

    private static JsonNode json(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            return node == null ? JSON.missingNode() : node;
        } catch (IOException e) {
            return JSON.missingNode();
        }
    }
}
