package dev.opensandbox.core.store;

import java.time.Instant;
import java.util.Objects;

/**
 * A snapshot of a sandbox. The fields mirror the columns of upstream's {@code snapshots} table so
 * that an upstream database can be opened.
 *
 * @param id               snapshot id (a UUID string)
 * @param sourceSandboxId  the sandbox it was taken from
 * @param name             optional client-given name
 * @param description      optional description
 * @param restoreImage     the runtime image a restore runs, once known
 * @param state            where it stands
 * @param reason           machine-readable reason of the last transition
 * @param message          human-readable message of the last transition
 * @param lastTransitionAt when the state last changed
 * @param createdAt        when it was accepted
 * @param updatedAt        when the record last changed
 */
public record SnapshotRecord(String id, String sourceSandboxId, String name, String description, String restoreImage,
                             SnapshotState state, String reason, String message, Instant lastTransitionAt,
                             Instant createdAt, Instant updatedAt) {

    public SnapshotRecord {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(sourceSandboxId, "sourceSandboxId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }

    /** The same snapshot moved to {@code newState} at {@code at}. */
    public SnapshotRecord transition(SnapshotState newState, String newReason, String newMessage, Instant at) {
        return new SnapshotRecord(id, sourceSandboxId, name, description, restoreImage, newState, newReason, newMessage,
            at, createdAt, at);
    }

    public SnapshotRecord withRestoreImage(String image) {
        return new SnapshotRecord(id, sourceSandboxId, name, description, image, state, reason, message,
            lastTransitionAt, createdAt, updatedAt);
    }
}
