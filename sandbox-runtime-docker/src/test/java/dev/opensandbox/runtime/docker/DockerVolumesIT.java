package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.command.InspectVolumeResponse;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Volumes on the real engine: host paths behind the allowlist (symlinks resolved), named volumes
 * for the pvc backend (auto-created, managed, deleted with the sandbox or kept), subPath on the
 * local driver, and no volume left behind by a failed create.
 */
class DockerVolumesIT {

    private static DockerTestEngine engine;
    private static Path allowed;
    private static Path outside;
    private static DockerSandboxRuntime runtime;
    private final List<String> volumeNames = new ArrayList<>();

    @BeforeAll
    static void connect() throws IOException {
        engine = DockerTestEngine.connectOrSkip();
        allowed = Files.createTempDirectory("opensandbox-volumes-allowed");
        outside = Files.createTempDirectory("opensandbox-volumes-outside");
        runtime = runtime(Map.of("network_mode", "bridge", "port_bind_address", "127.0.0.1"));
    }

    private static DockerSandboxRuntime runtime(Map<String, Object> docker) {
        DockerRuntimeConfig config = DockerRuntimeConfig.from(docker, Map.of("host", "127.0.0.1"), Map.of(), Map.of(),
            Map.of("allowed_host_paths", List.of(allowed.toString())));
        return new DockerSandboxRuntime(config, engine.counted, Clock.systemUTC());
    }

    @AfterEach
    void removeVolumes() {
        for (String name : volumeNames) {
            try {
                engine.raw.removeVolumeCmd(name).exec();
            } catch (RuntimeException ignored) {
                // removed by the test already
            }
        }
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (engine != null) {
            engine.close();
        }
    }

    private String volumeName() {
        String name = "opensandbox-it-" + UUID.randomUUID().toString().substring(0, 8);
        volumeNames.add(name);
        return name;
    }

    private static ProvisionRequest withVolumes(VolumeSpec... volumes) {
        SandboxSpec spec = engine.spec("sleep", "3600").volumes(List.of(volumes)).build();
        return DockerTestEngine.request(spec);
    }

    private static String sh(SandboxId id, String script) {
        return execIn(runtime, id, script);
    }

    private InspectVolumeResponse volume(String name) {
        try {
            return engine.raw.inspectVolumeCmd(name).exec();
        } catch (com.github.dockerjava.api.exception.NotFoundException e) {
            return null;
        }
    }

    @Test
    void aHostPathUnderTheAllowlistIsMountedReadWriteOrReadOnly() throws IOException {
        Path data = Files.createDirectories(allowed.resolve("data"));
        ProvisionRequest request = withVolumes(
            new VolumeSpec("rw", "/mnt/rw", false, "nested/dir", new VolumeBackend.Host(data.toString())),
            new VolumeSpec("ro", "/mnt/ro", true, null, new VolumeBackend.Host(data.toString())));
        runtime.create(request);
        SandboxId id = request.id();
        try {
            assertEquals("0:", sh(id, "echo from-sandbox > /mnt/rw/file.txt"));
            assertEquals("from-sandbox\n", Files.readString(data.resolve("nested/dir/file.txt")),
                "the subPath directory was created on the host and the write landed there");
            assertNotEquals('0', sh(id, "echo nope > /mnt/ro/blocked.txt").charAt(0), "a read-only mount refuses writes");
            assertEquals("0:from-sandbox", sh(id, "cat /mnt/ro/nested/dir/file.txt"));
        } finally {
            runtime.remove(id);
        }
    }

    @Test
    void hostPathsOutsideTheAllowlistOrEscapingThroughASymlinkAreRefusedBeforeAnythingRuns() throws IOException {
        InvalidRequestException outsideList = assertThrows(InvalidRequestException.class, () -> runtime.create(
            withVolumes(new VolumeSpec("x", "/mnt/x", false, null, new VolumeBackend.Host(outside.toString())))));
        assertEquals(ErrorCodes.VOLUME_HOST_PATH_NOT_ALLOWED, outsideList.code());

        Path link = allowed.resolve("escape-" + UUID.randomUUID());
        Files.createSymbolicLink(link, outside);
        ProvisionRequest escaping = withVolumes(new VolumeSpec("x", "/mnt/x", false, null,
            new VolumeBackend.Host(link.toString())));
        InvalidRequestException symlink = assertThrows(InvalidRequestException.class, () -> runtime.create(escaping));
        assertEquals(ErrorCodes.VOLUME_HOST_PATH_NOT_ALLOWED, symlink.code());
        assertTrue(symlink.getMessage().contains("symlink"), symlink.getMessage());
        assertTrue(engine.containersOf(escaping.id()).isEmpty(), "no container was created");
    }

