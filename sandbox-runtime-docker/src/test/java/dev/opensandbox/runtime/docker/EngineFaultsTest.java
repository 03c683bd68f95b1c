package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.SandboxRuntime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Docker runtime as the provider builds it, against a {@link FakeEngine} that vanishes,
 * hangs, restarts or holds streams: engine faults are 503s naming the engine, every call is
 * bounded by {@code api_timeout}, a restart costs no failed call, and streams never starve
 * control calls. The bounds of {@link #BOUND} are generous: they tell "bounded" from "hangs".
 */
class EngineFaultsTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-06-12T15:00:00Z"), ZoneOffset.UTC);
    private static final Duration BOUND = Duration.ofSeconds(15);
    private static final SandboxId ID = SandboxId.parse("0b4a5f8e-3c1d-4e2f-9a6b-7c8d9e0f1a2b");
    private static final String CONTAINER = "{\"Id\":\"c0ffee\",\"Name\":\"/sandbox-" + ID + "\",\"Config\":{\"Labels\":"
        + "{\"opensandbox.io/id\":\"" + ID + "\"}},\"State\":{\"Running\":true,\"Paused\":false}}";

    @TempDir
    Path directory;
    private FakeEngine engine;
    private SandboxRuntime runtime;

    @BeforeEach
    void startEngine() throws IOException {
        engine = new FakeEngine(directory);
        engine.answerAll("[]");
    }

    @AfterEach
    void stop() throws IOException {
        if (runtime != null) {
            runtime.close();
        }
        engine.close();
    }

    private SandboxRuntime runtime() {
        return runtime(DockerEngine.STREAM_CONNECTIONS);
    }

    private SandboxRuntime runtime(int streamConnections) {
        runtime = new DockerRuntimeProvider().create(DockerRuntimeConfig.from(Map.of("api_timeout", 1L), Map.of(),
            Map.of(), Map.of()), Map.of("DOCKER_HOST", engine.dockerHost()), CLOCK, streamConnections);
        return runtime;
    }

    private static ProvisionRequest createRequest() {
        SandboxSpec spec = SandboxSpec.builder().image("busybox:1.36").entrypoint("sleep", "60").build();
        return new ProvisionRequest(ID, spec, spec.image(), spec.entrypoint(), ResourceLimits.none(), CLOCK.instant(), null);
    }

    private <T extends Throwable> T failsWithin(Class<T> type, Executable call) {
        return assertTimeoutPreemptively(BOUND, () -> assertThrows(type, call));
    }

    private void assertNamesTheEngine(SandboxException error, String code, String action) {
        assertEquals(code, error.code(), error.getMessage());
        assertTrue(error.getMessage().contains(engine.dockerHost()), error.getMessage());
        assertTrue(error.getMessage().contains(action), error.getMessage());
    }

    @Test
    void everyVerbAgainstAVanishedEngineIsA503NamingTheEngine() throws IOException {
        SandboxRuntime docker = runtime();
        engine.vanish();

        assertNamesTheEngine(failsWithin(UnavailableException.class, docker::list), "DOCKER::ENGINE_UNAVAILABLE",
            "list sandboxes");
        assertNamesTheEngine(failsWithin(UnavailableException.class, () -> docker.inspect(ID)),
            "DOCKER::ENGINE_UNAVAILABLE", "read sandbox " + ID);
        assertNamesTheEngine(failsWithin(UnavailableException.class, () -> docker.create(createRequest())),
            "DOCKER::ENGINE_UNAVAILABLE", "create sandbox " + ID);
        assertNamesTheEngine(failsWithin(UnavailableException.class, () -> docker.remove(ID)),
            "DOCKER::ENGINE_UNAVAILABLE", "delete sandbox " + ID);
        assertNamesTheEngine(failsWithin(UnavailableException.class, () -> docker.resolveEndpoint(ID, 8080,
            dev.opensandbox.core.spi.EndpointPurpose.EXTERNAL)), "DOCKER::ENGINE_UNAVAILABLE", "resolve port 8080");
    }

    @Test
    void aHungEngineFailsEveryCallWithinTheApiTimeout() {
        SandboxRuntime docker = runtime();
        engine.hang();

        UnavailableException listed = failsWithin(UnavailableException.class, docker::list);
        assertNamesTheEngine(listed, "DOCKER::ENGINE_TIMEOUT", "list sandboxes");
        assertTrue(listed.getMessage().contains("within 1 s"), listed.getMessage());
        assertNamesTheEngine(failsWithin(UnavailableException.class, () -> docker.inspect(ID)),
            "DOCKER::ENGINE_TIMEOUT", "read sandbox " + ID);
        assertNamesTheEngine(failsWithin(UnavailableException.class, () -> docker.create(createRequest())),
            "DOCKER::ENGINE_TIMEOUT", "create sandbox " + ID);
    }

    @Test
    void startingAgainstAHungEngineFailsWithInitializationErrorWithinTheApiTimeout() {
        engine.hang();

        UnavailableException error = failsWithin(UnavailableException.class, this::runtime);

        assertNamesTheEngine(error, "DOCKER::INITIALIZATION_ERROR", "Cannot reach the Docker engine");
    }

    @Test
    void aHungEngineStopsTheSecureRuntimeCheckWithinTheApiTimeout() {
        engine.behave((request, connection) -> {
            if (request.path().endsWith("/_ping")) {
                connection.pong();
            } else {
                Thread.sleep(BOUND.toMillis() * 2);
            }
        });

        UnavailableException error = failsWithin(UnavailableException.class, () -> new DockerRuntimeProvider().create(
            DockerRuntimeConfig.from(Map.of("api_timeout", 1L), Map.of(), Map.of("docker_runtime", "runsc"), Map.of()),
            Map.of("DOCKER_HOST", engine.dockerHost()), CLOCK));

        assertNamesTheEngine(error, "DOCKER::INITIALIZATION_ERROR", "OCI runtimes");
    }

    @Test
    void theProbePingsTheEngineAndNamesItWhenItDoesNotAnswer() throws IOException {
        SandboxRuntime docker = runtime();
        docker.probe();

        engine.hang();
        assertNamesTheEngine(failsWithin(UnavailableException.class, docker::probe), "DOCKER::ENGINE_TIMEOUT",
            "ping the engine");

        engine.vanish();
        assertNamesTheEngine(failsWithin(UnavailableException.class, docker::probe), "DOCKER::ENGINE_UNAVAILABLE",
            "ping the engine");
    }

    @Test
    void afterAnEngineRestartNoCallFailsOnAStaleConnection() throws Exception {
        SandboxRuntime docker = runtime();
        fillThePoolWithIdleConnections(docker, 6);
        int before = engine.connectionsAccepted();

        engine.dropOpenConnections();

        for (int i = 0; i < 6; i++) {
            assertEquals(List.of(), docker.list());
        }
        docker.remove(ID);
        assertTrue(engine.connectionsAccepted() > before, "new connections replaced the dead ones");
    }

    /** Lists that overlap (the engine answers only when all arrived) leave that many idle pooled connections. */
    private void fillThePoolWithIdleConnections(SandboxRuntime docker, int count) throws Exception {
        CountDownLatch allArrived = new CountDownLatch(count);
        engine.behave((request, connection) -> {
            if (request.path().contains("/containers/json")) {
                allArrived.countDown();
                allArrived.await(BOUND.toMillis(), TimeUnit.MILLISECONDS);
            }
            connection.answer(200, "[]");
        });
        ExecutorService callers = Executors.newFixedThreadPool(count);
        try {
            List<Future<?>> lists = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                lists.add(callers.submit(docker::list));
            }
            for (Future<?> list : lists) {
                list.get(BOUND.toSeconds(), TimeUnit.SECONDS);
            }
        } finally {
            callers.shutdownNow();
        }
        engine.answerAll("[]");
    }

    /**
     * An engine with one running sandbox ({@link #ID}): it answers pings, inspects, exec creates
     * and lists itself, and leaves exec starts and exec inspects to {@code commands}.
     */
    private void engineRunningTheSandbox(FakeEngine.Behaviour commands) {
        engine.behave((request, connection) -> {
            String path = request.path();
            if (path.endsWith("/_ping")) {
                connection.pong();
            } else if (path.contains("/containers/sandbox-" + ID + "/json")) {
                connection.answer(200, CONTAINER);
            } else if (path.endsWith("/exec")) {
                connection.answer(201, "{\"Id\":\"e1\"}");
            } else if (path.contains("/containers/json")) {
                connection.answer(200, "[]");
            } else {
                commands.handle(request, connection);
            }
        });
    }

    @Test
    void controlCallsDoNotWaitBehindLongRunningCommands() throws Exception {
        engineRunningTheSandbox(engine.heldStream());
        SandboxRuntime docker = runtime();
        // As many as the one shared pool held before streams had connections of their own.
        for (int i = 0; i < DockerEngine.CONTROL_CONNECTIONS; i++) {
            docker.exec(ID, new ExecRequest(List.of("sleep", "600"), Map.of(), null, null), discard());
        }

        assertEquals(List.of(), assertTimeoutPreemptively(BOUND, docker::list));
    }

    @Test
    void aFullStreamPoolIsAClearErrorNotAWait() throws Exception {
        engineRunningTheSandbox(engine.heldStream());
        SandboxRuntime docker = runtime(8);
        for (int i = 0; i < 8; i++) {
            docker.exec(ID, new ExecRequest(List.of("sleep", "600"), Map.of(), null, null), discard());
        }

        UnavailableException busy = failsWithin(UnavailableException.class,
            () -> docker.exec(ID, new ExecRequest(List.of("true"), Map.of(), null, null), discard()));

        assertNamesTheEngine(busy, "DOCKER::ENGINE_BUSY", "run a command in sandbox " + ID);
        assertTrue(busy.getMessage().contains("all 8 stream connections"), busy.getMessage());
    }

    @Test
    void aCommandQuietForLongerThanTheApiTimeoutIsNotATimeout() throws Exception {
        engineRunningTheSandbox((request, connection) -> {
            if (request.path().endsWith("/start")) {
                connection.streamHead();
                Thread.sleep(2_500);
                connection.stdoutFrame("done\n");
                connection.close();
            } else {
                connection.answer(200, "{\"Running\":false,\"ExitCode\":0}");
            }
        });
        SandboxRuntime docker = runtime();
        StringBuilder stdout = new StringBuilder();

        ExecHandle command = docker.exec(ID, new ExecRequest(List.of("sleep", "2"), Map.of(), null, null),
            new ExecOutput() {
                @Override
                public void stdout(byte[] bytes, int offset, int length) {
                    stdout.append(new String(bytes, offset, length, StandardCharsets.UTF_8));
                }

                @Override
                public void stderr(byte[] bytes, int offset, int length) {
                }
            });

        assertEquals(0, command.awaitExit(BOUND));
        assertEquals("done\n", stdout.toString());
    }

    private static ExecOutput discard() {
        return new ExecOutput() {
            @Override
            public void stdout(byte[] bytes, int offset, int length) {
            }

            @Override
            public void stderr(byte[] bytes, int offset, int length) {
            }
        };
    }
}
