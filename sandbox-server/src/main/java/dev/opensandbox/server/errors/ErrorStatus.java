package dev.opensandbox.server.errors;

import dev.opensandbox.core.SandboxException;

/** The one mapping from the core's error kinds to HTTP statuses, shared by every HTTP edge. */
public final class ErrorStatus {

    private ErrorStatus() {
    }

    public static int of(SandboxException.Kind kind) {
        return switch (kind) {
            case INVALID_REQUEST -> 400;
            case MALFORMED_REQUEST -> 422;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case UNSUPPORTED -> 501;
            case UNAVAILABLE -> 503;
            case DEADLINE_EXCEEDED -> 504;
            case RUNTIME_FAILURE -> 500;
        };
    }
}
