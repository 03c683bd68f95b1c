package dev.opensandbox.core.spi;

import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.UnsupportedCapabilityException;

import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The service provider interface a runtime adapter implements: Docker, Kubernetes, the
 * in-memory runtime, or a third party's. The compatibility kit in {@code sandbox-it} checks an
 * implementation against this contract.
 *
 * <h2>General contract</h2>
 * <ul>
 *   <li>Implementations are thread-safe. The core serializes the verbs of <em>one</em> sandbox
 *       (create, remove, pause, resume) but calls different sandboxes concurrently.</li>
 *   <li>Every call blocks until done and is bounded by the runtime's own timeouts; the core runs
 *       calls off request threads.</li>
 *   <li>Every object a runtime creates (containers, sidecars, volumes, custom resources, helper
 *       containers) carries labels from which it can be found and removed, using the upstream
 *       keys of {@link dev.opensandbox.core.Labels}, so that objects created by the upstream
 *       server are adopted too.</li>
 *   <li>Failures are thrown as {@link SandboxException} subclasses with the upstream code
 *       strings; vendor exceptions never escape. An unknown sandbox is reported by
 *       {@link #sandboxNotFound(SandboxId)}.</li>
 *   <li>The runtime is the source of truth for what runs. It reports the expiry and metadata it
 *       recorded at create time; the core overlays what it stored since (renewals, patches).</li>
 * </ul>
 */
public interface SandboxRuntime extends AutoCloseable {

    /** The configuration id of this runtime, for example {@code docker}. */
    String type();

    /** What this runtime can do beyond the mandatory verbs. Constant for the life of the instance. */
    RuntimeCapabilities capabilities();

    /**
     * Checks runtime-specific rules of a request before anything is created or stored, for
     * example that a network policy needs a configured egress image. The default accepts
     * everything.
     *
     * @throws SandboxException (usually {@link dev.opensandbox.core.InvalidRequestException}) to refuse
     */
    default void validate(SandboxSpec spec) {
    }

    /**
     * Creates and starts a sandbox. Blocks until the sandbox's entrypoint has been started (not
     * until anything inside it is ready).
     *
     * <p>Not idempotent: the core never calls it twice with one id. On failure it removes every
     * object it created for this id before throwing.
     *
     * @return the sandbox as the runtime now sees it, normally in state {@code Running}
     */
    Sandbox create(ProvisionRequest request);

    /**
     * Reads one sandbox. Never throws for an unknown id.
     *
     * @return the sandbox, or empty if the runtime has no sandbox with this id
     */
    Optional<Sandbox> inspect(SandboxId id);

    /**
     * Lists every sandbox this runtime manages: only objects carrying the
     * {@link dev.opensandbox.core.Labels#ID} label, never helper objects such as sidecars.
     * Should cost one call to the underlying platform, not one per sandbox. A sandbox that
     * cannot be read is left out (and logged), never fails the whole list.
     */
    List<Sandbox> list();

    /**
     * Removes a sandbox and everything created for it (sidecars, volumes it created with
     * delete-on-termination). Idempotent: removing an unknown or already removed sandbox
     * succeeds. Blocks until the sandbox is gone or its removal is irrevocably under way.
     */
    void remove(SandboxId id);

    /**
     * Freezes a running sandbox. Requires {@link RuntimeCapabilities#pause()}.
     *
     * @throws NotFoundException for an unknown id
     * @throws dev.opensandbox.core.ConflictException when it is not running (including already paused)
     */
    default void pause(SandboxId id) {
        throw unsupported("pause");
    }

    /**
     * Thaws a paused sandbox. Requires {@link RuntimeCapabilities#pause()}.
     *
     * @throws NotFoundException for an unknown id
     * @throws dev.opensandbox.core.ConflictException when it is not paused
     */
    default void resume(SandboxId id) {
        throw unsupported("resume");
    }

    /**
     * Records a renewal where the platform enforces expiry itself (Kubernetes: the controller
     * deletes a workload at its {@code expireTime}). Called under the sandbox's lock before the
     * core stores the renewal; a failure leaves the old expiry in place. The default does nothing:
     * the core's store and timers own expiry.
     */
    default void renewExpiration(SandboxId id, Instant expiresAt) {
    }

    /**
     * Applies an RFC 7396 metadata patch ({@code null} removes a key) where the platform keeps
     * metadata too (Kubernetes labels). Called under the sandbox's lock before the core stores
     * it. The default does nothing: the core's store owns metadata changes.
     */
    default void patchMetadata(SandboxId id, java.util.Map<String, String> patch) {
    }

    /**
     * Resolves where {@code port} of a sandbox can be reached. Does not check that anything
     * listens on the port: clients ask right after create. Derived from how the sandbox was
     * created, not from today's configuration.
     *
     * @throws NotFoundException for an unknown id
     * @throws dev.opensandbox.core.ConflictException when the sandbox cannot be reached for this
     *         purpose: it stopped outside the server, or (an {@link EndpointPurpose#INTERNAL}
     *         endpoint) the server's proxy must not dial it, as in Docker's host network mode
     */
    Endpoint resolveEndpoint(SandboxId id, int port, EndpointPurpose purpose);

    /**
     * Resolves an endpoint that may be a signed route ({@link EndpointRequest#expires()}, OSEP-0011):
     * an address that carries its own expiry and signature, so that a gateway can admit the
     * bearer without any other credential. The core adds no secure-access header to a signed
     * endpoint.
     *
     * <p>The default resolves an unsigned request with {@link #resolveEndpoint(SandboxId, int,
     * EndpointPurpose)} and refuses a signed one with 400 {@code SANDBOX::API_NOT_SUPPORTED}, as
     * upstream's Docker runtime does. A runtime that issues signed routes overrides this method and
     * must still resolve unsigned requests exactly as the three-argument method does (decorators
     * such as {@link ForwardingSandboxRuntime} rely on it). Validation order, as upstream: the
     * {@code expires} value, then the sandbox's existence (404), then the runtime's configuration.
     *
     * @throws InvalidRequestException for an {@code expires} the runtime refuses or cannot sign
     * @throws NotFoundException for an unknown id
     */
    default Endpoint resolveEndpoint(EndpointRequest request) {
        if (request.signed()) {
            throw new InvalidRequestException(ErrorCodes.API_NOT_SUPPORTED,
                "Signed routes (expires parameter) are not supported when runtime.type='" + type() + "'.");
        }
        return resolveEndpoint(request.id(), request.port(), request.purpose());
    }

    /**
     * Starts a command inside a running sandbox and streams its output to {@code output}.
     * Requires {@link RuntimeCapabilities#exec()}. Returns once the command has started.
     */
    default ExecHandle exec(SandboxId id, ExecRequest request, ExecOutput output) {
        throw unsupported("exec");
    }

    /**
     * Writes a file inside a sandbox, creating parent directories. Requires
     * {@link RuntimeCapabilities#files()}. Reads {@code content} to its end; does not close it.
     */
    default void writeFile(SandboxId id, String path, InputStream content, long size, int mode) {
        throw unsupported("writeFile");
    }

    /**
     * Opens a file inside a sandbox for reading. Requires {@link RuntimeCapabilities#files()}.
     * The caller closes the stream.
     *
     * @throws NotFoundException when the sandbox or the file does not exist
     */
    default InputStream readFile(SandboxId id, String path) {
        throw unsupported("readFile");
    }

    /** Describes a file, or empty when it does not exist. Requires {@link RuntimeCapabilities#files()}. */
    default Optional<FileInfo> statFile(SandboxId id, String path) {
        throw unsupported("statFile");
    }

    /**
     * The sandbox's own output (stdout and stderr of its entrypoint), newest {@code tail} lines
     * since {@code since} (null for all). Requires {@link RuntimeCapabilities#logs()}.
     */
    default String logs(SandboxId id, int tail, Instant since) {
        throw unsupported("logs");
    }

    /**
     * A plain-text description of one sandbox as the platform sees it (for Docker: container,
     * image, state, resources, networks, ports, labels, environment), for
     * {@code GET /sandboxes/{id}/diagnostics/inspect}. Values that may be secrets (see
     * {@link dev.opensandbox.core.Secrets}) are masked. Empty when the runtime has nothing beyond
     * the generic sandbox fields (the default).
     *
     * @throws NotFoundException for an unknown id
     */
    default Optional<String> describe(SandboxId id) {
        return Optional.empty();
    }

    /**
     * Notable lifecycle events of one sandbox as plain-text lines, oldest first, at most
     * {@code limit}, for {@code GET /sandboxes/{id}/diagnostics/events}. Empty when the runtime
     * records none (the default: the server then reports the generic state transitions).
     *
     * @throws NotFoundException for an unknown id
     */
    default Optional<List<String>> events(SandboxId id, int limit) {
        return Optional.empty();
    }

    /**
     * Measures what a running sandbox uses now. Requires {@link RuntimeCapabilities#exec()} (the
     * built-in execd serves it as {@code /metrics}); may take up to about a second when the
     * runtime samples CPU use over an interval.
     *
     * @throws NotFoundException when the sandbox does not exist
     * @throws dev.opensandbox.core.ConflictException when it is not running
     */
    default ResourceUsage stats(SandboxId id) {
        throw unsupported("stats");
    }

    /**
     * Captures the filesystem of a sandbox as a restorable image. Requires
     * {@link RuntimeCapabilities#snapshots()}. Blocks until the image exists.
     *
     * @return the image reference a later {@link #create} can run
     * @throws SnapshotCommitException when the platform reported why the snapshot failed, in a
     *                                 reason of upstream's vocabulary that the core records as is
     */
    default String commitSnapshot(SandboxId id, String snapshotId) {
        throw unsupported("commitSnapshot");
    }

    /** Deletes a snapshot image; deleting a missing one succeeds. Requires {@link RuntimeCapabilities#snapshots()}. */
    default void deleteSnapshotImage(String image) {
        throw unsupported("deleteSnapshotImage");
    }

    /**
     * Deletes everything a snapshot left on the platform: its image, and whatever object the
     * runtime made to commit it (Kubernetes: the {@code SandboxSnapshot} custom resource, which
     * exists before there is an image and also after a failed commit). Idempotent: deleting what
     * is already gone succeeds. The core calls this, not {@link #deleteSnapshotImage}, for every
     * snapshot it deletes, with or without an image. Requires {@link RuntimeCapabilities#snapshots()}.
     *
     * <p>The default deletes the image when there is one and does nothing otherwise, which is all
     * a runtime whose snapshots are plain images needs.
     *
     * @param snapshotId the snapshot's id
     * @param image      the image {@link #commitSnapshot} returned, or null when it returned none
     * @throws dev.opensandbox.core.ConflictException when the image is still in use
     */
    default void deleteSnapshot(String snapshotId, String image) {
        if (image != null) {
            deleteSnapshotImage(image);
        }
    }

    /**
     * The image {@link #commitSnapshot} makes for a snapshot id, when the runtime can tell it
     * without the commit's result (it names images deterministically, or keeps a platform object
     * named after the snapshot that records the image), so that a snapshot interrupted by a crash
     * can be recovered by looking for it. Empty by default, and when the image is not known (yet):
     * such snapshots are then marked failed.
     */
    default Optional<String> snapshotImageFor(String snapshotId) {
        return Optional.empty();
    }

    /** Whether a snapshot image exists. Requires {@link RuntimeCapabilities#snapshots()}. */
    default boolean snapshotImageExists(String image) {
        throw unsupported("snapshotImageExists");
    }

    /**
     * Checks that the platform answers, within the runtime's own call timeout: for Docker a ping of
     * the engine, for Kubernetes a call to the API server. Servers call it from a background probe
     * (never on a request thread) to report their health. The default does nothing (always healthy).
     *
     * @throws dev.opensandbox.core.UnavailableException naming the platform and what failed, when it
     *                                                   does not answer in time or refuses
     */
    default void probe() {
    }

    /**
     * Removes helper objects whose sandbox no longer exists (sidecars, temporary containers,
     * volumes the runtime created), for example after a crash. Called by the core's periodic
     * reconcile pass; must tolerate per-object failures (log and go on). The default does nothing.
     */
    default void reapOrphans() {
    }

    /**
     * Pool management, present exactly when {@link RuntimeCapabilities#pools()} is true. The
     * default is empty: the HTTP API then answers 501 {@code KUBERNETES::POOL_NOT_SUPPORTED}, as
     * upstream does outside Kubernetes.
     */
    default Optional<PoolRuntime> pools() {
        return Optional.empty();
    }

    /**
     * The error for an unknown sandbox, in this runtime's words. Upstream's Docker and Kubernetes
     * servers phrase it differently and clients have seen both.
     */
    default NotFoundException sandboxNotFound(SandboxId id) {
        return new NotFoundException(capabilities().errorNamespace() + "::SANDBOX_NOT_FOUND",
            "Sandbox " + id + " not found.");
    }

    /** Releases clients, threads and connections. The default does nothing. */
    @Override
    default void close() {
    }

    private UnsupportedCapabilityException unsupported(String verb) {
        return new UnsupportedCapabilityException(capabilities().errorNamespace() + "::NOT_SUPPORTED",
            "The " + type() + " runtime does not support " + verb + ".");
    }
}
