package dev.opensandbox.core;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A sandbox as clients see it.
 *
 * @param id          the sandbox id
 * @param image       the image reference the client asked for, or null for a restored snapshot
 * @param snapshotId  the snapshot it was restored from, or null
 * @param platform    the os/arch constraint, or null when unconstrained
 * @param status      what it is doing
 * @param metadata    user metadata (never the reserved {@code opensandbox.io/} labels)
 * @param entrypoint  the command the client asked for (never a wrapper the runtime added)
 * @param expiresAt   when it will be removed, or null for manual cleanup
 * @param createdAt   when it was created
 */
public record Sandbox(
        SandboxId id,
        String image,
        String snapshotId,
        Platform platform,
        SandboxStatus status,
        Map<String, String> metadata,
        List<String> entrypoint,
        Instant expiresAt,
        Instant createdAt) {

    public Sandbox {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(createdAt, "createdAt");
        metadata = metadata == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        entrypoint = entrypoint == null ? List.of() : List.copyOf(entrypoint);
    }

    /** True when the sandbox has no expiry and lives until deleted. */
    public boolean manualCleanup() {
        return expiresAt == null;
    }

    public Sandbox withStatus(SandboxStatus newStatus) {
        return new Sandbox(id, image, snapshotId, platform, newStatus, metadata, entrypoint, expiresAt, createdAt);
    }

    public Sandbox withMetadata(Map<String, String> newMetadata) {
        return new Sandbox(id, image, snapshotId, platform, status, newMetadata, entrypoint, expiresAt, createdAt);
    }

    public Sandbox withExpiresAt(Instant newExpiresAt) {
        return new Sandbox(id, image, snapshotId, platform, status, metadata, entrypoint, newExpiresAt, createdAt);
    }
}
