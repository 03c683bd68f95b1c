package dev.opensandbox.core.service;

import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.core.store.SnapshotRecord;
import dev.opensandbox.core.store.SnapshotState;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a restart makes of snapshots the previous run left unfinished. */
class SnapshotRecoveryTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    private final InMemorySandboxRuntime runtime = new InMemorySandboxRuntime(clock);
    private final InMemorySandboxStore store = new InMemorySandboxStore();
    private final SandboxService sandboxes = new SandboxService(runtime, store, clock, ServicePolicy.defaults());
    private final SnapshotService snapshots = new SnapshotService(sandboxes, store, clock, Runnable::run);

    private SnapshotRecord creating(String id, String source) {
        SnapshotRecord record = new SnapshotRecord(id, source, null, null, null, SnapshotState.Creating, "snapshot_accepted",
            null, clock.instant(), clock.instant(), clock.instant());
        assertTrue(store.insertSnapshot(record));
        return record;
    }

    @Test
    void aSnapshotWhoseImageWasMadeBeforeTheCrashBecomesReadyAndOneWithoutFails() {
        Sandbox source = sandboxes.create(SandboxSpec.builder().image(ImageSpec.of("busybox")).entrypoint("sleep", "1")
            .resourceLimits(Map.of()).timeout(Duration.ofHours(1)).build());
        String committed = "11111111-1111-1111-1111-111111111111";
        String lost = "22222222-2222-2222-2222-222222222222";
        runtime.commitSnapshot(source.id(), committed); // the commit finished, the record update did not
        creating(committed, source.id().toString());
        creating(lost, source.id().toString());
        clock.advance(Duration.ofMinutes(5));

        snapshots.recover();

        SnapshotRecord ready = store.findSnapshot(committed).orElseThrow();
        assertEquals(SnapshotState.Ready, ready.state());
        assertEquals("snapshot_recovery_ready", ready.reason());
        assertEquals(runtime.snapshotImageFor(committed).orElseThrow(), ready.restoreImage());
        assertEquals(clock.instant(), ready.lastTransitionAt());
        SnapshotRecord failed = store.findSnapshot(lost).orElseThrow();
        assertEquals(SnapshotState.Failed, failed.state());
        assertEquals("snapshot_recovery_missing_image", failed.reason());
    }
}
