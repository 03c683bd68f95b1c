package dev.opensandbox.core.spi;

import dev.opensandbox.core.RuntimeFailureException;

import java.util.Objects;

/**
 * A snapshot commit that failed for a reason the runtime can name, so that the snapshot record
 * carries upstream's reason (for example {@code snapshot_runtime_conflict}, or the reason a
 * Kubernetes controller wrote in its {@code Failed} condition) instead of the generic
 * {@code snapshot_runtime_failed}. The message is recorded as is.
 */
public class SnapshotCommitException extends RuntimeFailureException {

    private final String reason;

    /**
     * @param code    the runtime's error code, for logs
     * @param reason  the snapshot status reason to record, never blank
     * @param message the snapshot status message to record
     */
    public SnapshotCommitException(String code, String reason, String message) {
        super(code, message);
        Objects.requireNonNull(reason, "reason");
        if (reason.isBlank()) {
            throw new IllegalArgumentException("reason must not be blank");
        }
        this.reason = reason;
    }

    /** The snapshot status reason to record. */
    public String reason() {
        return reason;
    }
}
