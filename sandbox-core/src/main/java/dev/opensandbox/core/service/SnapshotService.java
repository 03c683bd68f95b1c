package dev.opensandbox.core.service;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Page;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.UnsupportedCapabilityException;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.spi.SnapshotCommitException;
import dev.opensandbox.core.store.SandboxStore;
import dev.opensandbox.core.store.SnapshotQuery;
import dev.opensandbox.core.store.SnapshotRecord;
import dev.opensandbox.core.store.SnapshotState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.Executor;

/**
 * The snapshot use cases: accept a snapshot at once and commit it in the background, list, get,
 * delete, and recover unfinished records at start. Records live in the store; state changes are
 * compare-and-set on the record's state, so a worker never overwrites a snapshot that someone
 * else moved on (for example deleted while it was being created).
 */
public final class SnapshotService {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotService.class);

    private final SandboxService sandboxes;
    private final SandboxRuntime runtime;
    private final SandboxStore store;
    private final Clock clock;
    private final Executor workers;

    /**
     * @param workers runs the commits; upstream uses two threads, and a commit pauses the sandbox
     */
    public SnapshotService(SandboxService sandboxes, SandboxStore store, Clock clock, Executor workers) {
        this.sandboxes = Objects.requireNonNull(sandboxes, "sandboxes");
        this.runtime = sandboxes.runtime();
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.workers = Objects.requireNonNull(workers, "workers");
    }

    /**
     * Accepts a snapshot of a running (or paused) sandbox and starts committing it in the
     * background. Paused sandboxes are accepted on purpose: a snapshot of a frozen filesystem is
     * consistent, and upstream's refusal only forced clients to resume first.
     */
    public SnapshotRecord create(SandboxId sandboxId, String name) {
        Sandbox sandbox = sandboxes.get(sandboxId);
        SandboxState state = sandbox.status().state();
        if (state != SandboxState.RUNNING && state != SandboxState.PAUSED) {
            throw new ConflictException(ErrorCodes.SNAPSHOT_INVALID_SOURCE_STATE,
                "Snapshot can only be created from a Running sandbox.");
        }
        if (!runtime.capabilities().snapshots()) {
            throw new UnsupportedCapabilityException(ErrorCodes.SNAPSHOT_NOT_IMPLEMENTED,
                "Snapshots are not supported by the " + runtime.type() + " runtime.");
        }
        Instant now = now();
        SnapshotRecord accepted = new SnapshotRecord(UUID.randomUUID().toString(), sandboxId.toString(), name, null,
            null, SnapshotState.Creating, "snapshot_accepted", "Snapshot creation accepted.", now, now, now);
        store.insertSnapshot(accepted);
        workers.execute(() -> commit(accepted));
        LOG.info("sandbox={} snapshot={} action=snapshot-accept", sandboxId, accepted.id());
        return accepted;
    }

    void commit(SnapshotRecord accepted) {
        SnapshotRecord outcome;
        try {
            String image = runtime.commitSnapshot(SandboxId.parse(accepted.sourceSandboxId()), accepted.id());
            outcome = accepted.withRestoreImage(image).transition(SnapshotState.Ready, "snapshot_runtime_ready",
                "Snapshot image created successfully.", now());
        } catch (SnapshotCommitException e) {
            // The runtime named the failure in upstream's vocabulary: record its reason and message as they are.
            outcome = accepted.transition(SnapshotState.Failed, e.reason(), e.getMessage(), now());
        } catch (SandboxException e) {
            String reason = e.kind() == SandboxException.Kind.DEADLINE_EXCEEDED ? "snapshot_runtime_timeout"
                : "snapshot_runtime_failed";
            outcome = accepted.transition(SnapshotState.Failed, reason, e.code() + ": " + e.getMessage(), now());
        } catch (RuntimeException e) {
            outcome = accepted.transition(SnapshotState.Failed, "snapshot_runtime_failed", String.valueOf(e.getMessage()),
                now());
        }
        if (store.replaceSnapshotIfState(SnapshotState.Creating, outcome)) {
            LOG.info("snapshot={} action=snapshot-commit state={}", accepted.id(), outcome.state());
            return;
        }
        // Someone moved the record on (deleted, or marked Deleting) while the commit ran: clean up.
        try {
            runtime.deleteSnapshot(accepted.id(), outcome.restoreImage());
        } catch (RuntimeException e) {
            LOG.warn("snapshot={} action=snapshot-orphan-cleanup error={}", accepted.id(), e.toString());
            return;
        }
        store.findSnapshot(accepted.id())
            .filter(current -> current.state() == SnapshotState.Deleting)
            .ifPresent(current -> store.deleteSnapshot(current.id()));
    }

    public SnapshotRecord get(String snapshotId) {
        return store.findSnapshot(snapshotId).orElseThrow(() -> notFound(snapshotId));
    }

    public Page<SnapshotRecord> list(SnapshotQuery query) {
        return store.listSnapshots(query);
    }

    /**
     * Deletes a snapshot and its image. A conflict (the image is still used) puts the record
     * back in its previous state instead of leaving it stuck in {@code Deleting} as upstream does.
     */
    public void delete(String snapshotId) {
        SnapshotRecord current = get(snapshotId);
        if (current.state() == SnapshotState.Creating) {
            throw new ConflictException(ErrorCodes.SNAPSHOT_INVALID_STATE,
                "Snapshot " + snapshotId + " is still being created and cannot be deleted");
        }
        SnapshotRecord deleting = current;
        if (current.state() != SnapshotState.Deleting) {
            deleting = current.transition(SnapshotState.Deleting, "snapshot_delete_requested",
                "Snapshot deletion requested.", now());
            if (!store.replaceSnapshotIfState(current.state(), deleting)) {
                throw new ConflictException(ErrorCodes.SNAPSHOT_INVALID_STATE,
                    "Snapshot " + snapshotId + " changed state and cannot be deleted");
            }
        }
        if (runtime.capabilities().snapshots()) {
            try {
                runtime.deleteSnapshot(snapshotId, deleting.restoreImage());
            } catch (ConflictException e) {
                store.replaceSnapshotIfState(SnapshotState.Deleting, current.state() == SnapshotState.Deleting
                    ? current.transition(SnapshotState.Ready, "snapshot_delete_conflict", e.getMessage(), now())
                    : current);
                throw new ConflictException(ErrorCodes.SNAPSHOT_DELETE_CONFLICT,
                    "snapshot image cannot be deleted due to a conflict");
            }
        }
        store.deleteSnapshot(snapshotId);
        LOG.info("snapshot={} action=snapshot-delete", snapshotId);
    }

    /**
     * Finishes what a previous run left: a snapshot still {@code Creating} is Ready if its image
     * exists, else Failed (the commit died with the process); a {@code Deleting} one is deleted.
     */
    /**
     * A snapshot the server stopped creating: Ready when its image was made after all (as
     * upstream), else Failed; a runtime that cannot tell which image it would have made fails it.
     */
    private SnapshotRecord recovered(SnapshotRecord record) {
        if (!runtime.capabilities().snapshots()) {
            return record.transition(SnapshotState.Failed, "snapshot_recovery_not_supported",
                "The server stopped while the snapshot was being created, and this runtime has no snapshots.", now());
        }
        java.util.Optional<String> image = runtime.snapshotImageFor(record.id());
        if (image.isEmpty()) {
            return record.transition(SnapshotState.Failed, "snapshot_recovery_failed",
                "The server stopped while the snapshot was being created.", now());
        }
        boolean exists;
        try {
            exists = runtime.snapshotImageExists(image.get());
        } catch (RuntimeException e) {
            return record.transition(SnapshotState.Failed, "snapshot_recovery_inspect_failed",
                "The server stopped while the snapshot was being created, and its image could not be inspected: "
                    + e.getMessage(), now());
        }
        if (exists) {
            return record.withRestoreImage(image.get()).transition(SnapshotState.Ready, "snapshot_recovery_ready",
                "The snapshot image was found after a restart.", now());
        }
        return record.transition(SnapshotState.Failed, "snapshot_recovery_missing_image",
            "The server stopped before the snapshot image was created.", now());
    }

    public void recover() {
        List<SnapshotRecord> unfinished = store.findSnapshotsInStates(List.of(SnapshotState.Creating, SnapshotState.Deleting));
        for (SnapshotRecord record : unfinished) {
            try {
                if (record.state() == SnapshotState.Deleting) {
                    if (runtime.capabilities().snapshots()) {
                        runtime.deleteSnapshot(record.id(), record.restoreImage());
                    }
                    store.deleteSnapshot(record.id());
                } else {
                    store.replaceSnapshotIfState(SnapshotState.Creating, recovered(record));
                }
            } catch (RuntimeException e) {
                LOG.warn("snapshot={} action=snapshot-recover error={}", record.id(), e.toString());
            }
        }
    }

    private NotFoundException notFound(String snapshotId) {
        return new NotFoundException(ErrorCodes.SNAPSHOT_NOT_FOUND, "Snapshot " + snapshotId + " not found");
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }
}
