package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.SandboxId;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a snapshot image carries, and which references count as snapshots. No engine is involved. */
class DockerSnapshotsTest {

    private static final SandboxId SOURCE = SandboxId.parse("0b4a5f8e-3c1d-4e2f-9a6b-7c8d9e0f1a2b");

    @Test
    void injectedVariablesAreUnsetAndTheImagesOwnKeepTheImagesValue() {
        List<String> image = List.of("PATH=/bin:/usr/bin", "LANG=C.UTF-8");
        List<String> container = List.of("FOO=bar", "LANG=de_DE.UTF-8", "PATH=/bin:/usr/bin",
            "OPENSANDBOX_EGRESS_MITMPROXY_TRANSPARENT=true", "EMPTY=");

        assertEquals(List.of("PATH=/bin:/usr/bin", "LANG=C.UTF-8", "FOO", "OPENSANDBOX_EGRESS_MITMPROXY_TRANSPARENT", "EMPTY"),
            DockerSnapshots.env(container, image));
    }

    @Test
    void anInjectedPathBecomesDockersDefaultBecauseABarePathWouldRemoveIt() {
        assertEquals(List.of(DockerSnapshots.DEFAULT_PATH), DockerSnapshots.env(List.of("PATH=/custom"), List.of()));
    }

    @Test
    void anUnsetMarkerTheSourceImageCarriedStaysUnset() {
        // The source was itself restored from a snapshot: its image already says "FOO" (unset).
        assertEquals(List.of("PATH=/bin", "FOO", "BAR"),
            DockerSnapshots.env(List.of("FOO", "PATH=/bin", "BAR=1"), List.of("PATH=/bin", "FOO")));
    }

    @Test
    void labelsOfTheSandboxAreBlankedAndTheImagesKeepTheirValue() {
        Map<String, String> container = new LinkedHashMap<>();
        container.put(Labels.ID, SOURCE.toString());
        container.put(Labels.EXPIRES_AT, "2026-06-12T16:00:00+00:00");
        container.put(Labels.SNAPSHOT_ID, "older-snapshot");
        container.put(ContainerMapper.NETWORK_MODE_LABEL, "bridge");
        container.put("team", "a");
        container.put("maintainer", "overridden by metadata");

        Map<String, String> labels = DockerSnapshots.labels(container, Map.of("maintainer", "image"), SOURCE, "snap-1");

        assertEquals(Map.of(Labels.ID, "", Labels.EXPIRES_AT, "", ContainerMapper.NETWORK_MODE_LABEL, "", "team", "",
            "maintainer", "image", Labels.SNAPSHOT_ID, "snap-1", DockerSnapshots.SOURCE_SANDBOX_LABEL, SOURCE.toString()),
            labels);
    }

    @Test
    void blankedLabelsAreNeitherMetadataNorPlatformOfARestoredSandbox() {
        Map<String, String> image = DockerSnapshots.labels(Map.of("team", "a", Labels.PLATFORM_OS, "linux",
            Labels.PLATFORM_ARCH, "amd64"), Map.of(), SOURCE, "snap-1");
        Map<String, String> restored = new LinkedHashMap<>(image);
        restored.put("run", "r1");

        assertEquals(Map.of("run", "r1"), ContainerMapper.userMetadata(restored, image));
    }

    @Test
    void snapshotImagesAreTheRepositoryTaggedWithTheSnapshotId() {
        assertEquals("opensandbox-snapshots:3f1c9a7e-0000-4000-8000-000000000001",
            DockerSnapshots.imageOf("3f1c9a7e-0000-4000-8000-000000000001"));
        assertTrue(DockerSnapshots.isSnapshotImage("opensandbox-snapshots:3f1c9a7e"));
        assertFalse(DockerSnapshots.isSnapshotImage("python:3.11"));
        assertFalse(DockerSnapshots.isSnapshotImage("registry.example/opensandbox-snapshots:x"));
        assertFalse(DockerSnapshots.isSnapshotImage("opensandbox-snapshots:"));
        assertFalse(DockerSnapshots.isSnapshotImage(null));
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> DockerSnapshots.imageOf("a/b"));
        assertEquals("SANDBOX::INVALID_PARAMETER", e.code());
    }

    @Test
    void aMissingSnapshotImageIsNeverPulled() {
        RuntimeFailureException e = assertThrows(RuntimeFailureException.class,
            () -> DockerSnapshots.refusePull("opensandbox-snapshots:s1", new Platform("linux", "arm64")));

        assertEquals("DOCKER::SANDBOX_IMAGE_PULL_FAILED", e.code());
        assertEquals("Snapshot image opensandbox-snapshots:s1 is not on this Docker engine for linux/arm64; snapshot "
            + "images stay on the engine that took them and are never pulled.", e.getMessage());
        assertDoesNotThrow(() -> DockerSnapshots.refusePull("busybox:latest", null));
    }

    @Test
    void onlyTheClientsResponseTimeoutCountsAsATimeout() {
        assertTrue(DockerErrors.timedOut(new RuntimeException(new UncheckedIOException(new SocketTimeoutException("Read timed out")))));
        assertFalse(DockerErrors.timedOut(new RuntimeException("Status 500: commit failed")));
    }
}