    @Test
    void aMissingNamedVolumeIsCreatedManagedAndDeletedWithTheSandboxWhenAsked() {
        String ephemeral = volumeName();
        String kept = volumeName();
        ProvisionRequest request = withVolumes(
            new VolumeSpec("ephemeral", "/mnt/e", false, null,
                new VolumeBackend.Pvc(ephemeral, true, true, null, null, null)),
            new VolumeSpec("kept", "/mnt/k", false, null, new VolumeBackend.Pvc(kept, true, false, null, null, null)));
        runtime.create(request);
        assertEquals("server", volume(ephemeral).getLabels().get(Labels.VOLUME_MANAGED_BY));
        assertEquals("server", volume(kept).getLabels().get(Labels.VOLUME_MANAGED_BY));
        assertEquals("0:", sh(request.id(), "echo data > /mnt/k/f && echo data > /mnt/e/f"));
        assertEquals("[\"" + ephemeral + "\"]",
            engine.containersOf(request.id()).get(0).getLabels().get(Labels.VOLUME_MANAGED_BY));

        runtime.remove(request.id());

        assertNull(volume(ephemeral), "deleteOnSandboxTermination: removed with the sandbox");
        assertTrue(volume(kept) != null, "kept without deleteOnSandboxTermination");
    }

    @Test
    void aVolumeThatGoesWithItsSandboxIsRemovedEvenWhenItsContainerIsAlreadyGone() {
        String ephemeral = volumeName();
        ProvisionRequest request = withVolumes(new VolumeSpec("ephemeral", "/mnt/e", false, null,
            new VolumeBackend.Pvc(ephemeral, true, true, null, null, null)));
        runtime.create(request);
        assertEquals(request.id().toString(), volume(ephemeral).getLabels().get(DockerVolumes.DELETE_WITH_SANDBOX));
        // What a delete cut short by a crash leaves: the container is gone, its volume list with it.
        engine.raw.removeContainerCmd(engine.containersOf(request.id()).get(0).getId()).withForce(true).exec();

        runtime.remove(request.id());

        assertNull(volume(ephemeral), "found from its label, not from the container's");
    }

    @Test
    void theOrphanReaperRemovesAVolumeWhoseSandboxVanishedOnceItIsOlderThanTheGrace() {
        String ephemeral = volumeName();
        ProvisionRequest request = withVolumes(new VolumeSpec("ephemeral", "/mnt/e", false, null,
            new VolumeBackend.Pvc(ephemeral, true, true, null, null, null)));
        runtime.create(request);
        engine.raw.removeContainerCmd(engine.containersOf(request.id()).get(0).getId()).withForce(true).exec();

        runtime.reapOrphans();
        assertTrue(volume(ephemeral) != null, "a young volume may belong to a create still under way");

        DockerSandboxRuntime later = new DockerSandboxRuntime(DockerRuntimeConfig.from(
            Map.of("network_mode", "bridge", "port_bind_address", "127.0.0.1"), Map.of("host", "127.0.0.1"),
            Map.of(), Map.of(), Map.of("allowed_host_paths", List.of(allowed.toString()))), engine.counted,
            Clock.offset(Clock.systemUTC(), runtime.orphanGrace().plusSeconds(60)));
        later.reapOrphans();
        assertNull(volume(ephemeral), "reaped once its sandbox had been gone longer than the grace");
    }

    @Test
    void aNamedVolumeSubPathIsBoundFromTheLocalDriversMountpoint() {
        String name = volumeName();
        ProvisionRequest first = withVolumes(new VolumeSpec("v", "/mnt/v", false, null,
            new VolumeBackend.Pvc(name, true, false, null, null, null)));
        runtime.create(first);
        assertEquals("0:", sh(first.id(), "mkdir -p /mnt/v/datasets/train && echo sample > /mnt/v/datasets/train/a"));
        runtime.remove(first.id());

        ProvisionRequest second = withVolumes(new VolumeSpec("v", "/data", true, "datasets",
            new VolumeBackend.Pvc(name, false, false, null, null, null)));
        runtime.create(second);
        try {
            assertEquals("0:sample", sh(second.id(), "cat /data/train/a"));
        } finally {
            runtime.remove(second.id());
        }
    }

