package dev.opensandbox.it;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.ResourceUsage;
import dev.opensandbox.core.spi.SandboxRuntime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The runtime compatibility kit (TCK): the contract of {@link SandboxRuntime} as JUnit 5 tests.
 * Every runtime adapter, ours or a third party's, proves it honours the SPI by subclassing this
 * class in a few lines; the tests then run with the subclass.
 *
 * <pre>{@code
 * class MyRuntimeCompatibilityIT extends SandboxRuntimeCompatibilityKit {
 *
 *     private static MyRuntime runtime;
 *
 *     @BeforeAll
 *     static void startRuntime() {
 *         runtime = new MyRuntime(Clock.systemUTC());   // one runtime for every test of the class
 *     }
 *
 *     @AfterAll
 *     static void stopRuntime() {
 *         runtime.close();
 *     }
 *
 *     @Override protected SandboxRuntime runtime() { return runtime; }
 *     @Override protected Clock clock() { return Clock.systemUTC(); }
 *     @Override protected String testImage() { return "busybox:1.36"; }
 *     @Override protected void createUnmanagedWorkload() { myPlatform.runPlainContainer("unlabelled"); }
 * }
 * }</pre>
 *
 * <h2>What the kit expects of a subclass</h2>
 * <ul>
 *   <li>{@link #runtime()} may return the same instance for every test (create it in a
 *       {@code @BeforeAll}) or a fresh one; the kit never closes it.</li>
 *   <li>{@link #clock()} is the clock the runtime was built with. The kit takes every timestamp
 *       it sends from it and never reads the system clock itself.</li>
 *   <li>The image of {@link #testImage()} must have {@code sh}, {@code sleep} and
 *       {@code printf}; the default entrypoints run them.</li>
 *   <li>Nothing else may create or remove managed sandboxes in the same platform while the kit
 *       runs: the list test compares two listings.</li>
 * </ul>
 *
 * <p>The kit removes every sandbox it created after each test. Tests of optional capabilities
 * ({@link dev.opensandbox.core.spi.RuntimeCapabilities}) are skipped, not passed, when the
 * runtime does not declare them. Waits for a state poll {@code inspect} every 100 ms for at most
 * {@link #stateTimeout()} and return at once when the state is already reached.
 */
public abstract class SandboxRuntimeCompatibilityKit {

    /** Ports the official SDKs resolve right after create: the execution daemon and a user port. */
    private static final int EXECD_PORT = 44772;
    private static final int USER_PORT = 18080;
    private static final Duration POLL_INTERVAL = Duration.ofMillis(100);
    private static final Duration SANDBOX_TIME_TO_LIVE = Duration.ofHours(1);

    private final Set<SandboxId> createdByKit = new LinkedHashSet<>();

    /** The runtime under test. Called often: return a field, do not build one per call. */
    protected abstract SandboxRuntime runtime();

    /**
     * The clock the runtime under test uses. The kit stamps {@code createdAt} and
     * {@code expiresAt} of every request from it. Integration tests against a real platform
     * return {@code Clock.systemUTC()}; tests of a simulated runtime return a fixed clock.
     */
    protected abstract Clock clock();

    /** An image with {@code sh}, {@code sleep} and {@code printf}, available to the runtime without a pull if possible. */
    protected abstract String testImage();

    /**
     * Creates something in the platform that looks like a workload but does not carry the
     * {@link dev.opensandbox.core.Labels#ID} label, for example a plain container. The kit then
     * checks that {@link SandboxRuntime#list()} leaves it out. Removing it afterwards is up to the
     * subclass.
     */
    protected abstract void createUnmanagedWorkload();

    /** An entrypoint that keeps the sandbox running for longer than any test. */
    protected List<String> longRunningEntrypoint() {
        return List.of("sleep", "3600");
    }

    /** An entrypoint that exits at once with {@code code}. */
    protected List<String> entrypointExitingWith(int code) {
        return List.of("sh", "-c", "exit " + code);
    }

    /**
     * Whether the server's proxy may dial this runtime's sandboxes ({@link EndpointPurpose#INTERNAL}
     * endpoints). A runtime whose sandboxes share the host's network (Docker's host mode) refuses
     * them with a {@link ConflictException}, since the proxy would reach any service of the host.
     */
    protected boolean proxiesSandboxPorts() {
        return true;
    }

    /** How long the kit waits for a sandbox to reach a state. */
    protected Duration stateTimeout() {
        return Duration.ofSeconds(60);
    }

    /**
     * How far the {@code createdAt} a runtime reports may be from the one requested. A runtime
     * that records the requested instant reports it exactly; one that reports the platform's own
     * creation time (a container's, say) is a few milliseconds later.
     */
    protected Duration createdAtTolerance() {
        return Duration.ofSeconds(5);
    }

    @AfterEach
    final void removeSandboxesCreatedByKit() {
        List<RuntimeException> failures = new ArrayList<>();
        for (SandboxId id : createdByKit) {
            try {
                runtime().remove(id);
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        createdByKit.clear();
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    // ---------------------------------------------------------------- create, inspect, list, remove

    @Test
    @DisplayName("create returns once started and inspect then shows Running")
    void createReturnsOnceStartedAndInspectShowsRunning() {
        Sandbox created = create(longRunningEntrypoint());

        assertEquals(SandboxState.RUNNING, created.status().state(), "state returned by create");
        Sandbox inspected = inspectExisting(created.id());
        assertEquals(SandboxState.RUNNING, inspected.status().state(), "state reported by inspect");
    }

    @Test
    @DisplayName("list returns only managed sandboxes")
    void listReturnsOnlyManagedSandboxes() {
        Set<SandboxId> before = listedIds();
        createUnmanagedWorkload();
        Sandbox managed = create(longRunningEntrypoint());

        List<Sandbox> listed = runtime().list();

        listed.forEach(sandbox -> assertNotNull(sandbox.id(), "every listed sandbox has an id"));
        Set<SandboxId> after = listed.stream().map(Sandbox::id).collect(Collectors.toCollection(LinkedHashSet::new));
        assertTrue(after.contains(managed.id()), "list contains the created sandbox " + managed.id());
        Set<SandboxId> appeared = new LinkedHashSet<>(after);
        appeared.removeAll(before);
        assertEquals(Set.of(managed.id()), appeared,
            "only the created sandbox appeared in list; anything else is the unmanaged workload leaking");
    }

    @Test
    @DisplayName("remove of an unknown id succeeds")
    void removeOfUnknownIdSucceeds() {
        SandboxId unknown = SandboxId.random();

        runtime().remove(unknown);

        assertEquals(Optional.empty(), runtime().inspect(unknown));
    }

    @Test
    @DisplayName("remove twice succeeds")
    void removeTwiceSucceeds() {
        Sandbox sandbox = create(longRunningEntrypoint());

        runtime().remove(sandbox.id());
        runtime().remove(sandbox.id());
        removedByTest(sandbox.id());

        assertEquals(Optional.empty(), runtime().inspect(sandbox.id()));
    }

    @Test
    @DisplayName("after remove, inspect is empty and list no longer contains the sandbox")
    void afterRemoveInspectIsEmptyAndListOmitsTheSandbox() {
        Sandbox sandbox = create(longRunningEntrypoint());
        assertTrue(listedIds().contains(sandbox.id()), "listed before remove");

        runtime().remove(sandbox.id());
        removedByTest(sandbox.id());

        assertEquals(Optional.empty(), runtime().inspect(sandbox.id()), "inspect after remove");
        assertFalse(listedIds().contains(sandbox.id()), "listed after remove");
    }

    @Test
    @DisplayName("pools are offered exactly when the capabilities say so, and an unknown pool is not found")
    void poolsMatchTheCapabilities() {
        assertEquals(runtime().capabilities().pools(), runtime().pools().isPresent(), "capabilities().pools() vs pools()");
        runtime().pools().ifPresent(pools -> {
            NotFoundException e = assertThrows(NotFoundException.class,
                () -> pools.get("kit-no-such-pool-" + UUID.randomUUID()));
            assertEquals(ErrorCodes.POOL_NOT_FOUND, e.code());
        });
    }

    @Test
    @DisplayName("an unknown sandbox inspect is empty, not an error")
    void inspectOfUnknownSandboxIsEmpty() {
        assertEquals(Optional.empty(), runtime().inspect(SandboxId.random()));
    }

    @Test
    @DisplayName("metadata and env with awkward characters round-trip")
    void metadataAndEnvWithAwkwardCharactersRoundTrip() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("example.com/team", "a.b_c-1");
        metadata.put("empty", "");
        metadata.put("Mixed-Case_key.1", "Value_2");
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KIT_SPACES", "two words  and a tab\there");
        env.put("KIT_QUOTES", "single ' double \" back ` slash \\");
        env.put("KIT_EQUALS", "a=b=c");
        env.put("KIT_UNICODE", "héllo wörld ✓ 沙箱");
        env.put("KIT_NEWLINE", "line one\nline two");
        env.put("KIT_EMPTY", "");

        Sandbox created = create(spec(longRunningEntrypoint()).metadata(metadata).env(env).build());

        assertEquals(metadata, inspectExisting(created.id()).metadata(), "metadata reported by inspect");
        Sandbox listed = runtime().list().stream().filter(s -> s.id().equals(created.id())).findFirst()
            .orElseThrow(() -> new AssertionError("created sandbox missing from list"));
        assertEquals(metadata, listed.metadata(), "metadata reported by list");
        if (runtime().capabilities().exec()) {
            for (Map.Entry<String, String> variable : env.entrySet()) {
                ExecResult result = exec(created.id(), "sh", "-c", "printf %s \"$" + variable.getKey() + "\"");
                assertEquals(0, result.exitCode(), "exit code printing " + variable.getKey());
                assertEquals(variable.getValue(), result.stdout(), "value of " + variable.getKey());
            }
        }
    }

    @Test
    @DisplayName("inspect reports the requested image, entrypoint, createdAt and expiresAt")
    void inspectReportsRequestedImageEntrypointAndTimes() {
        ProvisionRequest request = provisionRequest(spec(longRunningEntrypoint()).build());
        track(request.id());
        runtime().create(request);

        Sandbox inspected = inspectExisting(request.id());

        assertAll(
            () -> assertEquals(testImage(), inspected.image(), "image"),
            () -> assertEquals(longRunningEntrypoint(), inspected.entrypoint(), "entrypoint"),
            () -> assertEquals(request.expiresAt(), inspected.expiresAt(), "expiresAt"),
            () -> assertWithin(createdAtTolerance(), request.createdAt(), inspected.createdAt(), "createdAt"));
    }

    // ---------------------------------------------------------------- entrypoint exit

    @Test
    @DisplayName("an entrypoint that exits 0 ends Terminated")
    void entrypointExitingZeroEndsTerminated() {
        Sandbox sandbox = create(entrypointExitingWith(0));

        Sandbox ended = awaitFinalState(sandbox.id());

        assertEquals(SandboxState.TERMINATED, ended.status().state());
    }

    @Test
    @DisplayName("an entrypoint that exits 3 ends Failed with the exit code in the status message")
    void entrypointExitingThreeEndsFailedWithExitCodeInMessage() {
        Sandbox sandbox = create(entrypointExitingWith(3));

        Sandbox ended = awaitFinalState(sandbox.id());

        assertEquals(SandboxState.FAILED, ended.status().state());
        String message = ended.status().message();
        assertNotNull(message, "status message");
        assertTrue(message.matches("(?s).*(?<![0-9])3(?![0-9]).*"), "exit code 3 in status message: " + message);
    }

    // ---------------------------------------------------------------- pause

    @Test
    @DisplayName("pause then resume returns to Running")
    void pauseThenResumeReturnsToRunning() {
        assumeCapability(runtime().capabilities().pause(), "pause");
        Sandbox sandbox = create(longRunningEntrypoint());

        runtime().pause(sandbox.id());
        awaitState(sandbox.id(), SandboxState.PAUSED);
        runtime().resume(sandbox.id());

        assertEquals(SandboxState.RUNNING, awaitState(sandbox.id(), SandboxState.RUNNING).status().state());
    }

    @Test
    @DisplayName("pausing a paused sandbox is a conflict")
    void pausingPausedSandboxIsConflict() {
        assumeCapability(runtime().capabilities().pause(), "pause");
        Sandbox sandbox = create(longRunningEntrypoint());
        runtime().pause(sandbox.id());
        awaitState(sandbox.id(), SandboxState.PAUSED);

        assertThrows(ConflictException.class, () -> runtime().pause(sandbox.id()));
    }

    @Test
    @DisplayName("resuming a running sandbox is a conflict")
    void resumingRunningSandboxIsConflict() {
        assumeCapability(runtime().capabilities().pause(), "pause");
        Sandbox sandbox = create(longRunningEntrypoint());

        assertThrows(ConflictException.class, () -> runtime().resume(sandbox.id()));
    }

    @Test
    @DisplayName("pause of an unknown sandbox is not found")
    void pauseOfUnknownSandboxIsNotFound() {
        assumeCapability(runtime().capabilities().pause(), "pause");

        assertThrows(NotFoundException.class, () -> runtime().pause(SandboxId.random()));
    }

    // ---------------------------------------------------------------- exec and files

    @Test
    @DisplayName("exec streams stdout and stderr and reports the exit code")
    void execStreamsStdoutAndStderrAndReportsExitCode() {
        assumeCapability(runtime().capabilities().exec(), "exec");
        Sandbox sandbox = create(longRunningEntrypoint());

        ExecResult result = exec(sandbox.id(), "sh", "-c", "echo out; echo err 1>&2; exit 7");

        assertAll(
            () -> assertEquals(7, result.exitCode(), "exit code from awaitExit"),
            () -> assertEquals(OptionalInt.of(7), result.handleExitCode(), "exit code from the handle"),
            () -> assertEquals("out\n", result.stdout(), "stdout"),
            () -> assertEquals("err\n", result.stderr(), "stderr"));
    }

    @Test
    @DisplayName("stats of a running sandbox are within bounds, and of an unknown sandbox not found")
    void statsOfRunningSandboxAreWithinBoundsAndOfUnknownSandboxNotFound() {
        assumeCapability(runtime().capabilities().exec(), "exec");
        Sandbox sandbox = create(longRunningEntrypoint());

        ResourceUsage usage = runtime().stats(sandbox.id());

        assertAll(
            () -> assertTrue(usage.cpuCount() > 0, "cpuCount > 0: " + usage),
            () -> assertTrue(usage.cpuUsedPercent() >= 0 && usage.cpuUsedPercent() <= 100,
                "cpuUsedPercent within 0..100: " + usage),
            () -> assertTrue(usage.memoryLimitBytes() > 0, "memoryLimitBytes > 0: " + usage),
            () -> assertTrue(usage.memoryUsedBytes() <= usage.memoryLimitBytes(),
                "memoryUsedBytes within the limit: " + usage),
            () -> assertThrows(NotFoundException.class, () -> runtime().stats(SandboxId.random()),
                "stats of an unknown sandbox"));
    }

    @Test
    @DisplayName("a written file reads back byte for byte")
    void writtenFileReadsBackByteForByte() throws IOException {
        assumeCapability(runtime().capabilities().files(), "files");
        Sandbox sandbox = create(longRunningEntrypoint());
        byte[] content = new byte[512];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) i;
        }
        String path = "/tmp/opensandbox-kit/" + UUID.randomUUID() + "/all-bytes.bin";

        runtime().writeFile(sandbox.id(), path, new ByteArrayInputStream(content), content.length, 0644);

        try (InputStream in = runtime().readFile(sandbox.id(), path)) {
            assertArrayEquals(content, in.readAllBytes());
        }
    }

    @Test
    @DisplayName("reading a missing file is not found")
    void readingMissingFileIsNotFound() {
        assumeCapability(runtime().capabilities().files(), "files");
        Sandbox sandbox = create(longRunningEntrypoint());

        assertThrows(NotFoundException.class,
            () -> runtime().readFile(sandbox.id(), "/tmp/opensandbox-kit-missing-" + UUID.randomUUID()).close());
    }

    // ---------------------------------------------------------------- endpoints

    @Test
    @DisplayName("resolving an endpoint of an unknown sandbox is not found")
    void resolvingEndpointOfUnknownSandboxIsNotFound() {
        SandboxId unknown = SandboxId.random();

        assertAll(
            () -> assertThrows(NotFoundException.class,
                () -> runtime().resolveEndpoint(unknown, EXECD_PORT, EndpointPurpose.EXTERNAL)),
            () -> assertThrows(NotFoundException.class,
                () -> runtime().resolveEndpoint(unknown, EXECD_PORT, EndpointPurpose.INTERNAL)));
    }

    @Test
    @DisplayName("an endpoint resolves right after create for ports 44772 and 18080 (INTERNAL ones unless the runtime refuses the proxy)")
    void endpointResolvesRightAfterCreate() {
        Sandbox sandbox = create(longRunningEntrypoint());

        for (int port : new int[] {EXECD_PORT, USER_PORT}) {
            for (EndpointPurpose purpose : EndpointPurpose.values()) {
                if (purpose == EndpointPurpose.INTERNAL && !proxiesSandboxPorts()) {
                    assertThrows(ConflictException.class, () -> runtime().resolveEndpoint(sandbox.id(), port, purpose),
                        "a runtime that refuses the proxy says so with a conflict, port " + port);
                    continue;
                }
                Endpoint endpoint = runtime().resolveEndpoint(sandbox.id(), port, purpose);
                assertNotNull(endpoint, purpose + " endpoint of port " + port);
                assertFalse(endpoint.address().isBlank(), purpose + " address of port " + port);
            }
        }
    }

    // ---------------------------------------------------------------- helpers for subclasses and tests

    /** A spec for {@link #testImage()} with {@code entrypoint}, which subclasses may extend in their own tests. */
    protected final SandboxSpec.Builder spec(List<String> entrypoint) {
        return SandboxSpec.builder()
            .image(ImageSpec.of(testImage()))
            .entrypoint(entrypoint)
            .resourceLimits(Map.of())
            .timeout(SANDBOX_TIME_TO_LIVE);
    }

    /**
     * Creates a sandbox from {@code spec} with a fresh id, stamped from {@link #clock()}, and
     * removes it after the test.
     */
    protected final Sandbox create(SandboxSpec spec) {
        ProvisionRequest request = provisionRequest(spec);
        track(request.id());
        return runtime().create(request);
    }

    private Sandbox create(List<String> entrypoint) {
        return create(spec(entrypoint).build());
    }

    private ProvisionRequest provisionRequest(SandboxSpec spec) {
        // Whole seconds: label formats of real platforms need not keep sub-second digits.
        Instant createdAt = clock().instant().truncatedTo(ChronoUnit.SECONDS);
        Instant expiresAt = spec.timeout() == null ? null : createdAt.plus(spec.timeout());
        return new ProvisionRequest(SandboxId.random(), spec, spec.image(), spec.entrypoint(), ResourceLimits.none(),
            createdAt, expiresAt);
    }

    private void track(SandboxId id) {
        createdByKit.add(id);
    }

    /**
     * Forgets a sandbox the test removed itself, so that a runtime whose second remove fails is
     * reported by "remove twice succeeds" alone and not by every test that removes.
     */
    private void removedByTest(SandboxId id) {
        createdByKit.remove(id);
    }

    private Sandbox inspectExisting(SandboxId id) {
        return runtime().inspect(id).orElseThrow(() -> new AssertionError("inspect found no sandbox " + id));
    }

    private Set<SandboxId> listedIds() {
        return runtime().list().stream().map(Sandbox::id).collect(Collectors.toCollection(LinkedHashSet::new));
    }

    private Sandbox awaitFinalState(SandboxId id) {
        return await(id, sandbox -> sandbox.status().state().isFinal(), "a final state");
    }

    private Sandbox awaitState(SandboxId id, SandboxState state) {
        return await(id, sandbox -> sandbox.status().state() == state, "state " + state.wireName());
    }

    private Sandbox await(SandboxId id, Predicate<Sandbox> condition, String description) {
        // nanoTime, not the clock: the clock of a simulated runtime may stand still.
        long deadline = System.nanoTime() + stateTimeout().toNanos();
        while (true) {
            Sandbox sandbox = inspectExisting(id);
            if (condition.test(sandbox)) {
                return sandbox;
            }
            if (System.nanoTime() - deadline >= 0) {
                return fail("sandbox " + id + " did not reach " + description + " within " + stateTimeout()
                    + "; last status " + sandbox.status());
            }
            try {
                Thread.sleep(POLL_INTERVAL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail("interrupted while waiting for " + description, e);
            }
        }
    }

    private ExecResult exec(SandboxId id, String... command) {
        CollectingOutput output = new CollectingOutput();
        ExecHandle handle = runtime().exec(id, ExecRequest.of(command), output);
        int exitCode = handle.awaitExit(stateTimeout());
        return new ExecResult(exitCode, handle.exitCode(), output.stdout(), output.stderr());
    }

    private static void assumeCapability(boolean declared, String capability) {
        Assumptions.assumeTrue(declared, "the runtime does not declare the " + capability + " capability");
    }

    private static void assertWithin(Duration tolerance, Instant expected, Instant actual, String what) {
        assertNotNull(actual, what);
        Duration distance = Duration.between(expected, actual).abs();
        assertTrue(distance.compareTo(tolerance) <= 0,
            what + " " + actual + " is more than " + tolerance + " from the requested " + expected);
    }

    private record ExecResult(int exitCode, OptionalInt handleExitCode, String stdout, String stderr) {
    }

    /** Collects both streams; the runtime calls it from one thread at a time, but not always the same one. */
    private static final class CollectingOutput implements ExecOutput {
        private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

        @Override
        public synchronized void stdout(byte[] data, int offset, int length) {
            stdout.write(data, offset, length);
        }

        @Override
        public synchronized void stderr(byte[] data, int offset, int length) {
            stderr.write(data, offset, length);
        }

        synchronized String stdout() {
            return decode(stdout);
        }

        synchronized String stderr() {
            return decode(stderr);
        }

        private static String decode(ByteArrayOutputStream bytes) {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
