package dev.opensandbox.server.execd;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.SandboxRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Shell commands of the built-in execd: foreground runs streamed as events, background runs
 * with their output kept for polling, status, logs and interruption.
 *
 * <p>Memory: a foreground command's output goes to its client as it arrives and is not kept; while
 * the client reads slowly the exec's output callback waits in the write, so the command itself is
 * slowed down (its pipe fills) instead of its output piling up here. A client that disconnects, or
 * whose connection makes no progress for the server's idle timeout, fails the write and the
 * command is interrupted. A background command's output is kept in the {@link LogStore}, bounded
 * per command, per sandbox and per server. Finished runs go {@link ExecdSettings#finishedRetention}
 * after they end, their output {@link ExecdSettings#readLogRetention} after a read reached its end,
 * and everything of a sandbox at once when the sandbox is removed ({@link #forgetSandbox}).
 *
 * <p>Every command runs through the runtime's exec as a small wrapper: the wrapper prints its own
 * process id as the first line of stdout (consumed here, never shown to the client), changes to
 * the requested directory, then replaces itself with {@code bash -c COMMAND} ({@code sh -c} where
 * the image has no bash). The exec'd process leads its own process group, so an interrupt signals
 * the whole group (children included): SIGTERM, then SIGKILL after a grace period.
 */
final class Commands {

    private static final Logger LOG = LoggerFactory.getLogger(Commands.class);

    static final String WRAPPER = """
        printf '%s\\n' "$$"
        if [ -n "$2" ]; then cd "$2" || exit 1; fi
        if command -v bash >/dev/null 2>&1; then exec bash -c "$1"; fi
        exec sh -c "$1"
        """;
    static final String SIGNAL_GROUP = "kill -s \"$2\" -\"$1\" 2>/dev/null || kill -s \"$2\" \"$1\" 2>/dev/null; exit 0";
    static final Duration KILL_GRACE = Duration.ofSeconds(3);
    static final Duration PING_INTERVAL = Duration.ofSeconds(3);
    /** Finished commands kept for status and logs; the oldest finished ones go first. */
    static final int MAX_KEPT = 1000;
    /** How often finished runs are checked against their retention. */
    static final Duration SWEEP_INTERVAL = Duration.ofSeconds(5);
    /**
     * Linux refuses a single argument or environment string of 128 KiB or more (MAX_ARG_STRLEN)
     * with "argument list too long" before the command starts; such a request is refused here.
     */
    static final int MAX_ARGUMENT_BYTES = 128 * 1024 - 1;
    /** All arguments and environment strings together, well below the kernel's total. */
    static final int MAX_EXEC_BYTES = 1024 * 1024;
    /** The command text a status keeps; longer commands are reported cut, ending with an ellipsis. */
    static final int MAX_CONTENT_CHARS = 16 * 1024;
    private static final Duration FOREVER = Duration.ofDays(3650);

    private final SandboxRuntime runtime;
    private final SandboxShell shell;
    private final Clock clock;
    private final ObjectMapper json;
    private final ScheduledExecutorService timers;
    private final Executor background;
    private final ExecdSettings settings;
    private final Duration pingInterval;
    private final LogStore logs;
    private final Map<String, CommandRun> runs = new ConcurrentHashMap<>();
    private volatile boolean closing;

    Commands(SandboxRuntime runtime, Clock clock, ObjectMapper json, ScheduledExecutorService timers, Executor background) {
        this(runtime, clock, json, timers, background, ExecdSettings.defaults(), PING_INTERVAL);
    }

    /**
     * @param timers only short tasks run here (it is shared by every command): timeouts, the kill
     *     grace, the retention sweep, and handing pings to {@code background}
     * @param background threads that may block (exit waits, signals, ping writes)
     */
    Commands(SandboxRuntime runtime, Clock clock, ObjectMapper json, ScheduledExecutorService timers, Executor background,
             ExecdSettings settings, Duration pingInterval) {
        this.runtime = runtime;
        this.shell = new SandboxShell(runtime);
        this.clock = clock;
        this.json = json;
        this.timers = timers;
        this.background = background;
        this.settings = settings;
        this.pingInterval = pingInterval;
        this.logs = new LogStore(settings);
        timers.scheduleWithFixedDelay(this::sweepQuietly, SWEEP_INTERVAL.toMillis(), SWEEP_INTERVAL.toMillis(),
            TimeUnit.MILLISECONDS);
    }

    /**
     * A parsed {@code POST /command} body.
     *
     * @param timeoutMillis 0 for no limit
     */
    record RunCommand(String command, String cwd, boolean background, long timeoutMillis, Integer uid, Integer gid,
                      Map<String, String> envs) {

        RunCommand {
            if (command == null || command.isBlank()) {
                throw ExecdException.badRequest("invalid request, validation error: command is required");
            }
            if (timeoutMillis < 0) {
                throw ExecdException.badRequest("invalid request, validation error: timeout must be >= 0");
            }
            if (gid != null && uid == null) {
                throw ExecdException.badRequest("invalid request, validation error: gid requires uid");
            }
            if ((uid != null && uid < 0) || (gid != null && gid < 0)) {
                throw ExecdException.badRequest("invalid request, validation error: uid and gid must be >= 0");
            }
            envs = envs == null ? Map.of() : Map.copyOf(envs);
            checkExecArguments(command, cwd, envs);
        }

        String user() {
            return uid == null ? null : gid == null ? uid.toString() : uid + ":" + gid;
        }
    }

    /** What the kernel and the container runtime would refuse only after the command was accepted. */
    private static void checkExecArguments(String command, String cwd, Map<String, String> envs) {
        long total = checkArgument("command", command);
        if (cwd != null) {
            total += checkArgument("cwd", cwd);
        }
        for (Map.Entry<String, String> env : envs.entrySet()) {
            String name = env.getKey();
            if (name.isEmpty() || name.indexOf('=') >= 0) {
                throw ExecdException.badRequest("invalid request, validation error: environment variable name '"
                    + name + "' must be non-empty and contain no '='");
            }
            total += checkArgument("envs." + name, name + "=" + env.getValue());
        }
        if (total > MAX_EXEC_BYTES) {
            throw ExecdException.badRequest("invalid request, validation error: command, cwd and envs together are "
                + total + " bytes; at most " + MAX_EXEC_BYTES + " can be passed to a process");
        }
    }

    private static int checkArgument(String field, String value) {
        if (value.indexOf('\0') >= 0) {
            throw ExecdException.badRequest("invalid request, validation error: " + field + " contains a NUL character");
        }
        int bytes = value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (bytes > MAX_ARGUMENT_BYTES) {
            throw ExecdException.badRequest("invalid request, validation error: " + field + " is " + bytes
                + " bytes; a process accepts at most " + MAX_ARGUMENT_BYTES + " per argument (write longer scripts to a "
                + "file with POST /files/upload and run the file)");
        }
        return bytes;
    }

    /**
     * Runs a command and answers on {@code out} (whose HTTP status and headers the caller has
     * committed as an event stream): {@code init} with the command id, then for a foreground
     * command its {@code stdout}/{@code stderr} chunks and keep-alive {@code ping}s, ending with
     * {@code execution_complete} (exit 0) or {@code error} (CommandExecError, evalue = the exit
     * code); a background command gets {@code execution_complete} at once. Blocks until then.
     * Starting the exec is done before anything is written, so an unknown or stopped sandbox is
     * an ordinary error response.
     */
    void run(SandboxId sandbox, RunCommand request, StreamOpener opener) {
        run(sandbox, request, request.command(), opener);
    }

    /**
     * As {@link #run(SandboxId, RunCommand, StreamOpener)}, reporting {@code content} as the
     * command's text in its status (a session run executes its command inside a longer script).
     */
    void run(SandboxId sandbox, RunCommand request, String content, StreamOpener opener) {
        Instant started = clock.instant();
        OutputLog log = request.background() ? logs.open(sandbox) : logs.counting(sandbox);
        CommandRun run = new CommandRun(newId(), sandbox, shortened(content), request.background(), started, log);
        remember(run);
        AtomicBoolean clientGone = new AtomicBoolean();
        StreamingOutput output = new StreamingOutput(run, !request.background());
        ExecHandle handle;
        output.starting(Thread.currentThread());
        try {
            handle = runtime.exec(sandbox, new ExecRequest(
                List.of("sh", "-c", WRAPPER, "opensandbox-execd", request.command(), request.cwd() == null ? "" : request.cwd()),
                request.envs(), null, request.user()), output);
        } catch (RuntimeException e) {
            forget(run);
            throw e;
        } finally {
            output.starting(null);
        }
        background.execute(() -> awaitExit(run, handle, output));
        ScheduledFuture<?> deadline = request.timeoutMillis() > 0
            ? timers.schedule(() -> {
                run.noteError("command timed out after " + request.timeoutMillis() + " ms");
                interrupt(run);
            }, request.timeoutMillis(), TimeUnit.MILLISECONDS)
            : null;
        if (deadline != null) {
            output.onExit(() -> deadline.cancel(false));
        }

        OutputStream out;
        try {
            out = opener.open();
        } catch (IOException e) {
            output.abandon();
            if (!request.background()) {
                run.noteError("client disconnected");
                interrupt(run);
            }
            return;
        }
        EventStream events = new EventStream(out, json, () -> {
            if (clientGone.compareAndSet(false, true) && !request.background() && run.running()) {
                LOG.info("execd: client of command {} in {} went away; interrupting it", run.id, sandbox);
                run.noteError("client disconnected");
                interrupt(run);
            }
        });
        events.send(event("init", "text", run.id));
        if (request.background()) {
            events.send(event("execution_complete", "execution_time", Duration.between(started, clock.instant()).toMillis()));
            return;
        }
        ScheduledFuture<?> pings = schedulePings(events);
        try {
            output.stream(events);
            int exit = output.awaitFinished();
            if (exit == 0) {
                events.send(event("execution_complete", "execution_time",
                    Duration.between(started, clock.instant()).toMillis()));
            } else {
                Map<String, Object> error = new LinkedHashMap<>();
                error.put("ename", "CommandExecError");
                error.put("evalue", Integer.toString(exit));
                error.put("traceback", List.of(run.error() != null ? run.error() : exitDescription(exit, null)));
                events.send(event("error", "error", error));
            }
        } finally {
            pings.cancel(false);
        }
    }

    /**
     * A keep-alive ping per interval, written off the shared timer thread: a write can block for as
     * long as the client does not read, and must never hold up other commands' timers.
     */
    private ScheduledFuture<?> schedulePings(EventStream events) {
        AtomicBoolean inFlight = new AtomicBoolean();
        return timers.scheduleAtFixedRate(() -> {
            if (!inFlight.compareAndSet(false, true)) {
                return;
            }
            try {
                background.execute(() -> {
                    try {
                        events.sendIfIdle(event("ping", "text", "pong"));
                    } finally {
                        inFlight.set(false);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
                inFlight.set(false);
            }
        }, pingInterval.toMillis(), pingInterval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Opens the response body once the command has started (lets the caller commit headers late). */
    @FunctionalInterface
    interface StreamOpener {
        OutputStream open() throws IOException;
    }

    /** Stops reporting lost commands: at shutdown the exec streams end without their commands. */
    void closing() {
        closing = true;
    }

    /** {@code DELETE /command?id=}: signals a running command's process group; a finished one is left alone. */
    void interrupt(SandboxId sandbox, String id) {
        CommandRun run = find(sandbox, id);
        if (run.running()) {
            run.noteError("interrupted");
            interrupt(run);
        }
    }

    Map<String, Object> status(SandboxId sandbox, String id) {
        CommandRun run = find(sandbox, id);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", run.id);
        body.put("content", run.content);
        body.put("running", run.running());
        body.put("exit_code", run.exitCode());
        if (run.error() != null) {
            body.put("error", run.error());
        }
        body.put("started_at", run.startedAt.toString());
        body.put("finished_at", run.finishedAt() == null ? null : run.finishedAt().toString());
        return body;
    }

    /**
     * The combined output from byte {@code cursor}; the new cursor is the end of what is returned.
     * A read of a finished command reaches the end of its output, which then goes after
     * {@link ExecdSettings#readLogRetention} (a client that reads again soon still gets it).
     */
    OutputLog.Slice logs(SandboxId sandbox, String id, long cursor) {
        CommandRun run = find(sandbox, id);
        OutputLog.Slice slice = run.log.readFrom(cursor);
        if (!run.running()) {
            Instant now = clock.instant();
            if (!run.outputRead(now.plus(settings.readLogRetention())).isAfter(now)) {
                run.log.release();
            }
        }
        return slice;
    }

    /** Drops every run, output and pending state of a sandbox that was removed. */
    void forgetSandbox(SandboxId sandbox) {
        int count = 0;
        for (CommandRun run : runs.values()) {
            if (run.sandbox.equals(sandbox) && runs.remove(run.id, run)) {
                run.log.release();
                count++;
            }
        }
        logs.releaseSandbox(sandbox);
        if (count > 0) {
            LOG.debug("execd: forgot {} command(s) of removed sandbox {}", count, sandbox);
        }
    }

    /**
     * Applies the retention times at the clock's now: finished runs past
     * {@link ExecdSettings#finishedRetention} go with their output; output read to its end goes
     * {@link ExecdSettings#readLogRetention} after that read.
     */
    void sweep() {
        Instant now = clock.instant();
        for (CommandRun run : runs.values()) {
            Instant finished = run.finishedAt();
            if (finished == null) {
                continue;
            }
            if (!finished.plus(settings.finishedRetention()).isAfter(now)) {
                forget(run);
                continue;
            }
            Instant release = run.logReleaseAt();
            if (release != null && !release.isAfter(now)) {
                run.log.release();
            }
        }
    }

    private void sweepQuietly() {
        try {
            sweep();
        } catch (RuntimeException e) {
            LOG.warn("execd: retention sweep failed: {}", e.toString());
        }
    }

    /** The memory held by kept output: for the whole server. */
    long retainedLogBytes() {
        return logs.retainedBytes();
    }

    /** The memory held by kept output of one sandbox. */
    long retainedLogBytes(SandboxId sandbox) {
        return logs.retainedBytes(sandbox);
    }

    /** How many runs (running or finished) are remembered, for tests. */
    int runCount() {
        return runs.size();
    }

    private void forget(CommandRun run) {
        runs.remove(run.id, run);
        run.log.release();
    }

    private static String shortened(String content) {
        return content == null || content.length() <= MAX_CONTENT_CHARS ? content
            : content.substring(0, MAX_CONTENT_CHARS - 1) + "\u2026";
    }

    private CommandRun find(SandboxId sandbox, String id) {
        CommandRun run = id == null ? null : runs.get(id);
        if (run == null || !run.sandbox.equals(sandbox)) {
            throw new ExecdException(404, ExecdException.NOT_FOUND, "command " + id + " not found");
        }
        return run;
    }

    private void interrupt(CommandRun run) {
        background.execute(() -> {
            try {
                int pid = run.pid.get(10, TimeUnit.SECONDS);
                signal(run, pid, "TERM");
                timers.schedule(() -> background.execute(() -> {
                    if (run.running()) {
                        signal(run, pid, "KILL");
                    }
                }), KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                LOG.warn("execd: command {} in {} never reported its process id; cannot interrupt it", run.id, run.sandbox);
            }
        });
    }

    private void signal(CommandRun run, int pid, String signal) {
        try {
            shell.run(run.sandbox, SIGNAL_GROUP, List.of(Integer.toString(pid), signal));
        } catch (SandboxException e) {
            LOG.info("execd: could not send SIG{} to command {} in {}: {}", signal, run.id, run.sandbox, e.getMessage());
        }
    }

    private void awaitExit(CommandRun run, ExecHandle handle, StreamingOutput output) {
        int exit;
        try {
            exit = handle.awaitExit(FOREVER);
        } catch (RuntimeException e) {
            if (closing) {
                LOG.debug("execd: command {} in {} left running at shutdown", run.id, run.sandbox);
            } else {
                LOG.warn("execd: lost command {} in {}: {}", run.id, run.sandbox, e.getMessage());
            }
            exit = -1;
            run.noteError(e.getMessage());
        }
        run.finish(clock.instant(), exit, exit == 0 ? null : exitDescription(exit, run.error()));
        run.pid.completeExceptionally(new IllegalStateException("command ended before reporting its pid"));
        output.exited(exit);
        run.log.seal();
    }

    private static String exitDescription(int exit, String reason) {
        String status = exit < 0 ? "lost" : "exit status " + exit;
        return reason == null || reason.startsWith("exit status") ? status : reason + " (" + status + ")";
    }

    private void remember(CommandRun run) {
        runs.put(run.id, run);
        if (runs.size() > MAX_KEPT) {
            List<CommandRun> finished = new ArrayList<>();
            for (CommandRun candidate : runs.values()) {
                if (!candidate.running()) {
                    finished.add(candidate);
                }
            }
            finished.sort(Comparator.comparing(CommandRun::finishedAt));
            for (int i = 0; i < finished.size() && runs.size() > MAX_KEPT; i++) {
                forget(finished.get(i));
            }
        }
    }

    private static String newId() {
        return UUID.randomUUID().toString().replace("-", "");
    }

    private Map<String, Object> event(String type, String key, Object value) {
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("type", type);
        event.put(key, value);
        event.put("timestamp", clock.millis());
        return event;
    }

    /**
     * Receives the exec's output: takes the wrapper's pid line off stdout, appends everything to
     * the command's log, and forwards chunks as events once a stream is attached. Output that
     * arrives before the stream is attached waits in the exec's own callback (nothing is buffered
     * here), so nothing is lost or reordered and memory stays bounded whatever the client does.
     * A runtime that delivers output inside {@code exec} itself, on the caller's thread (the
     * in-memory one, whose output is already all in memory), cannot wait for the stream that
     * thread is about to open: that output is held until the stream attaches.
     */
    private final class StreamingOutput implements ExecOutput {
        private final CommandRun run;
        private final OutputDecoder stdoutText = new OutputDecoder();
        private final OutputDecoder stderrText = new OutputDecoder();
        private final StringBuilder pidLine = new StringBuilder();
        private final List<Runnable> exitHooks = new ArrayList<>();
        private final List<Map<String, Object>> early = new ArrayList<>();
        private Thread starter;
        private EventStream events;
        private boolean abandoned;
        private boolean pidSeen;
        private final boolean streamed;
        private Integer exit;

        StreamingOutput(CommandRun run, boolean streamed) {
            this.run = run;
            this.streamed = streamed;
        }

        @Override
        public synchronized void stdout(byte[] data, int offset, int length) {
            int end = offset + length;
            while (!pidSeen && offset < end) {
                byte b = data[offset++];
                if (b == '\n') {
                    pidSeen = true;
                    try {
                        run.pid.complete(Integer.parseInt(pidLine.toString().trim()));
                    } catch (NumberFormatException e) {
                        run.pid.completeExceptionally(e);
                    }
                } else if (pidLine.length() < 32) {
                    pidLine.append((char) b);
                }
            }
            if (offset < end) {
                run.log.append(data, offset, end - offset);
                emit("stdout", stdoutText.decode(data, offset, end - offset));
            }
        }

        @Override
        public synchronized void stderr(byte[] data, int offset, int length) {
            run.log.append(data, offset, length);
            emit("stderr", stderrText.decode(data, offset, length));
        }

        private void emit(String type, String text) {
            if (text.isEmpty() || !streamed) {
                return;
            }
            if (events == null && Thread.currentThread() == starter) {
                early.add(event(type, "text", text));
                return;
            }
            while (events == null && !abandoned) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (events != null) {
                events.send(event(type, "text", text));
            }
        }

        /** The thread inside {@code runtime.exec} (null once it returned): output it delivers cannot wait. */
        synchronized void starting(Thread thread) {
            starter = thread;
        }

        synchronized void stream(EventStream target) {
            events = target;
            for (Map<String, Object> event : early) {
                target.send(event);
            }
            early.clear();
            notifyAll();
        }

        /** No stream will come (the client was gone before it opened): output is no longer waited for. */
        synchronized void abandon() {
            abandoned = true;
            early.clear();
            notifyAll();
        }

        synchronized void onExit(Runnable hook) {
            if (exit != null) {
                hook.run();
            } else {
                exitHooks.add(hook);
            }
        }

        synchronized void exited(int code) {
            emit("stdout", stdoutText.finish());
            emit("stderr", stderrText.finish());
            exit = code;
            exitHooks.forEach(Runnable::run);
            exitHooks.clear();
            notifyAll();
        }

        synchronized int awaitFinished() {
            while (exit == null) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return -1;
                }
            }
            return exit;
        }
    }
}
