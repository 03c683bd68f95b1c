package dev.opensandbox.core.memory;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.SandboxStatus;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.ResourceUsage;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One sandbox of the {@link InMemorySandboxRuntime}: what Docker would keep for a container
 * (config, state, filesystem, logs). Not thread-safe: every method is called with this object's
 * monitor held, which serializes the verbs of one sandbox while different sandboxes proceed in
 * parallel.
 */
final class MemorySandbox {

    static final String NOT_RUNNING = "DOCKER::SANDBOX_NOT_RUNNING";
    static final String NOT_PAUSED = "DOCKER::SANDBOX_NOT_PAUSED";

    /** One chunk of exec output, kept so that it can be delivered after the monitor is released. */
    record Chunk(boolean stderr, byte[] bytes) {
    }

    /** The result of an exec: its output in order and its exit status. */
    record ExecResult(List<Chunk> output, int exitCode) {
    }

    private record LogLine(Instant at, String text) {
    }

    /** The memory limit reported for a sandbox created without one. */
    static final long DEFAULT_MEMORY_LIMIT_BYTES = 512L * 1024 * 1024;
    /** What a sandbox "uses": fixed, because nothing runs that could use more or less. */
    static final long MEMORY_USED_BYTES = 8L * 1024 * 1024;

    private final Sandbox config;
    private final String imageRef;
    private final MemoryFileSystem fs;
    private final Map<String, String> env;
    private final ResourceLimits limits;
    private final List<LogLine> logs = new ArrayList<>();
    private SandboxState state = SandboxState.RUNNING;
    private int exitCode;
    private Instant lastTransitionAt;
    private boolean removed;

    MemorySandbox(ProvisionRequest request, MemoryFileSystem fs, Map<String, String> env, Instant now) {
        boolean restored = request.spec().snapshotId() != null;
        this.config = new Sandbox(request.id(), restored ? null : request.image().uri(), request.spec().snapshotId(),
            request.spec().platform(), SandboxStatus.of(SandboxState.RUNNING), request.spec().metadata(),
            request.entrypoint(), request.expiresAt(), request.createdAt());
        this.imageRef = request.image().uri();
        this.fs = fs;
        this.env = new LinkedHashMap<>(env);
        this.limits = request.limits();
        this.lastTransitionAt = now;
    }

    /** The image this sandbox runs, whether requested or restored; it pins a snapshot image. */
    String imageRef() {
        return imageRef;
    }

    Sandbox view() {
        return config.withStatus(status());
    }

    private SandboxStatus status() {
        return switch (state) {
            case PAUSED -> new SandboxStatus(state, "CONTAINER_PAUSED", "Sandbox container is paused.", lastTransitionAt);
            case TERMINATED -> new SandboxStatus(state, "CONTAINER_EXITED", "Sandbox container exited successfully.",
                lastTransitionAt);
            case FAILED -> new SandboxStatus(state, "CONTAINER_EXITED_ERROR",
                "Sandbox container exited with code " + exitCode + ".", lastTransitionAt);
            default -> new SandboxStatus(state, "CONTAINER_RUNNING", "Sandbox container is running.", lastTransitionAt);
        };
    }

    /**
     * Interprets the entrypoint. Its output becomes the logs; if it finishes, the sandbox is
     * exited, exactly as a container whose main process returned.
     */
    void runEntrypoint(Clock clock) {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        MiniShell shell = new MiniShell(fs, env, "/", MiniShell.Mode.ENTRYPOINT, clock);
        MiniShell.Outcome outcome = shell.run(config.entrypoint().isEmpty() ? List.of("sleep", "infinity")
            : config.entrypoint(), output::writeBytes, output::writeBytes);
        Instant now = clock.instant();
        String text = output.toString(StandardCharsets.UTF_8);
        if (!text.isEmpty()) {
            for (String line : text.split("\n")) {
                logs.add(new LogLine(now, line));
            }
        }
        if (outcome.finished()) {
            exitCode = outcome.exitCode();
            transition(exitCode == 0 ? SandboxState.TERMINATED : SandboxState.FAILED, now);
        }
    }

    void pause(Instant now) {
        if (state != SandboxState.RUNNING) {
            throw new ConflictException(NOT_RUNNING, "Sandbox is not in a running state.");
        }
        transition(SandboxState.PAUSED, now);
    }

    void resume(Instant now) {
        if (state != SandboxState.PAUSED) {
            throw new ConflictException(NOT_PAUSED, "Sandbox is not in a paused state.");
        }
        transition(SandboxState.RUNNING, now);
    }

    ExecResult exec(ExecRequest request, Clock clock) {
        if (state != SandboxState.RUNNING) {
            throw new ConflictException(NOT_RUNNING, "Sandbox is not in a running state.");
        }
        Map<String, String> execEnv = new LinkedHashMap<>(env);
        execEnv.putAll(request.env());
        String cwd = request.workingDir() == null ? "/" : MemoryFileSystem.normalize(request.workingDir(), "/");
        List<Chunk> output = new ArrayList<>();
        MiniShell.Outcome outcome = new MiniShell(fs, execEnv, cwd, MiniShell.Mode.EXEC, clock)
            .run(request.command(), bytes -> output.add(new Chunk(false, bytes)), bytes -> output.add(new Chunk(true, bytes)));
        return new ExecResult(output, outcome.exitCode());
    }

    /**
     * The usage of a running sandbox: the CPUs and memory its limits grant (one CPU and
     * {@link #DEFAULT_MEMORY_LIMIT_BYTES} without limits), no CPU in use and a small fixed
     * amount of memory.
     */
    ResourceUsage stats() {
        if (state != SandboxState.RUNNING) {
            throw new ConflictException(NOT_RUNNING, state == SandboxState.PAUSED
                ? "Sandbox is paused: its resource usage is measured only while it runs."
                : "Sandbox is not in a running state: its resource usage is measured only while it runs.");
        }
        double cpuCount = limits.cpuMillis().isPresent() ? limits.cpuMillis().getAsLong() / 1000.0 : 1;
        long memoryLimit = limits.memoryBytes().orElse(DEFAULT_MEMORY_LIMIT_BYTES);
        return new ResourceUsage(cpuCount, 0, memoryLimit, Math.min(MEMORY_USED_BYTES, memoryLimit));
    }

    MemoryFileSystem fileSystem() {
        return fs;
    }

    /** The newest {@code tail} lines (all when {@code tail <= 0}) written at or after {@code since}. */
    String logs(int tail, Instant since) {
        List<String> lines = logs.stream()
            .filter(line -> since == null || !line.at().isBefore(since))
            .map(LogLine::text)
            .toList();
        int from = tail <= 0 ? 0 : Math.max(0, lines.size() - tail);
        StringBuilder text = new StringBuilder();
        lines.subList(from, lines.size()).forEach(line -> text.append(line).append('\n'));
        return text.toString();
    }

    boolean removed() {
        return removed;
    }

    void markRemoved() {
        removed = true;
    }

    private void transition(SandboxState next, Instant now) {
        state = next;
        lastTransitionAt = now;
    }
}
