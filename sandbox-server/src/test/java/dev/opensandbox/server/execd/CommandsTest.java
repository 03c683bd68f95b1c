package dev.opensandbox.server.execd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.RuntimeCapabilities;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command engine against a scripted fake runtime: the event format the SDKs parse, the pid
 * line taken off stdout, background output kept for polling, and interrupts that signal the
 * process group the wrapper reported.
 */
class CommandsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SandboxId SANDBOX = SandboxId.random();

    private final ScriptedRuntime runtime = new ScriptedRuntime();
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService workers = Executors.newCachedThreadPool();
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-07T10:00:00Z"));
    private Commands commands = new Commands(runtime, clock, JSON, timers, workers);

    @AfterEach
    void stop() {
        timers.shutdownNow();
        workers.shutdownNow();
    }

    private static Commands.RunCommand foreground(String command) {
        return new Commands.RunCommand(command, null, false, 0, null, null, Map.of());
    }

    private List<JsonNode> run(Commands.RunCommand request) throws Exception {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        commands.run(SANDBOX, request, () -> body);
        List<JsonNode> events = new ArrayList<>();
        String text = body.toString(StandardCharsets.UTF_8);
        assertTrue(text.endsWith("\n\n"), "every event ends with a blank line: " + text);
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                events.add(JSON.readTree(line));
            }
        }
        return events;
    }

    private static List<String> types(List<JsonNode> events) {
        return events.stream().map(e -> e.get("type").asText()).toList();
    }

    @Test
    void aSuccessfulCommandStreamsInitOutputAndCompletion() throws Exception {
        runtime.script("echo hi", new Step("stdout", "hi\n"), new Step("stderr", "warn\n"), new Step("exit", "0"));

        List<JsonNode> events = run(foreground("echo hi"));

        assertEquals(List.of("init", "stdout", "stderr", "execution_complete"), types(events));
        String id = events.get(0).get("text").asText();
        assertEquals(32, id.length(), "init carries the command id");
        assertEquals("hi\n", events.get(1).get("text").asText(), "the wrapper's pid line never reaches the client");
        assertEquals("warn\n", events.get(2).get("text").asText());
        assertTrue(events.get(3).has("execution_time"));
        assertEquals(clock.millis(), events.get(3).get("timestamp").asLong());

        ExecRequest exec = runtime.requests.get(0);
        assertEquals(List.of("sh", "-c", Commands.WRAPPER, "opensandbox-execd", "echo hi", ""), exec.command());
        Map<String, Object> status = commands.status(SANDBOX, id);
        assertEquals(false, status.get("running"));
        assertEquals(0, status.get("exit_code"));
        assertEquals("echo hi", status.get("content"));
        OutputLog.Slice logs = commands.logs(SANDBOX, id, 0);
        assertEquals(0, logs.data().length, "foreground output went to the client and is not kept");
        assertEquals(8, logs.end(), "the cursor still counts it");
    }

    @Test
    void aFailingCommandEndsWithAnErrorEventCarryingTheExitCode() throws Exception {
        runtime.script("exit 3", new Step("exit", "3"));

        List<JsonNode> events = run(foreground("exit 3"));

        assertEquals(List.of("init", "error"), types(events));
        JsonNode error = events.get(1).get("error");
        assertEquals("CommandExecError", error.get("ename").asText());
        assertEquals("3", error.get("evalue").asText());
        assertEquals("exit status 3", error.get("traceback").get(0).asText());
        Map<String, Object> status = commands.status(SANDBOX, events.get(0).get("text").asText());
        assertEquals(3, status.get("exit_code"));
        assertEquals("exit status 3", status.get("error"));
    }

    @Test
    void optionsReachTheExecAsWrapperArgumentsEnvironmentAndUser() throws Exception {
        runtime.script("pwd", new Step("exit", "0"));

        run(new Commands.RunCommand("pwd", "/work dir", false, 0, 1000, 1001, Map.of("FOO", "bar")));

        ExecRequest exec = runtime.requests.get(0);
        assertEquals("/work dir", exec.command().get(5));
        assertEquals(Map.of("FOO", "bar"), exec.env());
        assertEquals("1000:1001", exec.user());
    }

    @Test
    void requestsAreValidatedBeforeAnythingRuns() {
        assertThrows(ExecdException.class, () -> foreground(" "));
        assertThrows(ExecdException.class, () -> new Commands.RunCommand("x", null, false, -1, null, null, null));
        assertThrows(ExecdException.class, () -> new Commands.RunCommand("x", null, false, 0, null, 5, null),
            "gid needs uid");
        assertTrue(runtime.requests.isEmpty());
    }

    @Test
    void aSandboxThatCannotExecIsAnErrorBeforeTheStreamOpens() {
        runtime.failExec = new NotFoundException("DOCKER::SANDBOX_NOT_FOUND", "gone");
        boolean[] opened = {false};
        assertThrows(NotFoundException.class, () -> commands.run(SANDBOX, foreground("true"), () -> {
            opened[0] = true;
            return new ByteArrayOutputStream();
        }));
        assertFalse(opened[0], "no stream was started");
    }

    @Test
    void aBackgroundCommandAnswersAtOnceAndKeepsItsOutputForPolling() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        runtime.script("bg", new Step("stdout", "bg\n"), new Step("wait", release), new Step("stdout", "done\n"),
            new Step("exit", "0"));

        List<JsonNode> events = run(new Commands.RunCommand("bg", null, true, 0, null, null, null));

        assertEquals(List.of("init", "execution_complete"), types(events), "no output events for background runs");
        String id = events.get(0).get("text").asText();
        assertEquals(true, commands.status(SANDBOX, id).get("running"));
        assertNull(commands.status(SANDBOX, id).get("exit_code"));
        release.complete(null);
        runtime.awaitExit(id);
        awaitFinished(id);
        OutputLog.Slice all = commands.logs(SANDBOX, id, 0);
        assertEquals("bg\ndone\n", new String(all.data(), StandardCharsets.UTF_8));
        assertEquals(8, all.end());
        assertEquals("done\n", new String(commands.logs(SANDBOX, id, 3).data(), StandardCharsets.UTF_8));
        assertEquals(0, commands.status(SANDBOX, id).get("exit_code"));
    }

    @Test
    void anInterruptSignalsTheWholeProcessGroupTheWrapperReported() throws Exception {
        runtime.script("sleep", new Step("wait", new CompletableFuture<Void>()));
        List<JsonNode> events = run(new Commands.RunCommand("sleep", null, true, 0, null, null, null));
        String id = events.get(0).get("text").asText();

        commands.interrupt(SANDBOX, id);

        ExecRequest signal = runtime.awaitSignal();
        assertEquals(List.of("sh", "-c", Commands.SIGNAL_GROUP, "opensandbox-execd", Integer.toString(ScriptedRuntime.PID),
            "TERM"), signal.command());
        awaitFinished(id);
        Map<String, Object> status = commands.status(SANDBOX, id);
        assertEquals(143, status.get("exit_code"));
        assertEquals("interrupted (exit status 143)", status.get("error"));
        commands.interrupt(SANDBOX, id); // finished: nothing more is sent
        assertEquals(1, runtime.signals.size());
    }

    @Test
    void aTimeoutInterruptsAForegroundCommand() throws Exception {
        runtime.script("sleep", new Step("wait", new CompletableFuture<Void>()));

        List<JsonNode> events = run(new Commands.RunCommand("sleep", null, false, 50, null, null, null));

        assertEquals("error", events.get(events.size() - 1).get("type").asText());
        assertEquals("143", events.get(events.size() - 1).get("error").get("evalue").asText());
        assertEquals("command timed out after 50 ms (exit status 143)",
            events.get(events.size() - 1).get("error").get("traceback").get(0).asText());
        assertEquals("command timed out after 50 ms (exit status 143)",
            commands.status(SANDBOX, events.get(0).get("text").asText()).get("error"));
    }

    @Test
    void commandsOfOneSandboxAreInvisibleFromAnother() throws Exception {
        runtime.script("true", new Step("exit", "0"));
        String id = run(foreground("true")).get(0).get("text").asText();
        ExecdException error = assertThrows(ExecdException.class, () -> commands.status(SandboxId.random(), id));
        assertEquals(404, error.status);
        assertThrows(ExecdException.class, () -> commands.interrupt(SANDBOX, "no-such-id"));
    }

    @Test
    void aLostExecIsReportedAsAnError() throws Exception {
        runtime.script("x", new Step("lose", "engine went away"));
        List<JsonNode> events = run(foreground("x"));
        assertEquals("error", events.get(events.size() - 1).get("type").asText());
        assertEquals("-1", events.get(events.size() - 1).get("error").get("evalue").asText());
    }

    // ---------------------------------------------------------------- memory: streamed, bounded, freed

    private static final int MIB = 1024 * 1024;

    private Commands commandsWith(ExecdSettings settings) {
        return new Commands(runtime, clock, JSON, timers, workers, settings, Duration.ofMillis(10));
    }

    private static Commands.RunCommand background(String command) {
        return new Commands.RunCommand(command, null, true, 0, null, null, Map.of());
    }

    /** Starts a background command and returns its id. */
    private String start(SandboxId sandbox, String command) throws Exception {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        commands.run(sandbox, background(command), () -> body);
        return JSON.readTree(body.toString(StandardCharsets.UTF_8).split("\n")[0]).get("text").asText();
    }

    private void awaitFinished(SandboxId sandbox, String id) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Boolean.TRUE.equals(commands.status(sandbox, id).get("running")) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(false, commands.status(sandbox, id).get("running"));
    }

    @Test
    void foregroundOutputReachesTheClientWholeAndNothingOfItIsKept() throws Exception {
        runtime.script("flood", new Step("flood", new int[] {40, 256 * 1024}), new Step("exit", "0"));

        List<JsonNode> events = run(foreground("flood"));

        long streamed = events.stream().filter(e -> e.get("type").asText().equals("stdout"))
            .mapToLong(e -> e.get("text").asText().length()).sum();
        assertEquals(10L * MIB, streamed, "all 10 MiB went to the client");
        assertEquals(0, commands.retainedLogBytes(), "none of it stays in the server");
        String id = events.get(0).get("text").asText();
        assertEquals(10L * MIB, commands.logs(SANDBOX, id, 0).end());
        assertEquals(0, commands.logs(SANDBOX, id, 0).data().length);
    }

    @Test
    void backgroundOutputIsBoundedPerCommandPerSandboxAndPerServerAndKeepsTheNewestBytes() throws Exception {
        commands = commandsWith(new ExecdSettings(MIB, 2L * MIB, 3L * MIB, Duration.ofMinutes(10), Duration.ofMinutes(1)));
        runtime.script("flood", new Step("flood", new int[] {16, 256 * 1024}), new Step("stdout", "THE END\n"),
            new Step("exit", "0"));
        SandboxId other = SandboxId.random();
        List<String> ids = new ArrayList<>();
        for (SandboxId sandbox : List.of(SANDBOX, SANDBOX, SANDBOX, other, other)) {
            String id = start(sandbox, "flood");
            awaitFinished(sandbox, id);
            ids.add(id);
            assertTrue(commands.retainedLogBytes(SANDBOX) <= 2L * MIB, "per sandbox: " + commands.retainedLogBytes(SANDBOX));
            assertTrue(commands.retainedLogBytes(other) <= 2L * MIB, "per sandbox: " + commands.retainedLogBytes(other));
            assertTrue(commands.retainedLogBytes() <= 3L * MIB, "per server: " + commands.retainedLogBytes());
        }
        OutputLog.Slice newest = commands.logs(other, ids.get(4), 0);
        assertEquals(4L * MIB + 8, newest.end(), "the cursor counts every byte printed");
        assertTrue(newest.data().length <= MIB && newest.data().length > MIB / 2, "about the newest MiB: " + newest.data().length);
        assertTrue(new String(newest.data(), StandardCharsets.UTF_8).endsWith("yyyTHE END\n"));
        OutputLog.Slice tail = commands.logs(other, ids.get(4), newest.end() - 8);
        assertEquals("THE END\n", new String(tail.data(), StandardCharsets.UTF_8));
        OutputLog.Slice oldest = commands.logs(SANDBOX, ids.get(0), 0);
        assertTrue(oldest.data().length < MIB, "the oldest command paid for the newer ones: " + oldest.data().length);
        assertEquals(4L * MIB + 8, oldest.end());
    }

    @Test
    void finishedRunsGoAfterTheirRetentionAndOutputReadToItsEndGoesSooner() throws Exception {
        commands = commandsWith(new ExecdSettings(MIB, MIB, MIB, Duration.ofMinutes(10), Duration.ofSeconds(60)));
        runtime.script("bg", new Step("stdout", "bg\ndone\n"), new Step("exit", "0"));
        String read = start(SANDBOX, "bg");
        String unread = start(SANDBOX, "bg");
        awaitFinished(SANDBOX, read);
        awaitFinished(SANDBOX, unread);

        assertEquals("bg\ndone\n", new String(commands.logs(SANDBOX, read, 0).data(), StandardCharsets.UTF_8));
        clock.advance(Duration.ofSeconds(59));
        commands.sweep();
        assertEquals("done\n", new String(commands.logs(SANDBOX, read, 3).data(), StandardCharsets.UTF_8),
            "a client that reads again soon still gets the output");

        clock.advance(Duration.ofSeconds(2));
        commands.sweep();
        OutputLog.Slice gone = commands.logs(SANDBOX, read, 0);
        assertEquals(0, gone.data().length, "output read to its end went after the read retention");
        assertEquals(8, gone.end(), "and the cursor still names its end");
        assertEquals(0, commands.status(SANDBOX, read).get("exit_code"), "the status stays");
        assertEquals(8, commands.logs(SANDBOX, unread, 0).data().length, "unread output stays");

        clock.advance(Duration.ofMinutes(10));
        commands.sweep();
        assertEquals(404, assertThrows(ExecdException.class, () -> commands.status(SANDBOX, read)).status);
        assertEquals(404, assertThrows(ExecdException.class, () -> commands.logs(SANDBOX, unread, 0)).status);
        assertEquals(0, commands.retainedLogBytes());
        assertEquals(0, commands.runCount());
    }

    @Test
    void forgettingASandboxDropsItsRunsAndOutputAtOnceAndLeavesOthersAlone() throws Exception {
        runtime.script("bg", new Step("stdout", "kept\n"), new Step("exit", "0"));
        CompletableFuture<Void> never = new CompletableFuture<>();
        runtime.script("busy", new Step("stdout", "working\n"), new Step("wait", never), new Step("stdout", "late\n"),
            new Step("exit", "0"));
        SandboxId other = SandboxId.random();
        String finished = start(SANDBOX, "bg");
        awaitFinished(SANDBOX, finished);
        String running = start(SANDBOX, "busy");
        String elsewhere = start(other, "bg");
        awaitFinished(other, elsewhere);
        assertTrue(commands.retainedLogBytes(SANDBOX) > 0);

        commands.forgetSandbox(SANDBOX);

        assertEquals(0, commands.retainedLogBytes(SANDBOX));
        assertEquals(404, assertThrows(ExecdException.class, () -> commands.status(SANDBOX, finished)).status);
        assertEquals(404, assertThrows(ExecdException.class, () -> commands.status(SANDBOX, running)).status);
        assertEquals("kept\n", new String(commands.logs(other, elsewhere, 0).data(), StandardCharsets.UTF_8));
        assertEquals(1, commands.runCount());
        never.complete(null); // the removed sandbox's exec ends as its container goes
        runtime.awaitExit(running);
        assertEquals(0, commands.retainedLogBytes(SANDBOX), "output arriving after the removal is not kept");
    }

    @Test
    void outputThatArrivesBeforeTheStreamOpensWaitsInTheExecInsteadOfPilingUp() throws Exception {
        runtime.script("flood", new Step("flood", new int[] {64, 64 * 1024}), new Step("exit", "0"));
        CompletableFuture<Void> open = new CompletableFuture<>();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        CompletableFuture<Void> ran = CompletableFuture.runAsync(() -> commands.run(SANDBOX, foreground("flood"), () -> {
            open.join();
            return body;
        }), workers);

        FakeExec exec = awaitExec();
        awaitState(exec, Thread.State.WAITING);
        assertEquals(0, exec.delivered.get(), "the first chunk waits for the stream; nothing is buffered meanwhile");

        open.complete(null);
        ran.get(10, TimeUnit.SECONDS);
        assertEquals(64, exec.delivered.get());
        assertTrue(body.size() > 4 * MIB, "everything was streamed once the client was there: " + body.size());
    }

    @Test
    void aClientThatStopsReadingHoldsItsCommandBackAndNeverStallsTheTimersOfOthers() throws Exception {
        commands = commandsWith(ExecdSettings.defaults());
        runtime.script("flood", new Step("flood", new int[] {1000, 64 * 1024}), new Step("exit", "0"));
        StuckClient stuck = new StuckClient();
        CompletableFuture<Void> ran = CompletableFuture.runAsync(() -> commands.run(SANDBOX, foreground("flood"),
            () -> stuck), workers);
        FakeExec flood = awaitExec();
        stuck.writing.get(10, TimeUnit.SECONDS);
        awaitState(flood, Thread.State.WAITING);
        int deliveredWhileStuck = flood.delivered.get();

        // Pings fall due every 10 ms behind the stuck write; another command's timeout must still fire.
        runtime.script("sleep", new Step("wait", new CompletableFuture<Void>()));
        List<JsonNode> other = CompletableFuture.supplyAsync(() -> {
            try {
                return run(new Commands.RunCommand("sleep", null, false, 50, null, null, null));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, workers).get(10, TimeUnit.SECONDS);
        assertEquals("command timed out after 50 ms (exit status 143)",
            other.get(other.size() - 1).get("error").get("traceback").get(0).asText());

        assertTrue(deliveredWhileStuck <= 1, "the command waited for its client: " + deliveredWhileStuck + " chunks");
        assertEquals(0, commands.retainedLogBytes());

        stuck.disconnect();
        ran.get(10, TimeUnit.SECONDS);
        assertTrue(flood.delivered.get() < 1000, "the command was interrupted, not run to its end without a reader");
        String id = JSON.readTree(stuck.first.toString(StandardCharsets.UTF_8).strip()).get("text").asText();
        assertEquals("client disconnected (exit status 143)", commands.status(SANDBOX, id).get("error"));
    }

    @Test
    void aRuntimeThatDeliversOutputInsideExecItselfStillStreamsItInOrder() throws Exception {
        runtime.inline = true;
        runtime.script("echo hi", new Step("stdout", "hi\n"), new Step("stderr", "warn\n"), new Step("exit", "0"));

        List<JsonNode> events = CompletableFuture.supplyAsync(() -> {
            try {
                return run(foreground("echo hi"));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, workers).get(10, TimeUnit.SECONDS);

        assertEquals(List.of("init", "stdout", "stderr", "execution_complete"), types(events));
    }

    @Test
    void argumentsThatNoProcessCanBeStartedWithAreRefusedBeforeAnythingRuns() {
        String tooLong = "x".repeat(Commands.MAX_ARGUMENT_BYTES + 1);
        for (Runnable invalid : List.<Runnable>of(
            () -> foreground("echo a\u0000b"),
            () -> new Commands.RunCommand("true", "/tmp\u0000", false, 0, null, null, null),
            () -> new Commands.RunCommand("true", null, false, 0, null, null, Map.of("", "x")),
            () -> new Commands.RunCommand("true", null, false, 0, null, null, Map.of("A=B", "x")),
            () -> new Commands.RunCommand("true", null, false, 0, null, null, Map.of("A", "x\u0000")),
            () -> foreground(tooLong),
            () -> new Commands.RunCommand("true", null, false, 0, null, null, Map.of("A", tooLong)))) {
            ExecdException error = assertThrows(ExecdException.class, invalid::run);
            assertEquals(400, error.status);
            assertEquals(ExecdException.INVALID_REQUEST, error.code);
        }
        assertTrue(runtime.requests.isEmpty());
    }

    @Test
    void aLongCommandIsReportedCutInItsStatus() throws Exception {
        String script = "echo " + "a".repeat(Commands.MAX_CONTENT_CHARS * 2);
        runtime.script(script, new Step("exit", "0"));
        String id = run(foreground(script)).get(0).get("text").asText();
        String content = (String) commands.status(SANDBOX, id).get("content");
        assertEquals(Commands.MAX_CONTENT_CHARS, content.length());
        assertTrue(content.endsWith("\u2026"));
    }

    private FakeExec awaitExec() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((runtime.running.isEmpty() || runtime.running.get(0).thread == null) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertFalse(runtime.running.isEmpty(), "the exec started");
        return runtime.running.get(0);
    }

    private static void awaitState(FakeExec exec, Thread.State state) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (exec.thread.getState() != state && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(state, exec.thread.getState(), "the exec's output thread waits");
    }

    /** A client whose connection takes nothing: writes block until it disconnects, then fail. */
    static final class StuckClient extends java.io.OutputStream {
        final CompletableFuture<Void> writing = new CompletableFuture<>();
        final ByteArrayOutputStream first = new ByteArrayOutputStream();
        private final CompletableFuture<Void> gone = new CompletableFuture<>();
        private int written;

        @Override
        public void write(int b) throws java.io.IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] data, int offset, int length) throws java.io.IOException {
            if (written > 0) { // the init event goes through; then the connection is full
                writing.complete(null);
                gone.join();
                throw new java.io.IOException("Broken pipe");
            }
            written += length;
            first.write(data, offset, length);
        }

        void disconnect() {
            gone.complete(null);
        }
    }

    private void awaitFinished(String id) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Boolean.TRUE.equals(commands.status(SANDBOX, id).get("running")) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(false, commands.status(SANDBOX, id).get("running"));
    }

    // ---------------------------------------------------------------- the fake runtime

    record Step(String kind, Object value) {
    }

    /** Plays a script per command text: output chunks, waits, then an exit; a signal ends the running one with 143. */
    static final class ScriptedRuntime implements SandboxRuntime {
        static final int PID = 4242;
        final List<ExecRequest> requests = new CopyOnWriteArrayList<>();
        final List<ExecRequest> signals = new CopyOnWriteArrayList<>();
        private final Map<String, List<Step>> scripts = new java.util.concurrent.ConcurrentHashMap<>();
        final List<FakeExec> running = new CopyOnWriteArrayList<>();
        RuntimeException failExec;
        /** Plays each exec to its end inside {@code exec}, on the caller's thread, as the in-memory runtime does. */
        boolean inline;

        void script(String command, Step... steps) {
            scripts.put(command, List.of(steps));
        }

        ExecRequest awaitSignal() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (signals.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertFalse(signals.isEmpty(), "a signal was sent");
            return signals.get(0);
        }

        void awaitExit(String ignored) throws Exception {
            for (FakeExec exec : running) {
                exec.done.get(10, TimeUnit.SECONDS);
            }
        }

        @Override
        public ExecHandle exec(SandboxId id, ExecRequest request, ExecOutput output) {
            if (failExec != null) {
                throw failExec;
            }
            if (request.command().get(2).equals(Commands.SIGNAL_GROUP)) {
                signals.add(request);
                running.forEach(exec -> exec.kill());
                return FakeExec.finished(0);
            }
            requests.add(request);
            FakeExec exec = new FakeExec(scripts.get(request.command().get(4)), output);
            running.add(exec);
            if (inline) {
                exec.play();
            } else {
                new Thread(exec::play).start();
            }
            return exec;
        }

        @Override
        public String type() {
            return "scripted";
        }

        @Override
        public RuntimeCapabilities capabilities() {
            return new RuntimeCapabilities("FAKE", false, true, false, false, false, false);
        }

        @Override
        public Sandbox create(ProvisionRequest request) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<Sandbox> inspect(SandboxId id) {
            return Optional.empty();
        }

        @Override
        public List<Sandbox> list() {
            return List.of();
        }

        @Override
        public void remove(SandboxId id) {
        }

        @Override
        public Endpoint resolveEndpoint(SandboxId id, int port, EndpointPurpose purpose) {
            throw new UnsupportedOperationException();
        }
    }

    static final class FakeExec implements ExecHandle {
        final CompletableFuture<Integer> done = new CompletableFuture<>();
        /** Output calls that returned: a call that waits (backpressure) is not counted until it returns. */
        final java.util.concurrent.atomic.AtomicInteger delivered = new java.util.concurrent.atomic.AtomicInteger();
        volatile Thread thread;
        private final List<Step> steps;
        private final ExecOutput output;
        private final CompletableFuture<Void> killed = new CompletableFuture<>();

        FakeExec(List<Step> steps, ExecOutput output) {
            this.steps = steps;
            this.output = output;
        }

        static FakeExec finished(int code) {
            FakeExec exec = new FakeExec(List.of(), null);
            exec.done.complete(code);
            return exec;
        }

        void kill() {
            killed.complete(null);
        }

        void play() {
            thread = Thread.currentThread();
            byte[] pid = (ScriptedRuntime.PID + "\n").getBytes(StandardCharsets.UTF_8);
            output.stdout(pid, 0, 3); // the pid line split across chunks on purpose
            output.stdout(pid, 3, pid.length - 3);
            for (Step step : steps) {
                switch (step.kind()) {
                    case "stdout" -> emit(true, (String) step.value());
                    case "stderr" -> emit(false, (String) step.value());
                    case "flood" -> {
                        int[] shape = (int[]) step.value(); // {chunks, bytes per chunk}
                        byte[] chunk = new byte[shape[1]];
                        java.util.Arrays.fill(chunk, (byte) 'y');
                        for (int i = 0; i < shape[0] && !killed.isDone(); i++) {
                            output.stdout(chunk, 0, chunk.length);
                            delivered.incrementAndGet();
                        }
                        if (killed.isDone()) {
                            done.complete(143);
                            return;
                        }
                    }
                    case "wait" -> {
                        CompletableFuture<?> release = (CompletableFuture<?>) step.value();
                        CompletableFuture.anyOf(release, killed).join();
                        if (killed.isDone()) {
                            done.complete(143);
                            return;
                        }
                    }
                    case "exit" -> {
                        done.complete(Integer.parseInt((String) step.value()));
                        return;
                    }
                    case "lose" -> {
                        done.completeExceptionally(new RuntimeFailureException("FAKE::EXEC_FAILED", (String) step.value()));
                        return;
                    }
                    default -> throw new IllegalStateException(step.kind());
                }
            }
        }

        private void emit(boolean stdout, String text) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            if (stdout) {
                output.stdout(bytes, 0, bytes.length);
            } else {
                output.stderr(bytes, 0, bytes.length);
            }
            delivered.incrementAndGet();
        }

        @Override
        public int awaitExit(Duration timeout) {
            try {
                return done.join();
            } catch (java.util.concurrent.CompletionException e) {
                throw (RuntimeException) e.getCause();
            }
        }

        @Override
        public OptionalInt exitCode() {
            return done.isDone() && !done.isCompletedExceptionally() ? OptionalInt.of(done.join()) : OptionalInt.empty();
        }
    }
}
