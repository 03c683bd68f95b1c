package dev.opensandbox.core.service;

/**
 * Looks up the image to run when a sandbox is restored from a snapshot. The validator calls it at
 * the point upstream resolves snapshots, so that 404/409 errors come in the upstream order.
 */
@FunctionalInterface
public interface SnapshotResolver {

    /**
     * Returns the image stored for a snapshot.
     *
     * @param snapshotId a non-blank snapshot id
     * @return the image reference to run, never blank
     * @throws dev.opensandbox.core.NotFoundException  {@code SNAPSHOT::NOT_FOUND} for an unknown id
     * @throws dev.opensandbox.core.ConflictException  {@code SNAPSHOT::NOT_READY} when the snapshot is not
     *                                                 {@code Ready}; {@code SNAPSHOT::INVALID_RESTORE_CONFIG}
     *                                                 when it has no stored image
     */
    String restoreImage(String snapshotId);
}
