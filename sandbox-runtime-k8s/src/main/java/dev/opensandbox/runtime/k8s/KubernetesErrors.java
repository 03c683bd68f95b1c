package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.PlatformUnavailableException;
import dev.opensandbox.core.UnavailableException;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Error codes of the Kubernetes runtime (upstream's strings) and the one place that turns
 * fabric8 failures into the core's errors. Errors are told apart by HTTP status, never by
 * matching exception text (upstream's weakness).
 */
final class KubernetesErrors {

    static final String NAMESPACE = "KUBERNETES";
    static final String INITIALIZATION_ERROR = "KUBERNETES::INITIALIZATION_ERROR";
    static final String SANDBOX_NOT_FOUND = "KUBERNETES::SANDBOX_NOT_FOUND";
    static final String POD_READY_TIMEOUT = "KUBERNETES::POD_READY_TIMEOUT";
    static final String API_ERROR = "KUBERNETES::API_ERROR";
    static final String POD_IP_NOT_AVAILABLE = "KUBERNETES::POD_IP_NOT_AVAILABLE";
    static final String INVALID_STATE = "KUBERNETES::INVALID_STATE";
    /** Ours: the controller reported {@code Failed} while the sandbox was starting (upstream waits for the timeout). */
    static final String SANDBOX_START_FAILED = "KUBERNETES::SANDBOX_START_FAILED";

    private KubernetesErrors() {
    }

    /** The core's error for a failed API call; {@code action} says what was being done, for the message. */
    static SandboxException translate(KubernetesClientException error, String action) {
        int code = error.getCode();
        String message = action + ": " + describe(error);
        if (code == 404) {
            return new NotFoundException(SANDBOX_NOT_FOUND, message);
        }
        if (code == 409) {
            return new ConflictException(API_ERROR, message, error);
        }
        if (code == 400 || code == 422) {
            return new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, message);
        }
        if (code == 0) {
            // No answer at all: what the call did on the API server is unknown.
            return new PlatformUnavailableException(API_ERROR, message, error);
        }
        if (code == 429 || code >= 500) {
            // Throttled, or the API server failed: worth retrying later.
            return new UnavailableException(API_ERROR, message, error);
        }
        return new RuntimeFailureException(API_ERROR, message, error);
    }

    /**
     * Upstream's one error for a failed pool call that is neither "not found" nor "already
     * exists" (those the caller tells apart first): 500 {@code KUBERNETES::POOL_API_ERROR}.
     */
    static SandboxException poolApiError(KubernetesClientException error, String action) {
        return new RuntimeFailureException(ErrorCodes.POOL_API_ERROR, action + ": " + describe(error), error);
    }

    /** The API server's own message when it sent one, else the client's. */
    static String describe(Throwable error) {
        if (error instanceof KubernetesClientException k8s && k8s.getStatus() != null
            && k8s.getStatus().getMessage() != null && !k8s.getStatus().getMessage().isBlank()) {
            return k8s.getStatus().getMessage() + " (HTTP " + k8s.getCode() + ")";
        }
        Throwable cause = error;
        while (cause.getCause() != null && cause.getMessage() == null) {
            cause = cause.getCause();
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
