package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.exception.DockerException;
import dev.opensandbox.core.PlatformUnavailableException;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.UnavailableException;

import java.util.Optional;

/**
 * Error codes of the Docker runtime (upstream's strings, and ours for engine faults) and the one
 * place that turns docker-java failures into readable messages and engine connection failures
 * into 503s.
 */
final class DockerErrors {

    static final String NAMESPACE = "DOCKER";
    static final String INITIALIZATION_ERROR = "DOCKER::INITIALIZATION_ERROR";
    static final String QUERY_FAILED = "DOCKER::SANDBOX_QUERY_FAILED";
    static final String IMAGE_PULL_FAILED = "DOCKER::SANDBOX_IMAGE_PULL_FAILED";
    static final String START_FAILED = "DOCKER::SANDBOX_START_FAILED";
    static final String DELETE_FAILED = "DOCKER::SANDBOX_DELETE_FAILED";
    static final String NOT_RUNNING = "DOCKER::SANDBOX_NOT_RUNNING";
    static final String PAUSE_FAILED = "DOCKER::SANDBOX_PAUSE_FAILED";
    static final String NOT_PAUSED = "DOCKER::SANDBOX_NOT_PAUSED";
    static final String RESUME_FAILED = "DOCKER::SANDBOX_RESUME_FAILED";
    static final String ENDPOINT_UNAVAILABLE = "DOCKER::NETWORK_MODE_ENDPOINT_UNAVAILABLE";
    static final String EXEC_FAILED = "DOCKER::EXEC_FAILED";
    static final String EXEC_TIMEOUT = "DOCKER::EXEC_TIMEOUT";
    static final String FILE_NOT_FOUND = "DOCKER::FILE_NOT_FOUND";
    static final String INVALID_FILE_PATH = "DOCKER::INVALID_FILE_PATH";
    static final String FILE_TRANSFER_FAILED = "DOCKER::FILE_TRANSFER_FAILED";
    static final String LOGS_FAILED = "DOCKER::SANDBOX_LOGS_FAILED";
    static final String STATS_FAILED = "DOCKER::SANDBOX_STATS_FAILED";
    static final String SNAPSHOT_FAILED = "DOCKER::SNAPSHOT_FAILED";
    static final String SNAPSHOT_TIMEOUT = "DOCKER::SNAPSHOT_TIMEOUT";
    /** Upstream wraps these as a bare {@code SNAPSHOT_IMAGE_REMOVE_FAILED} error (a text 500, W18). */
    static final String SNAPSHOT_IMAGE_REMOVE_FAILED = "DOCKER::SNAPSHOT_IMAGE_REMOVE_FAILED";
    static final String SNAPSHOT_QUERY_FAILED = "DOCKER::SNAPSHOT_QUERY_FAILED";

    /** Ours: the engine cannot be reached or dropped the connection (503). */
    static final String ENGINE_UNAVAILABLE = "DOCKER::ENGINE_UNAVAILABLE";
    /** Ours: the engine did not answer within {@code [docker] api_timeout} (503). */
    static final String ENGINE_TIMEOUT = "DOCKER::ENGINE_TIMEOUT";
    /** Ours: every engine connection of a pool is in use, for example by long-running commands (503). */
    static final String ENGINE_BUSY = "DOCKER::ENGINE_BUSY";

    private DockerErrors() {
    }

    /**
     * The daemon's own message when there is one (docker-java prefixes it with the status and
     * wraps it in JSON), else the exception's message.
     */
    static String describe(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause.getMessage() == null) {
            cause = cause.getCause();
        }
        String message = cause.getMessage();
        if (message == null) {
            return cause.getClass().getSimpleName();
        }
        if (cause instanceof DockerException) {
            int start = message.indexOf("{\"message\":\"");
            if (start >= 0) {
                int end = message.lastIndexOf("\"}");
                if (end > start) {
                    return message.substring(start + 12, end).replace("\\\"", "\"");
                }
            }
            // "Status 404: No such container: x" → keep the daemon part.
            if (message.startsWith("Status ")) {
                int colon = message.indexOf(": ");
                if (colon > 0) {
                    return message.substring(colon + 2).trim();
                }
            }
        }
        return message.trim();
    }

    /**
     * Whether a docker-java failure is the client's response timeout ({@code [docker] api_timeout})
     * rather than an answer of the engine: the engine may still finish the work.
     */
    static boolean timedOut(Throwable error) {
        Throwable cause = error;
        // Bounded: a cause chain may loop.
        for (int depth = 0; cause != null && depth < 16; depth++, cause = cause.getCause()) {
            if (cause instanceof java.net.SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /**
     * The 503 for a failure caused by the engine connection ({@link EngineFault} anywhere in its
     * causes), naming the engine and what failed; empty for anything else (the engine's own
     * error answers, and the runtime's deliberate client errors, time limits and 503s, which
     * already say what happened).
     *
     * @param engine the engine's address as configured ({@code DOCKER_HOST})
     * @param action what failed, completing "Cannot ...", for example "list sandboxes"
     */
    static Optional<UnavailableException> engineFault(RuntimeException failure, String engine, String action) {
        if (failure instanceof SandboxException known && known.kind() != SandboxException.Kind.RUNTIME_FAILURE) {
            return Optional.empty();
        }
        Throwable cause = failure;
        for (int depth = 0; cause != null && depth < 16; depth++, cause = cause.getCause()) {
            EngineFault.Kind kind = cause instanceof EngineFault fault ? fault.kind()
                : cause instanceof EngineFault.InStream fault ? fault.kind() : null;
            if (kind != null) {
                String code = switch (kind) {
                    case UNAVAILABLE -> ENGINE_UNAVAILABLE;
                    case TIMEOUT -> ENGINE_TIMEOUT;
                    case BUSY -> ENGINE_BUSY;
                };
                return Optional.of(new PlatformUnavailableException(code,
                    "Cannot " + action + ": the Docker engine at " + engine + " " + cause.getMessage() + ".", failure));
            }
        }
        return Optional.empty();
    }
}
