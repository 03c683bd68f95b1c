package dev.opensandbox.server.http;

import dev.opensandbox.core.ErrorCodes;
import org.eclipse.jetty.http.HttpStatus;

import java.util.Locale;
import java.util.Map;

/**
 * Codes and messages for errors of the HTTP protocol itself (routing, the request line, headers,
 * bodies), whoever raises them: Javalin, Jetty or the server's own body reader. The code is
 * {@code GENERAL::} and the status's reason phrase in upper snake case ({@code 414 →
 * GENERAL::URI_TOO_LONG}), except where a clearer name is part of the API.
 */
final class HttpErrors {

    static final String NOT_FOUND = "GENERAL::NOT_FOUND";
    static final String METHOD_NOT_ALLOWED = "GENERAL::METHOD_NOT_ALLOWED";
    static final String BAD_REQUEST = "GENERAL::BAD_REQUEST";
    static final String REQUEST_TIMEOUT = "GENERAL::REQUEST_TIMEOUT";
    static final String REQUEST_TOO_LARGE = "GENERAL::REQUEST_TOO_LARGE";

    /** Where the reason phrase would give a worse name ("Payload Too Large") or the API already has one. */
    private static final Map<Integer, String> NAMED = Map.of(
        413, REQUEST_TOO_LARGE,
        500, ErrorCodes.UNKNOWN);

    private HttpErrors() {
    }

    static String code(int status) {
        String named = NAMED.get(status);
        if (named != null) {
            return named;
        }
        String reason = HttpStatus.getMessage(status);
        String snake = reason.replaceAll("[^A-Za-z0-9]+", "_").replaceAll("^_|_$", "").toUpperCase(Locale.ROOT);
        return "GENERAL::" + (snake.chars().allMatch(Character::isDigit) ? "HTTP_" + status : snake);
    }

    /** The reason phrase, with what the raiser said when that says more ("Illegal character SPACE=' '"). */
    static String message(int status, String detail) {
        String reason = HttpStatus.getMessage(status);
        if (detail == null || detail.isBlank() || detail.equalsIgnoreCase(reason)) {
            return reason;
        }
        return reason + ": " + detail;
    }
}
