package dev.opensandbox.core.memory;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.SandboxStatus;
import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.RuntimeCapabilities;
import dev.opensandbox.core.spi.RuntimeContext;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntimeProvider;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import static dev.opensandbox.core.memory.Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InMemorySandboxRuntimeTest {

    private final MutableClock clock = new MutableClock();
    private final InMemorySandboxRuntime runtime = new InMemorySandboxRuntime(clock);
    private final SandboxId id = SandboxId.random();

    private SandboxStatus statusOf(SandboxId sandboxId) {
        return runtime.inspect(sandboxId).orElseThrow().status();
    }

    @Test
    void imitatesTheDockerRuntimesCapabilitiesAndErrorNamespace() {
        assertEquals("in-memory", runtime.type());
        assertEquals(new RuntimeCapabilities("DOCKER", true, true, true, true, true, false), runtime.capabilities());
        assertEquals("DOCKER::SANDBOX_NOT_FOUND", runtime.sandboxNotFound(id).code());
    }

    @Test
    void providerIsFoundByServiceLoaderAndBuildsARuntimeOnTheContextClock() {
        SandboxRuntimeProvider provider = ServiceLoader.load(SandboxRuntimeProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(p -> p.type().equals("in-memory"))
            .findFirst().orElseThrow();
        SandboxRuntime created = provider.create(new RuntimeContext(clock, Map.of(), Map.of()));
        assertInstanceOf(InMemorySandboxRuntime.class, created);

        clock.advance(Duration.ofMinutes(7));
        Sandbox sandbox = created.create(request(id, clock.instant(), "sleep", "60"));
        assertEquals(clock.instant(), sandbox.status().lastTransitionAt());
    }

    @Test
    void createReturnsRunningWithTheStartedMessageAndRecordsTheRequest() {
        Instant createdAt = clock.instant();
        Instant expiresAt = createdAt.plus(Duration.ofMinutes(10));
        SandboxSpec spec = SandboxSpec.builder().image("python:3.11").entrypoint("sleep", "3600")
            .platform(new Platform("linux", "arm64")).metadata("team", "a").build();
        ProvisionRequest request = new ProvisionRequest(id, spec, ImageSpec.of("python:3.11"), List.of("sleep", "3600"),
            ResourceLimits.none(), createdAt, expiresAt);

        Sandbox created = runtime.create(request);

        assertEquals(new SandboxStatus(SandboxState.RUNNING, "CONTAINER_RUNNING",
            "Sandbox container started successfully.", createdAt), created.status());
        assertEquals(id, created.id());
        assertEquals("python:3.11", created.image());
        assertNull(created.snapshotId());
        assertEquals(new Platform("linux", "arm64"), created.platform());
        assertEquals(Map.of("team", "a"), created.metadata());
        assertEquals(List.of("sleep", "3600"), created.entrypoint());
        assertEquals(expiresAt, created.expiresAt());
        assertEquals(createdAt, created.createdAt());
    }

    @ParameterizedTest
    @ValueSource(strings = {"sleep 3600", "tail -f /dev/null", "sh -c 'sleep 100'", "sh -c 'echo up; exec sleep 9'",
        "python -m http.server 8080", "sleep infinity"})
    void entrypointThatKeepsRunningLeavesTheSandboxRunning(String command) {
        runtime.create(request(id, clock.instant(), command.startsWith("sh -c")
            ? new String[] {"sh", "-c", command.substring(7, command.length() - 1)}
            : command.split(" ")));

        assertEquals(new SandboxStatus(SandboxState.RUNNING, "CONTAINER_RUNNING", "Sandbox container is running.",
            clock.instant()), statusOf(id));
    }

    @Test
    void sandboxWithoutEntrypointKeepsRunningLikeAnImageDefaultCommand() {
        runtime.create(request(id, clock.instant()));

        assertEquals(SandboxState.RUNNING, statusOf(id).state());
    }

    @ParameterizedTest
    @ValueSource(strings = {"true", "echo hi", "exit 0", "sh|-c|exit 0", "sh|-c|echo a && true", "/bin/sh"})
    void entrypointThatExitsZeroEndsTerminatedAfterCreateReportedRunning(String command) {
        Sandbox created = runtime.create(request(id, clock.instant(), command.split("\\|")));

        assertEquals(SandboxState.RUNNING, created.status().state());
        assertEquals(new SandboxStatus(SandboxState.TERMINATED, "CONTAINER_EXITED",
            "Sandbox container exited successfully.", clock.instant()), statusOf(id));
    }

    @Test
    void entrypointThatExitsNonZeroEndsFailedWithItsExitCode() {
        Sandbox created = runtime.create(request(id, clock.instant(), "sh", "-c", "exit 3"));

        assertEquals(SandboxState.RUNNING, created.status().state());
        assertEquals(new SandboxStatus(SandboxState.FAILED, "CONTAINER_EXITED_ERROR",
            "Sandbox container exited with code 3.", clock.instant()), statusOf(id));
    }

    @Test
    void falseEntrypointFailsWithCodeOne() {
        runtime.create(request(id, clock.instant(), "false"));

        assertEquals("Sandbox container exited with code 1.", statusOf(id).message());
    }

    @Test
    void exitedSandboxStaysListedUntilRemoved() {
        runtime.create(request(id, clock.instant(), "true"));

        assertEquals(List.of(id), runtime.list().stream().map(Sandbox::id).toList());
        runtime.remove(id);
        assertTrue(runtime.list().isEmpty());
    }

    @Test
    void creatingAnExistingIdFailsAndKeepsTheFirstSandbox() {
        runtime.create(request(id, clock.instant(), "sleep", "100"));
        runtime.pause(id);

        RuntimeFailureException e = assertThrows(RuntimeFailureException.class,
            () -> runtime.create(request(id, clock.instant(), "true")));

        assertEquals("DOCKER::SANDBOX_START_FAILED", e.code());
        assertEquals(SandboxState.PAUSED, statusOf(id).state());
    }

    @Test
    void failNextCreateThrowsTheGivenErrorOnceAndLeavesNothingBehind() {
        UnavailableException failure = new UnavailableException("DOCKER::INITIALIZATION_ERROR", "engine down");
        runtime.failNextCreate(failure);

        SandboxId other = SandboxId.random();
        assertSame(failure, assertThrows(UnavailableException.class,
            () -> runtime.create(request(id, clock.instant(), "sleep", "1"))));
        assertTrue(runtime.inspect(id).isEmpty());
        assertTrue(runtime.list().isEmpty());

        runtime.create(request(other, clock.instant(), "sleep", "1"));
        assertEquals(SandboxState.RUNNING, statusOf(other).state());
    }

    @Test
    void pauseAndResumeTransitionAndMoveLastTransitionAt() {
        runtime.create(request(id, clock.instant(), "sleep", "100"));

        Instant pausedAt = clock.advance(Duration.ofSeconds(5));
        runtime.pause(id);
        assertEquals(new SandboxStatus(SandboxState.PAUSED, "CONTAINER_PAUSED", "Sandbox container is paused.", pausedAt),
            statusOf(id));

        Instant resumedAt = clock.advance(Duration.ofSeconds(5));
        runtime.resume(id);
        assertEquals(new SandboxStatus(SandboxState.RUNNING, "CONTAINER_RUNNING", "Sandbox container is running.",
            resumedAt), statusOf(id));
    }

    @Test
    void pausingAPausedSandboxIsAConflictNotARuntimeFailure() {
        runtime.create(request(id, clock.instant(), "sleep", "100"));
        runtime.pause(id);

        ConflictException e = assertThrows(ConflictException.class, () -> runtime.pause(id));

        assertEquals("DOCKER::SANDBOX_NOT_RUNNING", e.code());
        assertEquals("Sandbox is not in a running state.", e.getMessage());
    }

    @Test
    void pausingAnExitedSandboxIsAConflict() {
        runtime.create(request(id, clock.instant(), "true"));

        ConflictException e = assertThrows(ConflictException.class, () -> runtime.pause(id));

        assertEquals("DOCKER::SANDBOX_NOT_RUNNING", e.code());
        assertEquals(SandboxState.TERMINATED, statusOf(id).state());
    }

    @Test
    void resumingARunningSandboxIsAConflict() {
        runtime.create(request(id, clock.instant(), "sleep", "100"));

        ConflictException e = assertThrows(ConflictException.class, () -> runtime.resume(id));

        assertEquals("DOCKER::SANDBOX_NOT_PAUSED", e.code());
        assertEquals("Sandbox is not in a paused state.", e.getMessage());
    }

    @Test
    void verbsOnAnUnknownSandboxReportDockerNotFound() {
        List<Runnable> verbs = List.of(
            () -> runtime.pause(id),
            () -> runtime.resume(id),
            () -> runtime.resolveEndpoint(id, 8080, EndpointPurpose.EXTERNAL),
            () -> runtime.logs(id, 10, null),
            () -> runtime.commitSnapshot(id, "s1"),
            () -> runtime.statFile(id, "/tmp"));
        for (Runnable verb : verbs) {
            NotFoundException e = assertThrows(NotFoundException.class, verb::run);
            assertEquals("DOCKER::SANDBOX_NOT_FOUND", e.code());
            assertEquals("Sandbox " + id + " not found.", e.getMessage());
        }
    }

    @Test
    void removeIsIdempotentAndTheSandboxIsGoneAfterwards() {
        runtime.create(request(id, clock.instant(), "sleep", "100"));

        runtime.remove(id);
        runtime.remove(id);
        runtime.remove(SandboxId.random());

        assertTrue(runtime.inspect(id).isEmpty());
        assertThrows(NotFoundException.class, () -> runtime.pause(id));
    }

    @Test
    void listReturnsOnlyManagedSandboxes() {
        SandboxId second = SandboxId.random();
        runtime.create(request(id, clock.instant(), "sleep", "100"));
        clock.advance(Duration.ofSeconds(1));
        runtime.create(request(second, clock.instant(), "sleep", "100"));
        runtime.addUnmanagedWorkload("egress-sidecar-for-" + id);

        assertEquals(List.of(id, second), runtime.list().stream().map(Sandbox::id).toList());
    }

    @Test
    void endpointsNameAnUnresolvableHostWithTheRequestedPort() {
        runtime.create(request(id, clock.instant(), "sleep", "100"));

        assertEquals(Endpoint.of("in-memory.invalid:8080"), runtime.resolveEndpoint(id, 8080, EndpointPurpose.EXTERNAL));
        assertEquals(Endpoint.of("in-memory.invalid:44772"), runtime.resolveEndpoint(id, 44772, EndpointPurpose.INTERNAL));
    }

    @Test
    void logsHoldWhatTheEntrypointPrintedOnBothStreams() {
        runtime.create(request(id, clock.instant(), "sh", "-c", "echo one; echo two >&2; echo three; sleep 100"));

        assertEquals("one\ntwo\nthree\n", runtime.logs(id, 100, null));
        assertEquals("two\nthree\n", runtime.logs(id, 2, null));
        assertEquals("one\ntwo\nthree\n", runtime.logs(id, 0, null));
        assertEquals("one\ntwo\nthree\n", runtime.logs(id, 100, clock.instant()));
        assertEquals("", runtime.logs(id, 100, clock.instant().plusSeconds(1)));
    }

    @Test
    void echoEntrypointLogsItsLine() {
        runtime.create(request(id, clock.instant(), "echo", "hi"));

        assertEquals("hi\n", runtime.logs(id, 10, null));
    }

    @Test
    void entrypointSeesTheRequestedEnvironment() {
        SandboxSpec spec = SandboxSpec.builder().image("python:3.11").env("GREETING", "hello world")
            .entrypoint("sh", "-c", "echo \"$GREETING from $HOME\"").build();

        runtime.create(request(id, spec, "python:3.11", clock.instant()));

        assertEquals("hello world from /root\n", runtime.logs(id, 10, null));
    }
}
