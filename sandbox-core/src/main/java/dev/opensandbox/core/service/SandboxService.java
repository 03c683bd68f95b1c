package dev.opensandbox.core.service;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Page;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.EndpointRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.store.SandboxRecord;
import dev.opensandbox.core.store.SandboxStore;
import dev.opensandbox.core.store.SnapshotRecord;
import dev.opensandbox.core.store.SnapshotState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The sandbox use cases of the lifecycle API: create, get, list, delete, pause, resume, renew,
 * patch metadata and endpoint resolution, plus expiry and reconciliation.
 *
 * <p>The runtime is the source of truth for what runs; the store for what the server decided
 * (expiry, metadata, creates in flight). Every read merges the two: the store's expiry and
 * metadata win over the values the runtime recorded at create time, so renewals and patches
 * survive restarts even on runtimes whose labels cannot change.
 *
 * <p>Create, renew, expire and delete of one sandbox are serialized by a per-sandbox lock, and
 * the store is updated by compare-and-set, so a renewal can never lose to an expiry timer.
 *
 * <p>Methods block on the runtime; callers that must not block (HTTP threads) run them on an
 * executor.
 */
public final class SandboxService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SandboxService.class);

    /** How long a failed expiry waits before it is tried again (upstream: 30 s). */
    static final Duration EXPIRY_RETRY_DELAY = Duration.ofSeconds(30);
    /** A create still in flight after this long was interrupted (for example by a crash). */
    static final Duration STALE_CREATE_AFTER = Duration.ofMinutes(15);
    /** Header that carries the secure-access token of a sandbox. */
    public static final String SECURE_ACCESS_HEADER = "OpenSandbox-Secure-Access";

    private static final int MAX_COMPARE_AND_SET_ATTEMPTS = 5;

    private final SandboxRuntime runtime;
    private final SandboxStore store;
    private final Clock clock;
    private final CreateSandboxValidator validator;
    private final SandboxLocks locks = new SandboxLocks();
    private final ExpiryScheduler expiry;
    private final SecureRandom random = new SecureRandom();
    private final ServicePolicy policy;
    private final List<java.util.function.Consumer<SandboxId>> removalListeners =
        new java.util.concurrent.CopyOnWriteArrayList<>();

    public SandboxService(SandboxRuntime runtime, SandboxStore store, Clock clock, ServicePolicy policy) {
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.validator = new CreateSandboxValidator(policy, runtime.capabilities());
        this.expiry = new ExpiryScheduler(clock, this::expireIfDue, this::reconcile);
    }

    /** The runtime this service drives. */
    public SandboxRuntime runtime() {
        return runtime;
    }

    /**
     * Registers a listener called (on the thread that removed it, after the store forgot it) when a
     * sandbox is gone for good: deleted, expired, or forgotten by reconcile because it vanished.
     * Front doors use it to free what they keep per sandbox (command output, sessions). A listener
     * that throws is logged and does not stop the others.
     */
    public void onSandboxRemoved(java.util.function.Consumer<SandboxId> listener) {
        removalListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    private void notifyRemoved(SandboxId id) {
        for (java.util.function.Consumer<SandboxId> listener : removalListeners) {
            try {
                listener.accept(id);
            } catch (RuntimeException e) {
                LOG.warn("sandbox={} action=removal-listener error={}", id, e.toString());
            }
        }
    }

    /** The expiry schedule; exposed so that tests and the server can drive and observe it. */
    public ExpiryScheduler expiry() {
        return expiry;
    }

    /**
     * Reconciles once (adopting sandboxes the store does not know and re-arming their expiry,
     * reaping overdue ones), then starts the background expiry thread.
     */
    public void start(Duration sweepInterval) {
        reconcile();
        expiry.start(sweepInterval);
    }

    // ---------------------------------------------------------------- create

    /**
     * Validates and creates a sandbox; returns once the runtime reports it started. On any
     * failure nothing is left behind: no runtime object, no store record.
     */
    public Sandbox create(SandboxSpec spec) {
        ValidatedSpec valid = validator.validate(spec, this::restoreImageOf);
        runtime.validate(valid.spec());

        SandboxId id = SandboxId.random();
        Instant createdAt = now();
        Instant expiresAt = spec.timeout() == null ? null : createdAt.plus(spec.timeout());
        String accessToken = spec.secureAccess() || policy.requireSecureAccess() ? newToken() : null;
        SandboxRecord creating = SandboxRecord.creating(id, createdAt, expiresAt, spec.metadata(),
            valid.renewExtendSeconds(), accessToken);
        ProvisionRequest request = new ProvisionRequest(id, valid.spec(), valid.image(), valid.entrypoint(),
            valid.limits(), createdAt, expiresAt, accessToken);

        return locks.withLock(id, () -> {
            if (!store.insert(creating)) {
                throw new RuntimeFailureException(startFailedCode(), "Sandbox id collision: " + id);
            }
            Sandbox started;
            try {
                started = runtime.create(request);
            } catch (RuntimeException e) {
                undoCreate(id);
                LOG.warn("sandbox={} action=create error={}", id, e.toString());
                throw asSandboxException(e);
            }
            SandboxRecord ready = store.replace(creating.version(), creating.withPhase(SandboxRecord.Phase.READY))
                .orElseThrow(() -> new RuntimeFailureException(startFailedCode(),
                    "The record of sandbox " + id + " changed while it was being created."));
            if (expiresAt != null) {
                expiry.schedule(id, expiresAt);
            }
            LOG.info("sandbox={} action=create image={} expiresAt={}", id,
                request.image() == null ? "pool:" + request.poolRef() : request.image().uri(), expiresAt);
            Sandbox merged = merge(started, ready);
            // The response reports what the client asked for, not what the runtime wrapped around it.
            return new Sandbox(id, merged.image(), merged.snapshotId(), valid.spec().platform(), merged.status(),
                spec.metadata(), valid.entrypoint(), expiresAt, createdAt);
        });
    }

    private void undoCreate(SandboxId id) {
        try {
            runtime.remove(id);
        } catch (RuntimeException cleanupError) {
            LOG.warn("sandbox={} action=create-cleanup error={}", id, cleanupError.toString());
        }
        store.delete(id);
    }

    private String restoreImageOf(String snapshotId) {
        SnapshotRecord snapshot = store.findSnapshot(snapshotId)
            .orElseThrow(() -> new NotFoundException(ErrorCodes.SNAPSHOT_NOT_FOUND, "Snapshot " + snapshotId + " not found"));
        if (snapshot.state() != SnapshotState.Ready) {
            throw new ConflictException(ErrorCodes.SNAPSHOT_NOT_READY,
                "Snapshot " + snapshotId + " is not ready (state " + snapshot.state() + ").");
        }
        if (snapshot.restoreImage() == null || snapshot.restoreImage().isBlank()) {
            throw new ConflictException(ErrorCodes.SNAPSHOT_INVALID_RESTORE_CONFIG,
                "Snapshot " + snapshotId + " has no image to restore from.");
        }
        return snapshot.restoreImage();
    }

    // ---------------------------------------------------------------- reads

    /** One sandbox, or the runtime's not-found error. */
    public Sandbox get(SandboxId id) {
        return find(id).orElseThrow(() -> runtime.sandboxNotFound(id));
    }

    private Optional<Sandbox> find(SandboxId id) {
        Optional<Sandbox> observed = runtime.inspect(id);
        if (observed.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(merge(observed.get(), store.find(id).orElse(null)));
    }

    /** Sandboxes matching the query, newest first, one page of them. One runtime list call. */
    public Page<Sandbox> list(SandboxQuery query) {
        Map<SandboxId, SandboxRecord> records = new HashMap<>();
        for (SandboxRecord record : store.findAll()) {
            records.put(record.id(), record);
        }
        List<Sandbox> matching = new ArrayList<>();
        for (Sandbox observed : runtime.list()) {
            Sandbox sandbox = merge(observed, records.get(observed.id()));
            if (query.matches(sandbox)) {
                matching.add(sandbox);
            }
        }
        matching.sort(Comparator.comparing(Sandbox::createdAt).reversed().thenComparing(Sandbox::id));
        return Page.of(matching, query.page(), query.pageSize());
    }

    private static Sandbox merge(Sandbox observed, SandboxRecord record) {
        if (record == null) {
            return observed;
        }
        return new Sandbox(observed.id(), observed.image(), observed.snapshotId(), observed.platform(),
            observed.status(), record.metadata(), observed.entrypoint(), record.expiresAt(), record.createdAt());
    }

    // ---------------------------------------------------------------- delete / pause / resume

    /**
     * Deletes a sandbox and its record. Unknown sandboxes are a not-found error (a second delete
     * answers 404, as upstream); if the runtime fails, the record is kept so that the sweep
     * retries.
     */
    public void delete(SandboxId id) {
        locks.withLock(id, () -> {
            Optional<SandboxRecord> record = store.find(id);
            if (record.isEmpty() && runtime.inspect(id).isEmpty()) {
                throw runtime.sandboxNotFound(id);
            }
            runtime.remove(id);
            store.delete(id);
            expiry.cancel(id);
            LOG.info("sandbox={} action=delete", id);
            notifyRemoved(id);
        });
    }

    /** Pauses a running sandbox; the runtime answers conflicts in its own codes. */
    public void pause(SandboxId id) {
        locks.withLock(id, () -> {
            runtime.pause(id);
            LOG.info("sandbox={} action=pause", id);
        });
    }

    /** Resumes a paused sandbox; the runtime answers conflicts in its own codes. */
    public void resume(SandboxId id) {
        locks.withLock(id, () -> {
            runtime.resume(id);
            LOG.info("sandbox={} action=resume", id);
        });
    }

    // ---------------------------------------------------------------- renew / expire

    /**
     * Moves the expiry of a sandbox. As upstream, the new time must be in the future but may be
     * earlier than the current expiry (clients use that to shorten a lease). The renewal is
     * persisted before it is acknowledged.
     *
     * @return the accepted expiry, in microsecond precision
     */
    public Instant renew(SandboxId id, Instant requestedExpiresAt) {
        Instant newExpiresAt = requestedExpiresAt.truncatedTo(ChronoUnit.MICROS);
        return locks.withLock(id, () -> {
            Sandbox sandbox = get(id);
            if (!newExpiresAt.isAfter(clock.instant())) {
                throw new InvalidRequestException(ErrorCodes.INVALID_EXPIRATION, "New expiration time must be in the future.");
            }
            if (sandbox.manualCleanup()) {
                throw new ConflictException(ErrorCodes.INVALID_EXPIRATION,
                    "Sandbox " + id + " does not have automatic expiration enabled.");
            }
            runtime.renewExpiration(id, newExpiresAt);
            updateRecord(sandbox, record -> record.withExpiresAt(newExpiresAt));
            expiry.schedule(id, newExpiresAt);
            LOG.info("sandbox={} action=renew expiresAt={}", id, newExpiresAt);
            return newExpiresAt;
        });
    }

    /**
     * Renew-on-access (OSEP-0009): a running sandbox created with
     * {@code extensions["access.renew.extend.seconds"]} is kept alive by its traffic — its expiry
     * becomes {@code now + extend} when that is later than the current one, through the ordinary
     * renewal path (store, timer, runtime hook).
     *
     * @return the new expiry, or empty when nothing changed (no such option, manual cleanup, not
     *         running, unknown sandbox, or an expiry already later)
     */
    public Optional<Instant> renewOnAccess(SandboxId id) {
        Optional<SandboxRecord> record = store.find(id);
        if (record.isEmpty() || record.get().renewExtendSeconds() == null || record.get().expiresAt() == null) {
            return Optional.empty();
        }
        int extend = record.get().renewExtendSeconds();
        return locks.withLock(id, () -> {
            Optional<Sandbox> found = find(id);
            if (found.isEmpty() || found.get().status().state() != SandboxState.RUNNING || found.get().expiresAt() == null) {
                return Optional.<Instant>empty();
            }
            Sandbox sandbox = found.get();
            Instant wanted = clock.instant().plusSeconds(extend).truncatedTo(ChronoUnit.MICROS);
            if (!wanted.isAfter(sandbox.expiresAt())) {
                return Optional.<Instant>empty();
            }
            runtime.renewExpiration(id, wanted);
            updateRecord(sandbox, r -> r.withExpiresAt(wanted));
            expiry.schedule(id, wanted);
            LOG.info("sandbox={} action=renew-on-access expiresAt={}", id, wanted);
            return Optional.of(wanted);
        });
    }

    /**
     * The expiry action: removes the sandbox if, under its lock, its stored expiry has passed.
     * A deadline that fires after a renewal finds the new expiry and only re-arms it.
     */
    void expireIfDue(SandboxId id) {
        locks.withLock(id, () -> {
            Optional<SandboxRecord> record = store.find(id);
            if (record.isEmpty() || record.get().expiresAt() == null) {
                return;
            }
            Instant expiresAt = record.get().expiresAt();
            if (expiresAt.isAfter(clock.instant())) {
                expiry.schedule(id, expiresAt);
                return;
            }
            try {
                runtime.remove(id);
            } catch (RuntimeException e) {
                LOG.warn("sandbox={} action=expire error={} retryIn={}", id, e.toString(), EXPIRY_RETRY_DELAY);
                expiry.schedule(id, clock.instant().plus(EXPIRY_RETRY_DELAY));
                return;
            }
            store.delete(id);
            LOG.info("sandbox={} action=expire expiresAt={}", id, expiresAt);
            notifyRemoved(id);
        });
    }

    // ---------------------------------------------------------------- metadata

    /**
     * Applies an RFC 7396 merge patch to the user metadata ({@code null} deletes) and returns
     * the sandbox. The result is stored, so deleted keys never come back.
     */
    public Sandbox patchMetadata(SandboxId id, Map<String, String> patch) {
        MetadataRules.validatePatch(patch);
        return locks.withLock(id, () -> {
            Sandbox sandbox = get(id);
            runtime.patchMetadata(id, patch);
            SandboxRecord updated = updateRecord(sandbox,
                record -> record.withMetadata(MetadataRules.applyMergePatch(record.metadata(), patch)));
            return sandbox.withMetadata(updated.metadata());
        });
    }

    // ---------------------------------------------------------------- endpoints

    /**
     * Resolves where a port of a sandbox can be reached. Adds the secure-access header for
     * sandboxes created with {@code secureAccess}.
     */
    public Endpoint endpoint(SandboxId id, int port, EndpointPurpose purpose) {
        return endpoint(EndpointRequest.of(id, port, purpose));
    }

    /**
     * Resolves an endpoint, possibly a signed route ({@code expires}, OSEP-0011) where the runtime
     * issues them (others refuse with 400). Unsigned external endpoints of sandboxes created with
     * {@code secureAccess} get the secure-access header; signed ones never do: the signature is
     * their credential, and a signed URL is meant to be handed to someone who must not learn the
     * sandbox's token.
     */
    public Endpoint endpoint(EndpointRequest request) {
        if (request.port() < 1 || request.port() > 65535) {
            throw new InvalidRequestException(ErrorCodes.INVALID_PORT, "Port must be between 1 and 65535.");
        }
        Endpoint endpoint = runtime.resolveEndpoint(request);
        if (request.signed() || request.purpose() != EndpointPurpose.EXTERNAL) {
            return endpoint;
        }
        Optional<String> token = store.find(request.id()).map(SandboxRecord::accessToken);
        return token.isPresent() ? endpoint.withHeader(SECURE_ACCESS_HEADER, token.get()) : endpoint;
    }

    /** The secure-access token of a sandbox, if it was created with {@code secureAccess}. */
    public Optional<String> accessToken(SandboxId id) {
        return store.find(id).map(SandboxRecord::accessToken);
    }

    // ---------------------------------------------------------------- reconcile

    /**
     * One reconcile pass: adopts sandboxes the store does not know (for example created by the
     * upstream server, or before the store was wiped) and arms their expiry; expires overdue
     * sandboxes; forgets records of sandboxes that vanished; reaps creates interrupted by a
     * crash; lets the runtime remove orphaned helper objects. One bad sandbox never aborts the pass.
     */
    public void reconcile() {
        Instant now = clock.instant();
        Map<SandboxId, SandboxRecord> records = new HashMap<>();
        for (SandboxRecord record : store.findAll()) {
            records.put(record.id(), record);
        }
        List<Sandbox> observed = runtime.list();
        for (Sandbox sandbox : observed) {
            SandboxRecord record = records.remove(sandbox.id());
            try {
                reconcileObserved(sandbox, record, now);
            } catch (RuntimeException e) {
                LOG.warn("sandbox={} action=reconcile error={}", sandbox.id(), e.toString());
            }
        }
        for (SandboxRecord orphan : records.values()) {
            try {
                reconcileRecordWithoutSandbox(orphan, now);
            } catch (RuntimeException e) {
                LOG.warn("sandbox={} action=reconcile error={}", orphan.id(), e.toString());
            }
        }
        try {
            runtime.reapOrphans();
        } catch (RuntimeException e) {
            LOG.warn("action=reap-orphans error={}", e.toString());
        }
        expiry.fireDue();
    }

    private void reconcileObserved(Sandbox sandbox, SandboxRecord record, Instant now) {
        if (record == null) {
            SandboxRecord adopted = new SandboxRecord(sandbox.id(), SandboxRecord.Phase.READY, sandbox.createdAt(),
                sandbox.expiresAt(), sandbox.metadata(), null, null, null, 0);
            if (store.insert(adopted)) {
                LOG.info("sandbox={} action=adopt expiresAt={}", sandbox.id(), sandbox.expiresAt());
            }
            record = store.find(sandbox.id()).orElse(adopted);
        }
        if (record.expiresAt() != null) {
            expiry.schedule(sandbox.id(), record.expiresAt());
        }
    }

    private void reconcileRecordWithoutSandbox(SandboxRecord record, Instant now) {
        if (record.phase() == SandboxRecord.Phase.CREATING
            && record.createdAt().plus(STALE_CREATE_AFTER).isAfter(now)) {
            return; // still being created
        }
        locks.withLock(record.id(), () -> {
            // list() may leave out a sandbox it could not read: make sure it is really gone.
            if (runtime.inspect(record.id()).isPresent()) {
                return;
            }
            if (record.phase() == SandboxRecord.Phase.CREATING) {
                runtime.remove(record.id());
            }
            store.delete(record.id());
            expiry.cancel(record.id());
            LOG.info("sandbox={} action=forget phase={}", record.id(), record.phase());
            notifyRemoved(record.id());
        });
    }

    // ---------------------------------------------------------------- helpers

    private SandboxRecord updateRecord(Sandbox sandbox, java.util.function.UnaryOperator<SandboxRecord> change) {
        for (int attempt = 0; attempt < MAX_COMPARE_AND_SET_ATTEMPTS; attempt++) {
            Optional<SandboxRecord> current = store.find(sandbox.id());
            if (current.isEmpty()) {
                SandboxRecord adopted = change.apply(new SandboxRecord(sandbox.id(), SandboxRecord.Phase.READY,
                    sandbox.createdAt(), sandbox.expiresAt(), sandbox.metadata(), null, null, null, 0));
                if (store.insert(adopted)) {
                    return adopted;
                }
                continue;
            }
            Optional<SandboxRecord> stored = store.replace(current.get().version(), change.apply(current.get()));
            if (stored.isPresent()) {
                return stored.get();
            }
        }
        throw new ConflictException(runtime.capabilities().errorNamespace() + "::CONCURRENT_UPDATE",
            "Sandbox " + sandbox.id() + " was changed concurrently; retry the request.");
    }

    private SandboxException asSandboxException(RuntimeException e) {
        if (e instanceof SandboxException sandboxException) {
            return sandboxException;
        }
        return new RuntimeFailureException(startFailedCode(), "Failed to start sandbox: " + e.getMessage(), e);
    }

    private String startFailedCode() {
        return runtime.capabilities().errorNamespace() + "::SANDBOX_START_FAILED";
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    private String newToken() {
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Stops the expiry thread. Does not close the runtime or the store, which the caller owns. */
    @Override
    public void close() {
        expiry.close();
    }
}
