package dev.opensandbox.core.memory;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import static dev.opensandbox.core.memory.Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InMemorySnapshotTest {

    private final MutableClock clock = new MutableClock();
    private final InMemorySandboxRuntime runtime = new InMemorySandboxRuntime(clock);
    private final SandboxId source = SandboxId.random();

    @BeforeEach
    void createSource() {
        runtime.create(request(source, clock.instant(), "sleep", "3600"));
        runtime.writeFile(source, "/app/state.txt", new ByteArrayInputStream("v1".getBytes(StandardCharsets.UTF_8)), 2, 0644);
    }

    private SandboxId restore(String image, String snapshotId) {
        SandboxId restored = SandboxId.random();
        SandboxSpec spec = SandboxSpec.builder().snapshotId(snapshotId).entrypoint("tail", "-f", "/dev/null").build();
        runtime.create(request(restored, spec, image, clock.instant()));
        return restored;
    }

    @Test
    void commitNamesTheImageAfterTheSnapshotAndTheImageExists() {
        String image = runtime.commitSnapshot(source, "snap-1");

        assertEquals("in-memory-snapshots:snap-1", image);
        assertTrue(runtime.snapshotImageExists(image));
        assertFalse(runtime.snapshotImageExists("in-memory-snapshots:other"));
    }

    @Test
    void restoredSandboxStartsWithACopyOfTheFilesystemAtCommitTime() {
        String image = runtime.commitSnapshot(source, "snap-1");
        Fixtures.sh(runtime, source, "echo v2 > /app/state.txt");

        SandboxId restored = restore(image, "snap-1");
        Fixtures.sh(runtime, restored, "echo v3 > /app/state.txt");

        assertEquals("v1", Fixtures.sh(runtime, restore(image, "snap-1"), "cat /app/state.txt").stdout());
        assertEquals("v2\n", Fixtures.sh(runtime, source, "cat /app/state.txt").stdout());
        assertEquals("v3\n", Fixtures.sh(runtime, restored, "cat /app/state.txt").stdout());
    }

    @Test
    void restoredSandboxReportsItsSnapshotAndNoImage() {
        String image = runtime.commitSnapshot(source, "snap-1");

        Sandbox restored = runtime.inspect(restore(image, "snap-1")).orElseThrow();

        assertNull(restored.image());
        assertEquals("snap-1", restored.snapshotId());
        assertEquals(SandboxState.RUNNING, restored.status().state());
    }

    @Test
    void aPausedOrExitedSandboxCanStillBeCommitted() {
        runtime.pause(source);

        assertEquals("in-memory-snapshots:paused", runtime.commitSnapshot(source, "paused"));
    }

    @Test
    void deletingAnImageInUseIsAConflictUntilItsSandboxIsRemoved() {
        String image = runtime.commitSnapshot(source, "snap-1");
        SandboxId restored = restore(image, "snap-1");

        ConflictException e = assertThrows(ConflictException.class, () -> runtime.deleteSnapshotImage(image));
        assertEquals(ErrorCodes.SNAPSHOT_DELETE_CONFLICT, e.code());
        assertEquals("snapshot image cannot be deleted due to a conflict", e.getMessage());
        assertTrue(runtime.snapshotImageExists(image));

        runtime.remove(restored);
        runtime.deleteSnapshotImage(image);
        assertFalse(runtime.snapshotImageExists(image));
    }

    @Test
    void deletingAMissingImageSucceeds() {
        runtime.deleteSnapshotImage("in-memory-snapshots:never");
        runtime.deleteSnapshotImage("python:3.11");

        assertFalse(runtime.snapshotImageExists("in-memory-snapshots:never"));
    }

    @Test
    void creatingFromAMissingSnapshotImageFailsAndLeavesNothing() {
        SandboxId restored = SandboxId.random();
        SandboxSpec spec = SandboxSpec.builder().snapshotId("gone").entrypoint("tail", "-f", "/dev/null").build();

        RuntimeFailureException e = assertThrows(RuntimeFailureException.class,
            () -> runtime.create(request(restored, spec, "in-memory-snapshots:gone", clock.instant())));

        assertEquals("DOCKER::SANDBOX_IMAGE_PULL_FAILED", e.code());
        assertTrue(runtime.inspect(restored).isEmpty());
    }
}
