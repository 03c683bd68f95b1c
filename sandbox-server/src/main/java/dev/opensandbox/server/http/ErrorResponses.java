package dev.opensandbox.server.http;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.server.errors.ErrorStatus;
import io.javalin.http.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The one table from errors to HTTP responses. Every error path answers {@code {code, message}}
 * as JSON: application errors, schema violations, routing errors and unexpected failures alike.
 */
final class ErrorResponses {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);

    static final String UNEXPECTED_MESSAGE = "An unexpected error occurred.";

    private ErrorResponses() {
    }

    static int status(SandboxException.Kind kind) {
        return ErrorStatus.of(kind);
    }

    /** What an error answers: its status, code and message. */
    record Answer(int status, String code, String message) {
    }

    /** Writes the response for any throwable that escaped a handler. */
    static void write(Context ctx, Throwable error) {
        Answer answer = answer(ctx, error);
        write(ctx, answer.status(), answer.code(), answer.message());
    }

    /** The answer to any throwable (logged as {@link #write} logs it), for callers that write it themselves. */
    static Answer answer(Context ctx, Throwable error) {
        Throwable cause = unwrap(error);
        if (cause instanceof SandboxException e) {
            if (status(e.kind()) >= 500) {
                LOG.warn("{} {} failed: {} {}", ctx.method(), ctx.path(), e.code(), e.getMessage());
            } else {
                LOG.info("{} {} rejected: {} {}", ctx.method(), ctx.path(), e.code(), e.getMessage());
            }
            return new Answer(status(e.kind()), e.code(), e.getMessage());
        }
        if (cause instanceof ApiRejection rejection) {
            return new Answer(rejection.status, rejection.code, rejection.getMessage());
        }
        LOG.error("{} {} failed unexpectedly", ctx.method(), ctx.path(), cause);
        return new Answer(500, ErrorCodes.UNKNOWN, UNEXPECTED_MESSAGE);
    }

    static void write(Context ctx, int status, String code, String message) {
        if (bodyLeftUnread(ctx)) {
            // Jetty closes a connection whose request body was not read to the end: say so, or the client
            // sends its next request on a connection about to close and gets no answer at all.
            ctx.header("Connection", "close");
        }
        ctx.status(status);
        ctx.json(new Responses.ErrorBody(code, message == null || message.isBlank() ? UNEXPECTED_MESSAGE : message));
    }

    private static boolean bodyLeftUnread(Context ctx) {
        jakarta.servlet.http.HttpServletRequest request = ctx.req();
        boolean hasBody = request.getContentLengthLong() > 0 || request.getHeader("Transfer-Encoding") != null;
        if (!hasBody) {
            return false;
        }
        try {
            return !request.getInputStream().isFinished();
        } catch (IllegalStateException | java.io.IOException readThroughAReader) {
            return false;
        }
    }

    private static Throwable unwrap(Throwable error) {
        Throwable current = error;
        while ((current instanceof CompletionException || current instanceof ExecutionException)
            && current.getCause() != null) {
            current = current.getCause();
        }
        return current;
    }

    /** An error of the HTTP layer itself (authentication, routing), with its status and code. */
    static final class ApiRejection extends RuntimeException {
        final int status;
        final String code;

        ApiRejection(int status, String code, String message) {
            super(message, null, false, false);
            this.status = status;
            this.code = code;
        }
    }
}
