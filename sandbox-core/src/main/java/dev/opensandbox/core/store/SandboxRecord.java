package dev.opensandbox.core.store;

import dev.opensandbox.core.SandboxId;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the server decided about one sandbox, as opposed to what runs (which the runtime knows).
 *
 * @param id                 the sandbox id
 * @param phase              whether its creation is under way, done, or failed
 * @param createdAt          creation time
 * @param expiresAt          current expiry (renewals included), or null for manual cleanup; for a
 *                           record in phase FAILED, when the tombstone is removed
 * @param metadata           the effective user metadata (create-time metadata with patches applied)
 * @param renewExtendSeconds the {@code access.renew.extend.seconds} option, or null
 * @param accessToken        the secure-access token of the sandbox, or null
 * @param failureMessage     why creation failed, when {@code phase} is FAILED
 * @param version            incremented by the store on every replace; used for compare-and-set
 */
public record SandboxRecord(SandboxId id, Phase phase, Instant createdAt, Instant expiresAt,
                            Map<String, String> metadata, Integer renewExtendSeconds, String accessToken,
                            String failureMessage, long version) {

    /** Where the creation of a sandbox stands. */
    public enum Phase {
        /** The runtime is creating it; it may not exist in the runtime yet. */
        CREATING,
        /** The runtime reported it started. */
        READY,
        /**
         * Creation failed or was interrupted, and what it made may still exist (or still appear):
         * a tombstone, hidden from every read, that the core keeps until {@code expiresAt} so that
         * reconcile removes whatever the platform holds under the id; then it is deleted.
         */
        FAILED
    }

    public SandboxRecord {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(createdAt, "createdAt");
        metadata = metadata == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** A new record in phase CREATING with version 0. */
    public static SandboxRecord creating(SandboxId id, Instant createdAt, Instant expiresAt,
                                         Map<String, String> metadata, Integer renewExtendSeconds, String accessToken) {
        return new SandboxRecord(id, Phase.CREATING, createdAt, expiresAt, metadata, renewExtendSeconds, accessToken,
            null, 0);
    }

    public boolean manualCleanup() {
        return expiresAt == null;
    }

    public SandboxRecord withPhase(Phase newPhase) {
        return new SandboxRecord(id, newPhase, createdAt, expiresAt, metadata, renewExtendSeconds, accessToken,
            failureMessage, version);
    }

    public SandboxRecord withExpiresAt(Instant newExpiresAt) {
        return new SandboxRecord(id, phase, createdAt, newExpiresAt, metadata, renewExtendSeconds, accessToken,
            failureMessage, version);
    }

    public SandboxRecord withMetadata(Map<String, String> newMetadata) {
        return new SandboxRecord(id, phase, createdAt, expiresAt, newMetadata, renewExtendSeconds, accessToken,
            failureMessage, version);
    }

    /**
     * This record as a tombstone of a create that did not finish (phase FAILED), removed at
     * {@code removeAt}.
     */
    public SandboxRecord tombstone(String reason, Instant removeAt) {
        return new SandboxRecord(id, Phase.FAILED, createdAt, removeAt, metadata, renewExtendSeconds, accessToken,
            reason, version);
    }

    public SandboxRecord failed(String message) {
        return new SandboxRecord(id, Phase.FAILED, createdAt, expiresAt, metadata, renewExtendSeconds, accessToken,
            message, version);
    }

    /** The same record with another version; stores use it to stamp what they persist. */
    public SandboxRecord withVersion(long newVersion) {
        return new SandboxRecord(id, phase, createdAt, expiresAt, metadata, renewExtendSeconds, accessToken,
            failureMessage, newVersion);
    }
}
