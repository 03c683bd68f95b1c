package dev.opensandbox.core.service;

import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.spi.SnapshotCommitException;
import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.core.store.SnapshotRecord;
import dev.opensandbox.core.store.SnapshotState;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Snapshots on runtimes that keep a platform object per snapshot (Kubernetes' SandboxSnapshot):
 * the core deletes through {@link SandboxRuntime#deleteSnapshot} with or without an image, and
 * records the reason a runtime gives for a failed commit.
 */
class SnapshotPlatformObjectsTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    private final List<String> deleted = new CopyOnWriteArrayList<>();
    private final List<String> deletedImages = new CopyOnWriteArrayList<>();
    private volatile RuntimeException commitFailure;

    private final InMemorySandboxRuntime memory = new InMemorySandboxRuntime(clock);
    /** The in-memory runtime, with commit failures on demand and deletes recorded. */
    private final SandboxRuntime runtime = new ForwardingSandboxRuntime(memory) {
        @Override
        public String commitSnapshot(SandboxId id, String snapshotId) {
            if (commitFailure != null) {
                throw commitFailure;
            }
            return super.commitSnapshot(id, snapshotId);
        }

        @Override
        public void deleteSnapshotImage(String image) {
            deletedImages.add(image);
            super.deleteSnapshotImage(image);
        }
    };
    private final InMemorySandboxStore store = new InMemorySandboxStore();
    private final SandboxService sandboxes = new SandboxService(runtime, store, clock, ServicePolicy.defaults());

    private Sandbox source() {
        return sandboxes.create(SandboxSpec.builder().image(ImageSpec.of("busybox")).entrypoint("sleep", "1")
            .resourceLimits(Map.of()).timeout(Duration.ofHours(1)).build());
    }

    @Test
    void theDefaultDeleteSnapshotDeletesTheImageAndNothingWithoutOne() {
        Sandbox source = source();
        String image = memory.commitSnapshot(source.id(), "s-1");
        String kept = memory.commitSnapshot(source.id(), "s-2");

        memory.deleteSnapshot("s-1", image);
        memory.deleteSnapshot("s-2", null);

        assertFalse(memory.snapshotImageExists(image));
        assertTrue(memory.snapshotImageExists(kept));
    }

    @Test
    void aRuntimeReasonIsRecordedAsIsAndTheFailedSnapshotsPlatformObjectIsDeletedWithIt() {
        Sandbox source = source();
        SandboxRuntime recording = new ForwardingSandboxRuntime(runtime) {
            @Override
            public void deleteSnapshot(String snapshotId, String image) {
                deleted.add(snapshotId + "=" + image);
                super.deleteSnapshot(snapshotId, image);
            }
        };
        SandboxService service = new SandboxService(recording, store, clock, ServicePolicy.defaults());
        SnapshotService snapshots = new SnapshotService(service, store, clock, Runnable::run);
        commitFailure = new SnapshotCommitException("KUBERNETES::SNAPSHOT_FAILED", "RegistryNotConfigured",
            "snapshot registry is not configured");

        SnapshotRecord accepted = snapshots.create(source.id(), null);

        SnapshotRecord failed = snapshots.get(accepted.id());
        assertEquals(SnapshotState.Failed, failed.state());
        assertEquals("RegistryNotConfigured", failed.reason());
        assertEquals("snapshot registry is not configured", failed.message());

        snapshots.delete(accepted.id());

        assertEquals(List.of(accepted.id() + "=null"), deleted);
        assertTrue(store.findSnapshot(accepted.id()).isEmpty());
        assertTrue(deletedImages.isEmpty(), "no image to delete");
    }
}
