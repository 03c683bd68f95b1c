package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression for the host-path race: sandbox A mounts an allowed directory read-write and flips
 * {@code sw} inside it between a directory and a symlink to {@code /}; a create mounting
 * {@code <allowed>/race/sw} read-only was checked while {@code sw} was a directory and mounted
 * after it had become the symlink, showing the host's files. Now such a path (strictly below a
 * directory a container can write) is refused every time, and A's own directory can still be
 * shared.
 */
class HostPathRaceIT {

    private static final int ATTEMPTS = 25;
    private static final Set<String> REFUSALS = Set.of(DockerVolumes.VOLUME_HOST_PATH_UNDER_WRITABLE_MOUNT,
        ErrorCodes.VOLUME_HOST_PATH_NOT_ALLOWED);

    private static DockerTestEngine engine;
    private static Path allowed;
    private static DockerSandboxRuntime runtime;

    @BeforeAll
    static void connect() throws IOException {
        engine = DockerTestEngine.connectOrSkip();
        allowed = Files.createTempDirectory("opensandbox-race-allowed");
        runtime = engine.runtimeAllowingHostPathsUnder(allowed);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (engine != null) {
            engine.close();
        }
    }

    private static ProvisionRequest mounting(String hostPath, String mountPath, boolean readOnly, String... entrypoint) {
        return DockerTestEngine.request(engine.spec(entrypoint).volumes(List.of(
            new VolumeSpec("data", mountPath, readOnly, null, new VolumeBackend.Host(hostPath)))).build());
    }

    private static String sh(SandboxId id, String script) {
        DockerTestEngine.ExecResult result = DockerTestEngine.exec(runtime, id, ExecRequest.of("sh", "-c", script));
        assertEquals(0, result.exitCode(), result.output());
        return result.output();
    }

    @Test
    void aPathInsideADirectoryASandboxWritesIsRefusedEveryTimeWhileItsOwnDirectoryCanBeShared() {
        Path race = allowed.resolve("race");
        // Bounded: at most 200,000 flips, then it only sleeps; the container is removed at the end anyway.
        Sandbox flipper = runtime.create(mounting(race.toString(), "/mnt/race", false, "sh", "-c",
            "echo from-a > /mnt/race/marker; i=0; while [ $i -lt 200000 ]; do rm -rf /mnt/race/sw; mkdir /mnt/race/sw; "
                + "rm -rf /mnt/race/sw; ln -s / /mnt/race/sw; i=$((i+1)); done; exec sleep 3600"));
        List<String> notRefused = new ArrayList<>();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(race.resolve("marker")));
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                ProvisionRequest request = mounting(race.resolve("sw").toString(), "/mnt/x", true, "sleep", "3600");
                try {
                    runtime.create(request);
                    // Mounted after all: it must show the empty directory A made, never the host's files.
                    notRefused.add("attempt " + attempt + " mounted, showing [" + sh(request.id(), "ls -A /mnt/x")
                        .replace('\n', ' ').strip() + "]");
                    runtime.remove(request.id());
                } catch (InvalidRequestException refused) {
                    assertTrue(REFUSALS.contains(refused.code()), refused.code() + ": " + refused.getMessage());
                } catch (RuntimeFailureException failed) {
                    notRefused.add("attempt " + attempt + " failed: " + failed.getMessage());
                }
                assertEquals(List.of(), engine.containersOf(request.id()), "a refused create leaves no container");
            }
            assertEquals(List.of(), notRefused, "every create below A's writable directory is refused with a 400");

            Sandbox sharing = runtime.create(mounting(race.toString(), "/mnt/shared", true, "sleep", "3600"));
            assertEquals("from-a\n", sh(sharing.id(), "cat /mnt/shared/marker"), "A's own directory can be shared");
            runtime.remove(sharing.id());
        } finally {
            runtime.remove(flipper.id());
        }
    }

    @Test
    void theRefusalNamesTheWritableDirectoryAndItsContainer() throws IOException {
        Path shared = allowed.resolve("shared");
        Sandbox writer = runtime.create(mounting(shared.toString(), "/mnt/shared", false, "sleep", "3600"));
        try {
            Files.createDirectories(shared.resolve("inner"));
            InvalidRequestException refused = org.junit.jupiter.api.Assertions.assertThrows(InvalidRequestException.class,
                () -> runtime.create(mounting(shared.resolve("inner").toString(), "/mnt/inner", true, "sleep", "3600")));

            assertEquals(DockerVolumes.VOLUME_HOST_PATH_UNDER_WRITABLE_MOUNT, refused.code());
            assertTrue(refused.getMessage().contains("lies inside '" + shared.toRealPath() + "', which container sandbox-"
                + writer.id() + " mounts read-write"), refused.getMessage());
        } finally {
            runtime.remove(writer.id());
        }
        Sandbox afterwards = runtime.create(mounting(shared.resolve("inner").toString(), "/mnt/inner", true, "sleep", "3600"));
        runtime.remove(afterwards.id());
    }
}