    @Test
    void aNamedVolumeThatMayNotBeCreatedIsNotFound() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> runtime.create(withVolumes(
            new VolumeSpec("v", "/mnt/v", false, null, new VolumeBackend.Pvc(volumeName(), false, false, null, null, null)))));
        assertEquals("VOLUME::PVC_NOT_FOUND", e.code());
    }

    @Test
    void aCreateThatFailsAfterMakingAVolumeRemovesIt() {
        DockerSandboxRuntime unbindable = runtime(Map.of("network_mode", "bridge", "port_bind_address", "192.0.2.199"));
        String name = volumeName();
        ProvisionRequest request = withVolumes(new VolumeSpec("v", "/mnt/v", false, null,
            new VolumeBackend.Pvc(name, true, false, null, null, null)));

        assertThrows(RuntimeFailureException.class, () -> unbindable.create(request));

        assertNull(volume(name), "the volume made for the failed create is gone, although it was not delete-on-termination");
        assertTrue(engine.containersOf(request.id()).isEmpty());
    }

    @Test
    void ossfsVolumesAreRefusedWithAClearErrorWithoutTheTool() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> runtime.validate(
            engine.spec("sleep", "1").volumes(List.of(new VolumeSpec("oss", "/mnt/oss", false, null,
                new VolumeBackend.Ossfs("bucket", "oss-cn-hangzhou.aliyuncs.com", "2.0", List.of(), "ak", "sk"))))
                .build()));
        assertEquals(DockerVolumes.VOLUME_OSSFS_UNAVAILABLE, e.code());
        assertTrue(e.getMessage().contains("ossfs2"), e.getMessage());
    }

    @Test
    void anOssfsBucketIsMountedOnTheHostBoundIntoTheSandboxAndReleasedWithIt() throws IOException {
        // Stand-ins for ossfs2 and fusermount: "mounting" writes a marker into the mount directory.
        Path tools = Files.createDirectories(allowed.resolve("tools-" + UUID.randomUUID()));
        Path log = tools.resolve("calls.log");
        Files.writeString(tools.resolve("ossfs2"), "#!/bin/sh\necho \"ossfs2 $*\" >> " + log
            + "\nmkdir -p \"$2\" && echo from-the-bucket > \"$2/marker\"\n");
        Files.writeString(tools.resolve("fusermount"), "#!/bin/sh\necho \"fusermount $*\" >> " + log + "\n");
        for (String tool : List.of("ossfs2", "fusermount")) {
            Files.setPosixFilePermissions(tools.resolve(tool), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Path mountRoot = allowed.resolve("ossfs-" + UUID.randomUUID());
        DockerRuntimeConfig config = DockerRuntimeConfig.from(Map.of("network_mode", "bridge", "port_bind_address",
            "127.0.0.1"), Map.of("host", "127.0.0.1"), Map.of(), Map.of(), Map.of("ossfs_mount_root", mountRoot.toString()));
        DockerSandboxRuntime withTools = new DockerSandboxRuntime(config, engine.counted, Clock.systemUTC(), true, List.of(tools));
        VolumeBackend.Ossfs bucket = new VolumeBackend.Ossfs("data-bucket", "oss.example.com", "2.0", List.of(), "ak", "sk");
        ProvisionRequest first = withVolumes(new VolumeSpec("oss", "/mnt/oss", true, "train", bucket));
        ProvisionRequest second = withVolumes(new VolumeSpec("oss", "/data", true, "train", bucket));
        withTools.create(first);
        withTools.create(second);
        String mountPath = mountRoot.resolve("data-bucket/train").toString();
        try {
            assertEquals("[\"" + mountPath + "\"]",
                engine.containersOf(first.id()).get(0).getLabels().get(Labels.OSSFS_MOUNTS));
            assertEquals(1, Files.readAllLines(log).stream().filter(l -> l.startsWith("ossfs2 mount " + mountPath)).count(),
                "one mount shared by both sandboxes");
            assertEquals("0:from-the-bucket", execIn(withTools, second.id(), "cat /data/marker"));
        } finally {
            withTools.remove(first.id());
            assertFalse(Files.readString(log).contains("fusermount"), "the second sandbox still uses the mount");
            withTools.remove(second.id());
        }
        assertTrue(Files.readString(log).contains("fusermount -u " + mountPath), Files.readString(log));
    }

    private static String execIn(DockerSandboxRuntime on, SandboxId id, String script) {
        DockerTestEngine.ExecResult result = DockerTestEngine.exec(on, id, ExecRequest.of("sh", "-c", script));
        return result.exitCode() + ":" + result.output().strip();
    }
}
