package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.core.service.ServicePolicy;
import dev.opensandbox.core.store.InMemorySandboxStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression: inputs the engine refuses were a 500 {@code DOCKER::SANDBOX_START_FAILED}, some after
 * the named volume or host directory had been made. Through the use case on the real engine, each
 * is now a 400 before anything is created; and {@code resourceLimits: {}} gets the operator's
 * default limits instead of none.
 */
class CreateInputValidationIT {

    private static DockerTestEngine engine;
    private static Path allowed;
    private static SandboxService sandboxes;
    private static SandboxService bounded;

    @BeforeAll
    static void connect() throws IOException {
        engine = DockerTestEngine.connectOrSkip();
        allowed = Files.createTempDirectory("opensandbox-validation-allowed");
        DockerSandboxRuntime runtime = engine.runtimeAllowingHostPathsUnder(allowed);
        ServicePolicy policy = new ServicePolicy(null, List.of(allowed.toString()), false);
        sandboxes = new SandboxService(runtime, new InMemorySandboxStore(), Clock.systemUTC(), policy);
        bounded = new SandboxService(runtime, new InMemorySandboxStore(), Clock.systemUTC(),
            policy.withResourceLimits(Map.of("cpu", "500m", "memory", "64Mi"), Map.of("memory", "128Mi")));
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (engine != null) {
            engine.close();
        }
    }

    private record Case(String what, Function<SandboxSpec.Builder, SandboxSpec.Builder> change) {
    }

    @Test
    void inputsTheEngineWouldRefuseAre400sAndCreateNothing() {
        String volume = "it-validation-" + UUID.randomUUID().toString().substring(0, 8);
        Path hostDir = allowed.resolve("never-made");
        Map<String, String> emptyName = new LinkedHashMap<>();
        emptyName.put("", "x");
        List<Case> cases = List.of(
            new Case("memory below the engine's 6 MiB", b -> b.resourceLimits(Map.of("memory", "7"))),
            new Case("an empty env name", b -> b.env(emptyName)),
            new Case("a NUL in an env value", b -> b.env("TOKEN", "a\0b")),
            new Case("'=' in an env name", b -> b.env("A=B", "x")),
            new Case("an empty program", b -> b.entrypoint("")),
            new Case("mountPath /proc", b -> b.volumes(List.of(new VolumeSpec("data", "/proc", false, null,
                new VolumeBackend.Pvc(volume, true, true, null, null, null))))),
            new Case("mountPath /sys/fs", b -> b.volumes(List.of(new VolumeSpec("data", "/sys/fs", false, null,
                new VolumeBackend.Host(hostDir.toString()))))),
            new Case("mountPath /dev", b -> b.volumes(List.of(new VolumeSpec("data", "/dev", false, null,
                new VolumeBackend.Host(hostDir.toString()))))),
            new Case("a colon in the mount path", b -> b.volumes(List.of(new VolumeSpec("data", "/mnt/a:b", false, null,
                new VolumeBackend.Pvc(volume, true, true, null, null, null))))),
            new Case("a colon in the host path", b -> b.volumes(List.of(new VolumeSpec("data", "/mnt/x", false, null,
                new VolumeBackend.Host(hostDir + ":x"))))));

        for (Case bad : cases) {
            SandboxSpec spec = bad.change().apply(engine.spec("sleep", "3600")).build();
            InvalidRequestException refused = assertThrows(InvalidRequestException.class, () -> sandboxes.create(spec),
                bad.what());
            assertFalse(refused.getMessage().isBlank(), bad.what());
            assertTrue(engine.raw.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(DockerTestEngine.RUN_LABEL, engine.runId)).exec().isEmpty(),
                bad.what() + ": no container");
            assertTrue(engine.raw.listVolumesCmd().withFilter("name", List.of(volume)).exec().getVolumes() == null
                || engine.raw.listVolumesCmd().withFilter("name", List.of(volume)).exec().getVolumes().isEmpty(),
                bad.what() + ": no volume");
            assertFalse(Files.exists(hostDir), bad.what() + ": no host directory");
        }
    }

    @Test
    void emptyLimitsRunWithTheConfiguredDefaultsAndLimitsAboveTheMaximumAreRefused() {
        Sandbox sandbox = bounded.create(engine.spec("sleep", "3600").resourceLimits(Map.of()).build());
        try {
            InspectContainerResponse container = engine.raw.inspectContainerCmd("sandbox-" + sandbox.id()).exec();
            assertEquals(64L << 20, container.getHostConfig().getMemory());
            assertEquals(500_000_000L, container.getHostConfig().getNanoCPUs());
        } finally {
            bounded.delete(sandbox.id());
        }
        InvalidRequestException above = assertThrows(InvalidRequestException.class,
            () -> bounded.create(engine.spec("sleep", "3600").resourceLimits(Map.of("memory", "1Gi")).build()));
        assertEquals("resourceLimits.memory '1Gi' exceeds the configured maximum of 128Mi ([server] max_resource_limits).",
            above.getMessage());
    }
}
