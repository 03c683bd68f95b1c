package dev.opensandbox.core;

import java.util.Objects;

/**
 * The one error type of this project. Every failure that reaches a client is one of its
 * subclasses, carrying an upstream code string (for example {@code DOCKER::SANDBOX_NOT_FOUND})
 * and a message. Adapters translate vendor exceptions into these in one place; the HTTP layer
 * maps {@link #kind()} to a status in one table.
 */
public abstract class SandboxException extends RuntimeException {

    /** The family of an error, which decides the HTTP status. */
    public enum Kind {
        /** The request breaks a rule of the API (HTTP 400). */
        INVALID_REQUEST,
        /** The request does not have the shape of the API schema (HTTP 422, as upstream). */
        MALFORMED_REQUEST,
        /** The named object does not exist (HTTP 404). */
        NOT_FOUND,
        /** The object is in a state that does not allow the operation (HTTP 409). */
        CONFLICT,
        /** The runtime cannot do this at all (HTTP 501). */
        UNSUPPORTED,
        /** A dependency is not reachable or not ready (HTTP 503). */
        UNAVAILABLE,
        /** The operation did not finish in time (HTTP 504). */
        DEADLINE_EXCEEDED,
        /** The runtime failed (HTTP 500). */
        RUNTIME_FAILURE
    }

    private final String code;

    protected SandboxException(String code, String message, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    /** The upstream code string, for example {@code SANDBOX::INVALID_PARAMETER}. */
    public String code() {
        return code;
    }

    /** The family of this error. */
    public abstract Kind kind();
}
