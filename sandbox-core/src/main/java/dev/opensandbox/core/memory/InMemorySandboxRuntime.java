package dev.opensandbox.core.memory;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.memory.MemoryFileSystem.FsException;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.FileInfo;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.ResourceUsage;
import dev.opensandbox.core.spi.RuntimeCapabilities;
import dev.opensandbox.core.spi.SandboxRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * A {@link SandboxRuntime} without containers, for tests, demos and embedders: sandboxes are
 * objects in memory that behave like the default Docker runtime, down to its status texts and
 * {@code DOCKER::} error codes, so that it passes the runtime compatibility kit.
 *
 * <ul>
 *   <li><b>Entrypoint.</b> {@link #create} interprets the entrypoint with a small shell (argv or
 *       {@code sh -c SCRIPT}; {@code echo}, {@code exit}, {@code sleep}, file commands, ...). One
 *       that would keep running ({@code sleep N}, {@code tail -f /dev/null}, any program the
 *       shell does not know) leaves the sandbox {@code Running}; one that finishes leaves it
 *       {@code Terminated} (exit 0) or {@code Failed} (non-zero) by the time {@code create}
 *       returns, although the returned sandbox says {@code Running}, as Docker's would. What it
 *       printed becomes the {@link #logs}.</li>
 *   <li><b>Exec</b> runs the same shell synchronously over the sandbox's in-memory filesystem and
 *       environment; an unknown program exits 127. Nothing waits: {@code sleep} returns at once,
 *       because there is no process to wait for and tests must not depend on wall-clock time.</li>
 *   <li><b>Files</b> live in a per-sandbox map; writing creates parent directories.</li>
 *   <li><b>Snapshots</b> copy the filesystem into an image named
 *       {@code in-memory-snapshots:<snapshotId>}; creating a sandbox from that image starts with
 *       the copy. Only the filesystem is captured, not the environment.</li>
 *   <li><b>Endpoints</b> resolve to {@code in-memory.invalid:<port>}: nothing listens there (the
 *       {@code .invalid} domain never resolves), so servers must reach the sandbox through exec
 *       and files instead of a network.</li>
 *   <li><b>Exec user</b> ({@link ExecRequest#user()}) is accepted and ignored: there are no
 *       users to switch to.</li>
 *   <li><b>Stats</b> report the CPU and memory limits the sandbox was given (else one CPU and
 *       512 MiB), no CPU use and a small fixed memory use.</li>
 *   <li>Volumes, network policies and resource limits are accepted; limits show only in
 *       {@link #stats}, nothing enforces them. Expiry is the core's job: the runtime only reports
 *       the expiry it was given.</li>
 * </ul>
 *
 * <p>Thread-safe. All time comes from the injected {@link Clock}; transitions, including pause
 * and resume (which upstream does not record), set {@code lastTransitionAt}.
 */
public final class InMemorySandboxRuntime implements SandboxRuntime {

    /** The repository part of snapshot image references, after Docker's {@code opensandbox-snapshots}. */
    static final String SNAPSHOT_REPOSITORY = "in-memory-snapshots";
    static final String ENDPOINT_HOST = "in-memory.invalid";

    static final String START_FAILED = "DOCKER::SANDBOX_START_FAILED";
    static final String IMAGE_PULL_FAILED = "DOCKER::SANDBOX_IMAGE_PULL_FAILED";
    static final String FILE_NOT_FOUND = "DOCKER::FILE_NOT_FOUND";
    static final String INVALID_FILE_PATH = "DOCKER::INVALID_FILE_PATH";
    static final String FILE_WRITE_FAILED = "DOCKER::FILE_WRITE_FAILED";

    private static final Logger LOG = LoggerFactory.getLogger(InMemorySandboxRuntime.class);
    private static final RuntimeCapabilities CAPABILITIES =
        new RuntimeCapabilities("DOCKER", true, true, true, true, true, false);

    private final Clock clock;
    private final Map<SandboxId, MemorySandbox> sandboxes = new ConcurrentHashMap<>();
    private final Set<String> unmanagedWorkloads = ConcurrentHashMap.newKeySet();
    private final Map<String, MemoryFileSystem> snapshotImages = new ConcurrentHashMap<>();
    // Guards snapshot images against being deleted while a create copies them: check and act must be one step.
    private final Object imageLock = new Object();
    private final AtomicReference<SandboxException> nextCreateFailure = new AtomicReference<>();

    /** Creates an empty runtime that reads all time from {@code clock}. */
    public InMemorySandboxRuntime(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public String type() {
        return InMemoryRuntimeProvider.TYPE;
    }

    @Override
    public RuntimeCapabilities capabilities() {
        return CAPABILITIES;
    }

    /**
     * Makes the next {@link #create} throw {@code failure} without creating anything, to test how
     * callers handle provisioning errors. Only the next call fails.
     */
    public void failNextCreate(SandboxException failure) {
        nextCreateFailure.set(Objects.requireNonNull(failure, "failure"));
    }

    /**
     * Adds an object that is not a sandbox (it has no {@link dev.opensandbox.core.Labels#ID} label),
     * such as an egress sidecar or a container someone else started. {@link #list} must not
     * return it; the compatibility kit checks exactly that.
     */
    public void addUnmanagedWorkload(String name) {
        unmanagedWorkloads.add(Objects.requireNonNull(name, "name"));
    }

    @Override
    public Sandbox create(ProvisionRequest request) {
        SandboxException injected = nextCreateFailure.getAndSet(null);
        if (injected != null) {
            throw injected;
        }
        Instant now = clock.instant();
        MemorySandbox sandbox;
        synchronized (imageLock) {
            sandbox = new MemorySandbox(request, initialFileSystem(request.image().uri(), now), environment(request), now);
            if (sandboxes.putIfAbsent(request.id(), sandbox) != null) {
                throw new RuntimeFailureException(START_FAILED,
                    "Failed to start sandbox container: sandbox " + request.id() + " already exists.");
            }
        }
        synchronized (sandbox) {
            Sandbox started = sandbox.view();
            started = started.withStatus(started.status().withMessage("Sandbox container started successfully."));
            sandbox.runEntrypoint(clock);
            LOG.debug("Created in-memory sandbox {} (now {})", request.id(), sandbox.view().status().state().wireName());
            return started;
        }
    }

    private MemoryFileSystem initialFileSystem(String image, Instant now) {
        if (!image.startsWith(SNAPSHOT_REPOSITORY + ":")) {
            return MemoryFileSystem.base(now);
        }
        MemoryFileSystem snapshot = snapshotImages.get(image);
        if (snapshot == null) {
            throw new RuntimeFailureException(IMAGE_PULL_FAILED,
                "Failed to pull image " + image + ": the snapshot image does not exist.");
        }
        return snapshot.copy();
    }

    private static Map<String, String> environment(ProvisionRequest request) {
        // What Docker gives a container whose image sets nothing; the request's env wins.
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("HOME", "/root");
        env.putAll(request.spec().env());
        return env;
    }

    @Override
    public Optional<Sandbox> inspect(SandboxId id) {
        MemorySandbox sandbox = sandboxes.get(id);
        if (sandbox == null) {
            return Optional.empty();
        }
        synchronized (sandbox) {
            return sandbox.removed() ? Optional.empty() : Optional.of(sandbox.view());
        }
    }

    @Override
    public List<Sandbox> list() {
        // Unmanaged workloads live in their own set and are never converted: they carry no id label.
        return sandboxes.keySet().stream()
            .map(this::inspect)
            .flatMap(Optional::stream)
            .sorted(Comparator.comparing(Sandbox::createdAt).thenComparing(Sandbox::id))
            .toList();
    }

    @Override
    public void remove(SandboxId id) {
        MemorySandbox sandbox = sandboxes.remove(id);
        if (sandbox != null) {
            synchronized (sandbox) {
                sandbox.markRemoved();
            }
            LOG.debug("Removed in-memory sandbox {}", id);
        }
    }

    @Override
    public void pause(SandboxId id) {
        locked(id, sandbox -> {
            sandbox.pause(clock.instant());
            return null;
        });
        LOG.debug("Paused in-memory sandbox {}", id);
    }

    @Override
    public void resume(SandboxId id) {
        locked(id, sandbox -> {
            sandbox.resume(clock.instant());
            return null;
        });
        LOG.debug("Resumed in-memory sandbox {}", id);
    }

    @Override
    public Endpoint resolveEndpoint(SandboxId id, int port, EndpointPurpose purpose) {
        locked(id, sandbox -> null);
        return Endpoint.of(ENDPOINT_HOST + ":" + port);
    }

    /**
     * Runs the command to its end before returning (see the class comment for the shell it
     * understands) and delivers all output to {@code output} first; the handle is already
     * completed.
     *
     * @throws ConflictException {@code DOCKER::SANDBOX_NOT_RUNNING} unless the sandbox is running
     */
    @Override
    public ExecHandle exec(SandboxId id, ExecRequest request, ExecOutput output) {
        MemorySandbox.ExecResult result = locked(id, sandbox -> sandbox.exec(request, clock));
        // Delivered outside the sandbox's monitor so that a slow or re-entrant consumer cannot block other verbs.
        for (MemorySandbox.Chunk chunk : result.output()) {
            if (chunk.stderr()) {
                output.stderr(chunk.bytes(), 0, chunk.bytes().length);
            } else {
                output.stdout(chunk.bytes(), 0, chunk.bytes().length);
            }
        }
        return new CompletedExec(result.exitCode());
    }

    /**
     * Reports the CPUs and memory the sandbox's limits grant (one CPU and 512 MiB without
     * limits), 0 % CPU in use and a small fixed amount of memory: nothing runs that could use any.
     *
     * @throws ConflictException {@code DOCKER::SANDBOX_NOT_RUNNING} unless the sandbox is running
     */
    @Override
    public ResourceUsage stats(SandboxId id) {
        return locked(id, MemorySandbox::stats);
    }

    /** Writes a file; {@code size} is only a hint, the content is read to its end. */
    @Override
    public void writeFile(SandboxId id, String path, InputStream content, long size, int mode) {
        String normalized = absolute(path);
        byte[] bytes;
        try {
            bytes = content.readAllBytes();
        } catch (IOException e) {
            throw new RuntimeFailureException(FILE_WRITE_FAILED, "Failed to read the content for " + path + ": " + e.getMessage(), e);
        }
        locked(id, sandbox -> {
            try {
                sandbox.fileSystem().write(normalized, bytes, mode, clock.instant(), true);
            } catch (FsException e) {
                throw new InvalidRequestException(INVALID_FILE_PATH, "Cannot write " + path + ": " + e.getMessage() + ".");
            }
            return null;
        });
    }

    @Override
    public InputStream readFile(SandboxId id, String path) {
        String normalized = absolute(path);
        byte[] bytes = locked(id, sandbox -> {
            try {
                return sandbox.fileSystem().read(normalized);
            } catch (FsException e) {
                if (e.getMessage().equals(MemoryFileSystem.NO_SUCH_FILE)) {
                    throw new NotFoundException(FILE_NOT_FOUND, "File " + path + " not found in sandbox " + id + ".");
                }
                throw new InvalidRequestException(INVALID_FILE_PATH, "Cannot read " + path + ": " + e.getMessage() + ".");
            }
        });
        return new ByteArrayInputStream(bytes);
    }

    @Override
    public Optional<FileInfo> statFile(SandboxId id, String path) {
        String normalized = absolute(path);
        return locked(id, sandbox -> sandbox.fileSystem().get(normalized)
            .map(entry -> new FileInfo(normalized, entry.content().length, entry.mode(), entry.directory(),
                entry.modifiedAt())));
    }

    /** The lines the entrypoint printed (stdout and stderr), newest {@code tail}; all when {@code tail <= 0}. */
    @Override
    public String logs(SandboxId id, int tail, Instant since) {
        return locked(id, sandbox -> sandbox.logs(tail, since));
    }

    /** Copies the filesystem of a sandbox in any state, as {@code docker commit} does. */
    @Override
    public String commitSnapshot(SandboxId id, String snapshotId) {
        String image = SNAPSHOT_REPOSITORY + ":" + Objects.requireNonNull(snapshotId, "snapshotId");
        MemoryFileSystem copy = locked(id, sandbox -> sandbox.fileSystem().copy());
        snapshotImages.put(image, copy);
        LOG.debug("Committed in-memory sandbox {} as {}", id, image);
        return image;
    }

    /**
     * Deletes a snapshot image; refuses while a sandbox created from it still exists, as Docker
     * refuses to remove an image a container uses.
     */
    @Override
    public void deleteSnapshotImage(String image) {
        synchronized (imageLock) {
            if (!snapshotImages.containsKey(image)) {
                return;
            }
            if (sandboxes.values().stream().anyMatch(sandbox -> sandbox.imageRef().equals(image))) {
                throw new ConflictException(ErrorCodes.SNAPSHOT_DELETE_CONFLICT,
                    "snapshot image cannot be deleted due to a conflict");
            }
            snapshotImages.remove(image);
        }
    }

    @Override
    public Optional<String> snapshotImageFor(String snapshotId) {
        return Optional.of(SNAPSHOT_REPOSITORY + ":" + Objects.requireNonNull(snapshotId, "snapshotId"));
    }

    @Override
    public boolean snapshotImageExists(String image) {
        return snapshotImages.containsKey(image);
    }

    private <T> T locked(SandboxId id, Function<MemorySandbox, T> action) {
        MemorySandbox sandbox = sandboxes.get(id);
        if (sandbox == null) {
            throw sandboxNotFound(id);
        }
        synchronized (sandbox) {
            // Removed between the lookup and the lock: the caller must see what a later call would.
            if (sandbox.removed()) {
                throw sandboxNotFound(id);
            }
            return action.apply(sandbox);
        }
    }

    private static String absolute(String path) {
        if (path == null || !path.startsWith("/")) {
            throw new InvalidRequestException(INVALID_FILE_PATH, "File path must be absolute: " + path);
        }
        return MemoryFileSystem.normalize(path, "/");
    }

    /** An exec that has already finished. */
    private record CompletedExec(int code) implements ExecHandle {
        @Override
        public int awaitExit(Duration timeout) {
            return code;
        }

        @Override
        public OptionalInt exitCode() {
            return OptionalInt.of(code);
        }
    }
}
