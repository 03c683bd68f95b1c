package dev.opensandbox.core.store;

import dev.opensandbox.core.Page;
import dev.opensandbox.core.SandboxId;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The port for what the server owns: expiries (renewals survive restarts), user metadata,
 * creates in flight and failed, and snapshot records. The store contract kit in
 * {@code sandbox-it} checks every implementation.
 *
 * <p>Implementations are thread-safe. Writes of one record are atomic; {@link #replace} is a
 * compare-and-set on {@link SandboxRecord#version()} so that several server replicas sharing a
 * database cannot lose each other's updates.
 */
public interface SandboxStore extends AutoCloseable {

    /**
     * Stores a new record with the version it carries.
     *
     * @return false, changing nothing, when a record with this id exists
     */
    boolean insert(SandboxRecord record);

    /** The record of a sandbox, or empty. */
    Optional<SandboxRecord> find(SandboxId id);

    /** Every record, in no particular order. */
    List<SandboxRecord> findAll();

    /**
     * Replaces the record of {@code replacement.id()} if its stored version equals
     * {@code expectedVersion}; the stored copy then gets version {@code expectedVersion + 1}.
     *
     * @return the stored record, or empty (changing nothing) when the record is missing or its
     *         version differs
     */
    Optional<SandboxRecord> replace(long expectedVersion, SandboxRecord replacement);

    /**
     * Deletes the record of a sandbox.
     *
     * @return whether a record was deleted
     */
    boolean delete(SandboxId id);

    /**
     * Stores a new snapshot record.
     *
     * @return false, changing nothing, when a snapshot with this id exists
     */
    boolean insertSnapshot(SnapshotRecord record);

    Optional<SnapshotRecord> findSnapshot(String id);

    /** Snapshots matching the query, newest {@code createdAt} first, ties broken by id descending. */
    Page<SnapshotRecord> listSnapshots(SnapshotQuery query);

    /** Every snapshot in one of {@code states}, oldest first. */
    List<SnapshotRecord> findSnapshotsInStates(Collection<SnapshotState> states);

    /**
     * Replaces a snapshot record if its stored state equals {@code expectedState}.
     *
     * @return whether it was replaced
     */
    boolean replaceSnapshotIfState(SnapshotState expectedState, SnapshotRecord replacement);

    /** @return whether a snapshot record was deleted */
    boolean deleteSnapshot(String id);

    /**
     * The id of the deployment whose records this store keeps (see
     * {@link dev.opensandbox.core.spi.Deployment}): created on the first call and kept with the data,
     * so that a server restarted over the same store, or several replicas sharing it, own the same
     * runtime objects. Empty when the store keeps nothing across restarts (the default, and the
     * in-memory store): the server then derives an id of its own.
     */
    default Optional<String> deploymentId() {
        return Optional.empty();
    }

    /** Releases connections. The default does nothing. */
    @Override
    default void close() {
    }
}
