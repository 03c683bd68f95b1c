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
    /**
     * The furthest ahead an expiry may be, on create ({@code timeout}) and renew ({@code expiresAt}):
     * ten years. Beyond it, instants stop being writable as RFC 3339 by some clients and deadlines
     * stop fitting a {@code long} of nanoseconds; no lease of a sandbox needs more.
     */
    public static final Duration LONGEST_LEASE = Duration.ofDays(3650);
    /**
     * How long the hidden record of a create whose outcome is uncertain is kept: its runtime call
     * timed out ({@link dev.opensandbox.core.DeadlineExceededException}), the platform could not be
     * reached ({@link dev.opensandbox.core.PlatformUnavailableException}), or removing what it made failed. The platform may
     * still finish the create after the client got its error; while the record is kept, reconcile
     * removes whatever shows up under the id, and the record's expiry removes it once more.
     */
    static final Duration UNCERTAIN_CREATE_RETENTION = Duration.ofMinutes(10);
    /** The least a create interrupted by a crash is kept hidden (see {@link #interruptedCreateRetention}). */
    static final Duration MIN_INTERRUPTED_CREATE_RETENTION = Duration.ofSeconds(2);
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
    /** Creates under way in this process; a CREATING record not among them was interrupted by a crash. */
    private final java.util.Set<SandboxId> creating = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile Duration sweepInterval = Duration.ofSeconds(10);
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
        this.sweepInterval = Objects.requireNonNull(sweepInterval, "sweepInterval");
        reconcile();
        expiry.start(sweepInterval);
    }

    // ---------------------------------------------------------------- create

    /**
     * Validates and creates a sandbox; returns once the runtime reports it started. On any
     * failure nothing is left behind: what the runtime made is removed, and the record with it —
     * unless the outcome is uncertain (the runtime call timed out, the platform was unreachable, or
     * the removal failed): then the record stays, hidden from every read, as a tombstone that
     * reconcile and expiry use to remove whatever the platform still makes under the id.
     */
    public Sandbox create(SandboxSpec spec) {
        ValidatedSpec valid = validator.validate(spec, this::restoreImageOf);
        if (spec.timeout() != null && spec.timeout().compareTo(LONGEST_LEASE) > 0) {
            throw new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, "timeout must be at most "
                + LONGEST_LEASE.toSeconds() + " seconds (" + LONGEST_LEASE.toDays() + " days).");
        }
        runtime.validate(valid.spec());

        SandboxId id = SandboxId.random();
        Instant createdAt = now();
        Instant expiresAt = spec.timeout() == null ? null : createdAt.plus(spec.timeout());
        String accessToken = spec.secureAccess() || policy.requireSecureAccess() ? newToken() : null;
        SandboxRecord record = SandboxRecord.creating(id, createdAt, expiresAt, spec.metadata(),
            valid.renewExtendSeconds(), accessToken);
        ProvisionRequest request = new ProvisionRequest(id, valid.spec(), valid.image(), valid.entrypoint(),
            valid.limits(), createdAt, expiresAt, accessToken);

        // Registered before the record exists, so that reconcile never takes this create for one a
        // crash interrupted.
        creating.add(id);
        try {
            return locks.withLock(id, () -> createLocked(request, record, spec, valid));
        } finally {
            creating.remove(id);
        }
    }

    private Sandbox createLocked(ProvisionRequest request, SandboxRecord creatingRecord, SandboxSpec spec,
                                 ValidatedSpec valid) {
        SandboxId id = request.id();
        if (!store.insert(creatingRecord)) {
            throw new RuntimeFailureException(startFailedCode(), "Sandbox id collision: " + id);
        }
        Sandbox started;
        try {
            started = runtime.create(request);
        } catch (RuntimeException e) {
            LOG.warn("sandbox={} action=create error={}", id, e.toString());
            undoCreate(creatingRecord, e);
            throw asSandboxException(e);
        }
        SandboxRecord ready = store.replace(creatingRecord.version(), creatingRecord.withPhase(SandboxRecord.Phase.READY))
            .orElseThrow(() -> new RuntimeFailureException(startFailedCode(),
                "The record of sandbox " + id + " changed while it was being created."));
        Instant expiresAt = request.expiresAt();
        if (expiresAt != null) {
            expiry.schedule(id, expiresAt);
        }
        LOG.info("sandbox={} action=create image={} expiresAt={}", id,
            request.image() == null ? "pool:" + request.poolRef() : request.image().uri(), expiresAt);
        Sandbox merged = merge(started, ready);
        // The response reports what the client asked for, not what the runtime wrapped around it.
        return new Sandbox(id, merged.image(), merged.snapshotId(), valid.spec().platform(), merged.status(),
            spec.metadata(), valid.entrypoint(), expiresAt, request.createdAt());
    }

    /**
     * Removes what a failed create made. The record goes too when that is certain to be all; it is
     * kept as a hidden tombstone when the removal failed or the failure leaves the platform's state
     * unknown: a timeout, after which the create may still complete, or an unreachable platform,
     * which is not asked again now (that would only wait once more) — reconcile removes what is left
     * once it answers.
     */
    private void undoCreate(SandboxRecord record, RuntimeException failure) {
        SandboxId id = record.id();
        String reason = "create failed: " + failure.getMessage();
        if (failure instanceof dev.opensandbox.core.PlatformUnavailableException) {
            keepTombstone(record, reason, UNCERTAIN_CREATE_RETENTION);
            return;
        }
        boolean removed;
        try {
            runtime.remove(id);
            removed = true;
        } catch (RuntimeException cleanupError) {
            LOG.warn("sandbox={} action=create-cleanup error={}", id, cleanupError.toString());
            removed = false;
        }
        if (removed && !(failure instanceof dev.opensandbox.core.DeadlineExceededException)) {
            store.delete(id);
            return;
        }
        keepTombstone(record, reason, UNCERTAIN_CREATE_RETENTION);
    }

    /**
     * Turns the record of a create that did not finish into a hidden tombstone removed at
     * {@code now + retention}. Best effort: if the store refuses, the record stays as it was and the
     * next reconcile pass tries again.
     */
    private void keepTombstone(SandboxRecord record, String reason, Duration retention) {
        Instant removeAt = clock.instant().plus(retention);
        Optional<SandboxRecord> current = store.find(record.id());
        if (current.isEmpty()) {
            return;
        }
        Optional<SandboxRecord> stored = store.replace(current.get().version(), current.get().tombstone(reason, removeAt));
        if (stored.isPresent()) {
            expiry.schedule(record.id(), removeAt);
            LOG.info("sandbox={} action=keep-failed-create removeAt={} reason={}", record.id(), removeAt, reason);
        }
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
        // The store first: delete removes the sandbox before its record, so a record read here that is
        // gone by the time the runtime answers means the sandbox is gone too — never a sandbox shown
        // with the expiry and metadata it had at create time because its record was just deleted.
        SandboxRecord record = store.find(id).orElse(null);
        Optional<Sandbox> observed = runtime.inspect(id);
        if (observed.isEmpty()) {
            return Optional.empty();
        }
        if (record != null && record.phase() == SandboxRecord.Phase.FAILED) {
            return Optional.empty(); // the remains of a failed create: being removed, never shown
        }
        return Optional.of(merge(observed.get(), record));
    }

    /** Sandboxes matching the query, newest first, one page of them. One runtime list call. */
    public Page<Sandbox> list(SandboxQuery query) {
        Map<SandboxId, SandboxRecord> records = new HashMap<>();
        for (SandboxRecord record : store.findAll()) {
            records.put(record.id(), record);
        }
        List<Sandbox> matching = new ArrayList<>();
        for (Sandbox observed : runtime.list()) {
            SandboxRecord record = records.get(observed.id());
            if (record != null && record.phase() == SandboxRecord.Phase.FAILED) {
                continue;
            }
            Sandbox sandbox = merge(observed, record);
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
            if (record.isPresent() && record.get().phase() == SandboxRecord.Phase.FAILED) {
                throw runtime.sandboxNotFound(id);
            }
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
            if (newExpiresAt.isAfter(clock.instant().plus(LONGEST_LEASE))) {
                throw new InvalidRequestException(ErrorCodes.INVALID_EXPIRATION, "New expiration time must be at most "
                    + LONGEST_LEASE.toDays() + " days from now.");
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
            if (record.get().phase() == SandboxRecord.Phase.FAILED) {
                LOG.info("sandbox={} action=drop-failed-create", id);
                return;
            }
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
     * sandboxes; forgets records of sandboxes that vanished; turns creates interrupted by a crash
     * into tombstones and removes what they left; removes what shows up under a failed create's
     * tombstone; lets the runtime remove orphaned helper objects. Sandboxes with an operation in
     * flight (their lock is held) are left alone until the next pass. One bad sandbox never aborts
     * the pass.
     *
     * <p>A record in phase CREATING that no create of this process holds is taken for one a crash
     * interrupted. That assumes one server per store and deployment, as today; replicas sharing a
     * store would have to record which replica holds a create.
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
            reconcileOne(sandbox.id(), () -> reconcileObserved(sandbox, record));
        }
        for (SandboxRecord unobserved : records.values()) {
            reconcileOne(unobserved.id(), () -> reconcileRecordWithoutSandbox(unobserved, now));
        }
        try {
            runtime.reapOrphans();
        } catch (RuntimeException e) {
            LOG.warn("action=reap-orphans error={}", e.toString());
        }
        expiry.fireDue();
    }

    private void reconcileOne(SandboxId id, Runnable action) {
        if (creating.contains(id)) {
            return;
        }
        try {
            locks.tryWithLock(id, action);
        } catch (RuntimeException e) {
            LOG.warn("sandbox={} action=reconcile error={}", id, e.toString());
        }
    }

    /** Under the sandbox's lock. {@code listed} is the record as the pass read it, before the lock. */
    private void reconcileObserved(Sandbox sandbox, SandboxRecord listed) {
        SandboxRecord record = listed == null ? null : store.find(sandbox.id()).orElse(null);
        if (listed == null) {
            SandboxRecord adopted = new SandboxRecord(sandbox.id(), SandboxRecord.Phase.READY, sandbox.createdAt(),
                sandbox.expiresAt(), sandbox.metadata(), null, null, null, 0);
            if (store.insert(adopted)) {
                LOG.info("sandbox={} action=adopt expiresAt={}", sandbox.id(), sandbox.expiresAt());
            }
            record = store.find(sandbox.id()).orElse(adopted);
        }
        if (record == null) {
            return; // deleted since the pass read the store
        }
        switch (record.phase()) {
            case CREATING -> {
                // No create of this process holds it (checked before the lock was taken): a crash
                // interrupted it, after the platform had made the sandbox.
                removeRemains(record, "create interrupted");
                keepTombstone(record, "create interrupted before it finished", interruptedCreateRetention());
            }
            case FAILED -> removeRemains(record, "failed create");
            case READY -> {
                if (record.expiresAt() != null) {
                    expiry.schedule(sandbox.id(), record.expiresAt());
                }
            }
        }
    }

    /** Under the sandbox's lock. */
    private void reconcileRecordWithoutSandbox(SandboxRecord listed, Instant now) {
        Optional<SandboxRecord> current = store.find(listed.id());
        if (current.isEmpty()) {
            return;
        }
        SandboxRecord record = current.get();
        // list() may leave out a sandbox it could not read: make sure it is really gone.
        if (runtime.inspect(record.id()).isPresent()) {
            return;
        }
        switch (record.phase()) {
            case CREATING -> keepTombstone(record, "create interrupted before it finished", interruptedCreateRetention());
            case FAILED -> {
                if (record.expiresAt() != null) {
                    expiry.schedule(record.id(), record.expiresAt()); // re-armed after a restart
                }
            }
            case READY -> {
                // Gone from the runtime's list, perhaps by a delete a crash cut short: let the runtime
                // remove whatever else it made for the sandbox (idempotent) before the record goes.
                removeRemains(record, "vanished sandbox");
                store.delete(record.id());
                expiry.cancel(record.id());
                LOG.info("sandbox={} action=forget phase={}", record.id(), record.phase());
                notifyRemoved(record.id());
            }
        }
    }

    private void removeRemains(SandboxRecord record, String what) {
        try {
            runtime.remove(record.id());
            LOG.info("sandbox={} action=remove-remains of={}", record.id(), what);
        } catch (RuntimeException e) {
            LOG.warn("sandbox={} action=remove-remains of={} error={}", record.id(), what, e.toString());
        }
    }

    /**
     * A create a crash interrupted was sent to the platform at most moments before the crash, so the
     * platform finishes it (or not) at once: keeping its tombstone for two reconcile passes is enough
     * for reconcile to see and remove anything it still made.
     */
    private Duration interruptedCreateRetention() {
        Duration twoPasses = sweepInterval.multipliedBy(2);
        return twoPasses.compareTo(MIN_INTERRUPTED_CREATE_RETENTION) < 0 ? MIN_INTERRUPTED_CREATE_RETENTION : twoPasses;
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
