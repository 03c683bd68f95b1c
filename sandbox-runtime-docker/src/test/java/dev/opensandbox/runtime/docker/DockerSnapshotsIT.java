package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectImageResponse;
import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Snapshots through the runtime SPI on the real engine: commit (running and paused), what the
 * image carries, restore, and image removal. Every image a test commits is removed afterwards.
 */
class DockerSnapshotsIT {

    private static DockerTestEngine engine;
    private static DockerSandboxRuntime runtime;
    private static final List<SandboxId> sandboxes = new CopyOnWriteArrayList<>();
    private static final List<String> images = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void connect() {
        engine = DockerTestEngine.connectOrSkip();
        runtime = engine.runtime(Map.of("network_mode", "bridge", "port_bind_address", "127.0.0.1"));
    }

    /** Containers first: an image a container uses cannot be removed. */
    @AfterAll
    static void cleanUp() throws Exception {
        if (engine == null) {
            return;
        }
        sandboxes.forEach(runtime::remove);
        for (String image : images) {
            try {
                engine.raw.removeImageCmd(image).withForce(true).exec();
            } catch (com.github.dockerjava.api.exception.NotFoundException alreadyGone) {
                // removed by the test
            }
        }
        engine.close();
    }

    private static Sandbox source(SandboxSpec.Builder spec) {
        Sandbox sandbox = runtime.create(DockerTestEngine.request(spec.build()));
        sandboxes.add(sandbox.id());
        return sandbox;
    }

    private static String commit(SandboxId id, String snapshotId) {
        images.add(DockerSnapshots.imageOf(snapshotId));
        return runtime.commitSnapshot(id, snapshotId);
    }

    /** A restore as the core asks for one: the snapshot's image, its id, the default entrypoint, manual cleanup. */
    private static SandboxId restore(String image, String snapshotId) {
        SandboxSpec spec = SandboxSpec.builder().snapshotId(snapshotId).entrypoint("tail", "-f", "/dev/null")
            .resourceLimits(Map.of()).metadata(DockerTestEngine.RUN_LABEL, engine.runId).build();
        ProvisionRequest request = new ProvisionRequest(SandboxId.random(), spec, ImageSpec.of(image), spec.entrypoint(),
            ResourceLimits.none(), Clock.systemUTC().instant().truncatedTo(ChronoUnit.MICROS), null);
        sandboxes.add(request.id());
        runtime.create(request);
        return request.id();
    }

    private static void write(SandboxId id, String path, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        runtime.writeFile(id, path, new ByteArrayInputStream(bytes), bytes.length, 0644);
    }

    private static String read(SandboxId id, String path) throws Exception {
        try (InputStream in = runtime.readFile(id, path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void aCommitNamesTheImageAfterTheSnapshotLabelsItAndCarriesNoInjectedConfig() {
        Sandbox sandbox = source(engine.spec("sleep", "3600").env("FOO", "stale").metadata("team", "a"));
        String snapshotId = UUID.randomUUID().toString();

        String image = commit(sandbox.id(), snapshotId);

        assertTrue(runtime.capabilities().snapshots());
        assertEquals("opensandbox-snapshots:" + snapshotId, image);
        assertTrue(runtime.snapshotImageExists(image));
        InspectImageResponse inspected = engine.raw.inspectImageCmd(image).exec();
        Map<String, String> labels = inspected.getConfig().getLabels();
        assertEquals(snapshotId, labels.get(Labels.SNAPSHOT_ID));
        assertEquals(sandbox.id().toString(), labels.get(DockerSnapshots.SOURCE_SANDBOX_LABEL));
        assertEquals("true", labels.get("opensandbox-test"), "the source image's own labels are kept");
        for (String stale : List.of(Labels.ID, Labels.EXPIRES_AT, "team", DockerTestEngine.RUN_LABEL,
            ContainerMapper.IMAGE_LABEL, ContainerMapper.ENTRYPOINT_LABEL, ContainerMapper.NETWORK_MODE_LABEL)) {
            assertEquals("", labels.get(stale), stale + " is blanked: " + labels);
        }
        List<String> env = Arrays.asList(inspected.getConfig().getEnv());
        assertTrue(env.contains("FOO") && !env.contains("FOO=stale"), "FOO is unset, not carried: " + env);
        assertTrue(env.contains("PATH=/bin:/usr/bin:/sbin:/usr/sbin"), "the image's PATH: " + env);
    }

    @Test
    void aRestoredSandboxHasTheFilesAtCommitTimeAndInheritsNoStaleLabelOrVariable() throws Exception {
        Sandbox sandbox = source(engine.spec("sleep", "3600").env("FOO", "stale").metadata("team", "a"));
        write(sandbox.id(), "/data/state.txt", "v1");
        String snapshotId = UUID.randomUUID().toString();
        String image = commit(sandbox.id(), snapshotId);
        write(sandbox.id(), "/data/state.txt", "v2");

        SandboxId restored = restore(image, snapshotId);

        assertEquals("v1", read(restored, "/data/state.txt"));
        assertEquals("v2", read(sandbox.id(), "/data/state.txt"));
        Sandbox read = runtime.inspect(restored).orElseThrow();
        assertNull(read.image());
        assertEquals(snapshotId, read.snapshotId());
        assertEquals(SandboxState.RUNNING, read.status().state());
        assertEquals(Map.of(DockerTestEngine.RUN_LABEL, engine.runId), read.metadata());
        assertNull(read.expiresAt(), "manual cleanup: the source's expiry is not inherited");
        assertEquals(List.of("tail", "-f", "/dev/null"), read.entrypoint());

        InspectContainerResponse container = engine.raw.inspectContainerCmd("sandbox-" + restored).exec();
        Map<String, String> labels = container.getConfig().getLabels();
        assertEquals(restored.toString(), labels.get(Labels.ID));
        assertEquals(snapshotId, labels.get(Labels.SNAPSHOT_ID));
        assertEquals("true", labels.get(Labels.MANUAL_CLEANUP));
        assertEquals("", labels.getOrDefault(Labels.EXPIRES_AT, ""), labels.toString());
        assertEquals("", labels.getOrDefault("team", ""), labels.toString());
        assertEquals(List.of("tail", "-f", "/dev/null"), Arrays.asList(container.getConfig().getEntrypoint()));
        assertFalse(Arrays.asList(container.getConfig().getEnv()).contains("FOO=stale"),
            Arrays.toString(container.getConfig().getEnv()));
        String processEnv = stdoutOf(restored, "env");
        assertFalse(processEnv.lines().anyMatch(line -> line.startsWith("FOO")), processEnv);
        assertTrue(processEnv.contains("PATH=/bin:/usr/bin:/sbin:/usr/sbin"), processEnv);
    }

    @Test
    void aPausedSandboxIsCommittedAndStaysPaused() {
        Sandbox sandbox = source(engine.spec("sleep", "3600"));
        runtime.pause(sandbox.id());

        String image = commit(sandbox.id(), UUID.randomUUID().toString());

        assertTrue(runtime.snapshotImageExists(image));
        assertEquals(SandboxState.PAUSED, runtime.inspect(sandbox.id()).orElseThrow().status().state());
    }

    @Test
    void anImageInUseIsAConflictUntilItsSandboxIsGoneAndDeletingTwiceSucceeds() {
        Sandbox sandbox = source(engine.spec("sleep", "3600"));
        String snapshotId = UUID.randomUUID().toString();
        String image = commit(sandbox.id(), snapshotId);
        SandboxId restored = restore(image, snapshotId);

        ConflictException e = assertThrows(ConflictException.class, () -> runtime.deleteSnapshotImage(image));
        assertEquals("SNAPSHOT::DELETE_CONFLICT", e.code());
        assertEquals("snapshot image cannot be deleted due to a conflict", e.getMessage());
        assertTrue(runtime.snapshotImageExists(image));

        runtime.remove(restored);
        runtime.deleteSnapshotImage(image);
        assertFalse(runtime.snapshotImageExists(image));
        runtime.deleteSnapshotImage(image);
    }

    @Test
    void committingAnUnknownSandboxIsNotFoundAndLeavesNoImage() {
        String snapshotId = UUID.randomUUID().toString();

        NotFoundException e = assertThrows(NotFoundException.class, () -> commit(SandboxId.random(), snapshotId));

        assertEquals("DOCKER::SANDBOX_NOT_FOUND", e.code());
        assertFalse(runtime.snapshotImageExists(DockerSnapshots.imageOf(snapshotId)));
    }

    @Test
    void anImageOutsideTheSnapshotRepositoryIsNeverRemoved() {
        String repository = "opensandbox-test/not-a-snapshot";
        engine.raw.tagImageCmd(DockerTestEngine.TEST_IMAGE, repository, engine.runId).exec();
        String image = repository + ":" + engine.runId;
        images.add(image);

        runtime.deleteSnapshotImage(image);

        assertEquals(engine.raw.inspectImageCmd(DockerTestEngine.TEST_IMAGE).exec().getId(),
            engine.raw.inspectImageCmd(image).exec().getId(), "the tag is still there");
    }

    @Test
    void aRestoreWhoseSnapshotImageIsGoneFailsWithoutAskingARegistry() {
        SandboxSpec spec = engine.spec("tail", "-f", "/dev/null").image("opensandbox-snapshots:" + UUID.randomUUID()).build();
        ProvisionRequest request = DockerTestEngine.request(spec);

        RuntimeFailureException e = assertThrows(RuntimeFailureException.class, () -> runtime.create(request));

        assertEquals("DOCKER::SANDBOX_IMAGE_PULL_FAILED", e.code());
        assertTrue(e.getMessage().endsWith("are never pulled."), e.getMessage());
        assertEquals(List.of(), engine.containersOf(request.id()));
    }

    private static String stdoutOf(SandboxId id, String... command) {
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ExecOutput output = new ExecOutput() {
            @Override
            public void stdout(byte[] data, int offset, int length) {
                stdout.write(data, offset, length);
            }

            @Override
            public void stderr(byte[] data, int offset, int length) {
                // only stdout matters here
            }
        };
        assertEquals(0, runtime.exec(id, ExecRequest.of(command), output).awaitExit(Duration.ofSeconds(10)));
        return stdout.toString(StandardCharsets.UTF_8);
    }
}
