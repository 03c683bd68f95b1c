package dev.opensandbox.it;

import dev.opensandbox.core.Page;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.store.SandboxRecord;
import dev.opensandbox.core.store.SandboxStore;
import dev.opensandbox.core.store.SnapshotQuery;
import dev.opensandbox.core.store.SnapshotRecord;
import dev.opensandbox.core.store.SnapshotState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract of {@link SandboxStore} as JUnit 5 tests, shared by the in-memory store, the JDBC
 * stores and any third party's. Subclass it and supply a fresh, empty store per test:
 *
 * <pre>{@code
 * class SqliteStoreContractTest extends SandboxStoreContractKit {
 *
 *     @TempDir Path dir;
 *
 *     @Override
 *     protected SandboxStore createStore() {
 *         return JdbcSandboxStore.open("jdbc:sqlite:" + dir.resolve("store.db"));
 *     }
 *
 *     @Override   // optional: proves that records survive a restart
 *     protected SandboxStore reopen(SandboxStore store) {
 *         store.close();
 *         return JdbcSandboxStore.open("jdbc:sqlite:" + dir.resolve("store.db"));
 *     }
 * }
 * }</pre>
 *
 * <p>The kit closes the store after each test. Every instant it stores has microsecond
 * precision, the finest a SQL {@code TIMESTAMP} keeps.
 */
public abstract class SandboxStoreContractKit {

    /** A fixed instant with microseconds, so that a store that truncates them fails. */
    private static final Instant T0 = Instant.parse("2025-03-04T05:06:07.123456Z");

    private SandboxStore store;

    /** A new, empty store. Called once before each test. */
    protected abstract SandboxStore createStore();

    /**
     * Closes {@code store} and opens the same data again, as a server restart would. The default
     * skips the durability test: in-memory stores keep nothing across a restart by design.
     */
    protected SandboxStore reopen(SandboxStore store) {
        Assumptions.assumeTrue(false, "this store does not keep records across a reopen");
        return store;
    }

    @BeforeEach
    final void openStore() {
        store = createStore();
    }

    @AfterEach
    final void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    // ---------------------------------------------------------------- sandbox records

    @Test
    @DisplayName("insert then find returns an equal record")
    void insertThenFindReturnsEqualRecord() {
        SandboxRecord record = sandbox(T0);

        assertTrue(store.insert(record), "insert of a new id");

        assertEquals(Optional.of(record), store.find(record.id()));
    }

    @Test
    @DisplayName("insert of an existing id returns false and changes nothing")
    void insertOfExistingIdReturnsFalseAndChangesNothing() {
        SandboxRecord original = sandbox(T0);
        store.insert(original);
        SandboxRecord other = original.withMetadata(Map.of("other", "value")).withPhase(SandboxRecord.Phase.READY);

        assertFalse(store.insert(other));

        assertEquals(Optional.of(original), store.find(original.id()));
    }

    @Test
    @DisplayName("replace with the stored version succeeds and increments the version")
    void replaceWithStoredVersionSucceedsAndIncrementsVersion() {
        SandboxRecord original = sandbox(T0);
        store.insert(original);
        SandboxRecord renewed = original.withExpiresAt(T0.plus(Duration.ofHours(2))).withPhase(SandboxRecord.Phase.READY);

        Optional<SandboxRecord> stored = store.replace(original.version(), renewed);

        SandboxRecord expected = renewed.withVersion(original.version() + 1);
        assertEquals(Optional.of(expected), stored, "returned record");
        assertEquals(Optional.of(expected), store.find(original.id()), "found record");
    }

    @Test
    @DisplayName("replace with a stale version returns empty and changes nothing")
    void replaceWithStaleVersionReturnsEmptyAndChangesNothing() {
        // A renew and an expiry both read version 0; the first to write wins, the other must not overwrite it.
        SandboxRecord original = sandbox(T0);
        store.insert(original);
        SandboxRecord renewed = store.replace(original.version(), original.withExpiresAt(T0.plus(Duration.ofHours(2))))
            .orElseThrow(() -> new AssertionError("first replace failed"));

        Optional<SandboxRecord> stale = store.replace(original.version(), original.failed("expired"));

        assertEquals(Optional.empty(), stale, "replace with the stale version");
        assertEquals(Optional.of(renewed), store.find(original.id()), "record after the stale replace");
    }

    @Test
    @DisplayName("replace of a missing record returns empty")
    void replaceOfMissingRecordReturnsEmpty() {
        SandboxRecord missing = sandbox(T0);

        assertEquals(Optional.empty(), store.replace(missing.version(), missing), "replace");
        assertEquals(Optional.empty(), store.find(missing.id()), "replace must not insert");
    }

    @Test
    @DisplayName("delete returns true once, then false")
    void deleteReturnsTrueOnceThenFalse() {
        SandboxRecord record = sandbox(T0);
        store.insert(record);

        assertTrue(store.delete(record.id()), "first delete");
        assertFalse(store.delete(record.id()), "second delete");
        assertEquals(Optional.empty(), store.find(record.id()), "find after delete");
    }

    @Test
    @DisplayName("findAll returns every record")
    void findAllReturnsEveryRecord() {
        SandboxRecord first = sandbox(T0);
        SandboxRecord second = sandbox(T0.plusSeconds(1)).withPhase(SandboxRecord.Phase.READY);
        SandboxRecord third = sandbox(T0.plusSeconds(2)).failed("image pull failed");
        List.of(first, second, third).forEach(store::insert);

        assertEquals(Set.of(first, second, third), Set.copyOf(store.findAll()));
    }

    @Test
    @DisplayName("metadata with awkward characters and a null expiresAt (manual cleanup) round-trip")
    void awkwardMetadataAndManualCleanupRoundTrip() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("example.com/team", "a.b_c-1");
        metadata.put("empty", "");
        metadata.put("quotes", "it's \"quoted\"");
        metadata.put("json-ish", "{\"a\": [1, 2]}, '; DROP TABLE sandboxes; --");
        metadata.put("unicode ✓", "沙箱 é\nnew line");
        SandboxRecord record = SandboxRecord.creating(SandboxId.random(), T0, null, metadata, null, null);

        store.insert(record);

        SandboxRecord found = store.find(record.id()).orElseThrow(() -> new AssertionError("record not found"));
        assertAll(
            () -> assertEquals(metadata, found.metadata(), "metadata"),
            () -> assertEquals(null, found.expiresAt(), "expiresAt"),
            () -> assertTrue(found.manualCleanup(), "manual cleanup"),
            () -> assertEquals(record, found, "whole record"));
    }

    @Test
    @DisplayName("a deployment id, where the store keeps one, is a label value and the same on every call")
    void deploymentIdIsStable() {
        Optional<String> first = store.deploymentId();
        first.ifPresent(id -> assertDoesNotThrow(() -> dev.opensandbox.core.spi.Deployment.of(id),
            "the id must be a valid deployment id: " + id));
        assertEquals(first, store.deploymentId());
    }

    @Test
    @DisplayName("a deployment id, where the store keeps one, survives reopening the store")
    void deploymentIdSurvivesReopen() {
        Optional<String> before = store.deploymentId();
        Assumptions.assumeTrue(before.isPresent(), "this store keeps no deployment id");
        SandboxStore reopened = reopen(store);
        store = reopened;
        assertEquals(before, reopened.deploymentId());
    }

    @Test
    @DisplayName("a failed record keeps every field")
    void failedRecordKeepsEveryField() {
        SandboxRecord record = new SandboxRecord(SandboxId.random(), SandboxRecord.Phase.FAILED, T0,
            T0.plus(Duration.ofMinutes(10)), Map.of("k", "v"), 600, "token-Ab3_-", "image \"x\" not found: 沙箱", 7);

        store.insert(record);

        assertEquals(Optional.of(record), store.find(record.id()));
    }

    @Test
    @DisplayName("instants keep microsecond precision")
    void instantsKeepMicrosecondPrecision() {
        Instant created = Instant.parse("2025-12-31T23:59:59.999999Z");
        Instant expires = Instant.parse("2026-01-01T00:00:00.000001Z");
        SandboxRecord record = SandboxRecord.creating(SandboxId.random(), created, expires, Map.of(), null, null);
        SnapshotRecord snapshot = snapshot("snap-micro", "source", SnapshotState.Creating, created);

        store.insert(record);
        store.insertSnapshot(snapshot);

        SandboxRecord found = store.find(record.id()).orElseThrow(() -> new AssertionError("record not found"));
        SnapshotRecord foundSnapshot = store.findSnapshot(snapshot.id())
            .orElseThrow(() -> new AssertionError("snapshot not found"));
        assertAll(
            () -> assertEquals(created, found.createdAt(), "createdAt"),
            () -> assertEquals(expires, found.expiresAt(), "expiresAt"),
            () -> assertEquals(created, foundSnapshot.createdAt(), "snapshot createdAt"),
            () -> assertEquals(created, foundSnapshot.updatedAt(), "snapshot updatedAt"));
    }

    // ---------------------------------------------------------------- snapshot records

    @Test
    @DisplayName("insert snapshot then find returns an equal record; a second insert of the id returns false")
    void insertSnapshotThenFindReturnsEqualRecord() {
        SnapshotRecord snapshot = new SnapshotRecord("3f1c9a7e-0000-4000-8000-000000000001", "source-1", "nightly",
            "before the \"big\" change ✓", "opensandbox-snapshots:3f1c9a7e", SnapshotState.Ready, "SNAPSHOT_READY",
            "Snapshot is ready.", T0.plusSeconds(5), T0, T0.plusSeconds(5));

        assertTrue(store.insertSnapshot(snapshot), "first insert");
        assertFalse(store.insertSnapshot(snapshot.transition(SnapshotState.Failed, "X", "x", T0)), "second insert");

        assertEquals(Optional.of(snapshot), store.findSnapshot(snapshot.id()), "found snapshot");
        assertEquals(Optional.empty(), store.findSnapshot("missing"), "unknown snapshot");
    }

    @Test
    @DisplayName("snapshots list newest createdAt first, ties broken by id descending")
    void snapshotsListNewestFirstWithTiesByIdDescending() {
        store.insertSnapshot(snapshot("b", "s", SnapshotState.Ready, T0));
        store.insertSnapshot(snapshot("a", "s", SnapshotState.Ready, T0.plusSeconds(10)));
        store.insertSnapshot(snapshot("c", "s", SnapshotState.Ready, T0));
        store.insertSnapshot(snapshot("d", "s", SnapshotState.Ready, T0.minusSeconds(10)));
        store.insertSnapshot(snapshot("e", "s", SnapshotState.Ready, T0.plusNanos(1_000)));

        assertEquals(List.of("a", "e", "c", "b", "d"), ids(store.listSnapshots(SnapshotQuery.all())));
    }

    @Test
    @DisplayName("snapshots filter by source sandbox")
    void snapshotsFilterBySourceSandbox() {
        store.insertSnapshot(snapshot("1", "source-a", SnapshotState.Ready, T0));
        store.insertSnapshot(snapshot("2", "source-b", SnapshotState.Ready, T0.plusSeconds(1)));
        store.insertSnapshot(snapshot("3", "source-a", SnapshotState.Failed, T0.plusSeconds(2)));

        Page<SnapshotRecord> page = store.listSnapshots(new SnapshotQuery("source-a", Set.of(), 1, 10));

        assertEquals(List.of("3", "1"), ids(page));
        assertEquals(2, page.totalItems(), "totalItems counts matches only");
    }

    @Test
    @DisplayName("snapshots filter by any of several states")
    void snapshotsFilterByStates() {
        store.insertSnapshot(snapshot("1", "s", SnapshotState.Creating, T0));
        store.insertSnapshot(snapshot("2", "s", SnapshotState.Ready, T0.plusSeconds(1)));
        store.insertSnapshot(snapshot("3", "s", SnapshotState.Failed, T0.plusSeconds(2)));
        store.insertSnapshot(snapshot("4", "s", SnapshotState.Deleting, T0.plusSeconds(3)));

        Page<SnapshotRecord> page = store.listSnapshots(
            new SnapshotQuery(null, Set.of(SnapshotState.Ready, SnapshotState.Failed), 1, 10));
        Page<SnapshotRecord> combined = store.listSnapshots(
            new SnapshotQuery("other", Set.of(SnapshotState.Ready), 1, 10));

        assertEquals(List.of("3", "2"), ids(page), "Ready or Failed");
        assertEquals(List.of(), ids(combined), "both filters apply together");
    }

    @Test
    @DisplayName("snapshot pages follow exact arithmetic: 5 items in pages of 2 are 3 pages, the last with 1 item")
    void snapshotPaginationArithmetic() {
        for (int i = 1; i <= 5; i++) {
            store.insertSnapshot(snapshot("snap-" + i, "s", SnapshotState.Ready, T0.plusSeconds(i)));
        }

        Page<SnapshotRecord> first = store.listSnapshots(new SnapshotQuery(null, Set.of(), 1, 2));
        Page<SnapshotRecord> second = store.listSnapshots(new SnapshotQuery(null, Set.of(), 2, 2));
        Page<SnapshotRecord> third = store.listSnapshots(new SnapshotQuery(null, Set.of(), 3, 2));
        Page<SnapshotRecord> fourth = store.listSnapshots(new SnapshotQuery(null, Set.of(), 4, 2));

        assertAll(
            () -> assertEquals(List.of("snap-5", "snap-4"), ids(first), "page 1"),
            () -> assertEquals(List.of("snap-3", "snap-2"), ids(second), "page 2"),
            () -> assertEquals(List.of("snap-1"), ids(third), "page 3"),
            () -> assertEquals(List.of(), ids(fourth), "page 4"),
            () -> assertEquals(5, first.totalItems(), "totalItems"),
            () -> assertEquals(5, fourth.totalItems(), "totalItems past the end"),
            () -> assertEquals(3, first.totalPages(), "totalPages"),
            () -> assertTrue(first.hasNextPage(), "page 1 has a next page"),
            () -> assertFalse(third.hasNextPage(), "page 3 has no next page"),
            () -> assertFalse(fourth.hasNextPage(), "page 4 has no next page"),
            () -> assertEquals(4, fourth.page(), "page number echoed"),
            () -> assertEquals(2, fourth.pageSize(), "page size echoed"));
    }

    @Test
    @DisplayName("replaceSnapshotIfState succeeds only from the expected state")
    void replaceSnapshotIfStateSucceedsOnlyFromExpectedState() {
        SnapshotRecord creating = snapshot("snap", "s", SnapshotState.Creating, T0);
        store.insertSnapshot(creating);
        SnapshotRecord ready = creating.withRestoreImage("image:snap")
            .transition(SnapshotState.Ready, "SNAPSHOT_READY", "ready", T0.plusSeconds(30));
        SnapshotRecord failed = creating.transition(SnapshotState.Failed, "TIMEOUT", "late", T0.plusSeconds(60));

        assertFalse(store.replaceSnapshotIfState(SnapshotState.Ready, failed), "from a state it is not in");
        assertEquals(Optional.of(creating), store.findSnapshot("snap"), "unchanged after the refused replace");
        assertTrue(store.replaceSnapshotIfState(SnapshotState.Creating, ready), "from its state");
        assertEquals(Optional.of(ready), store.findSnapshot("snap"), "after the replace");
        assertFalse(store.replaceSnapshotIfState(SnapshotState.Creating, failed), "from the state it just left");
        assertEquals(Optional.of(ready), store.findSnapshot("snap"), "unchanged after the second replace");
        assertFalse(store.replaceSnapshotIfState(SnapshotState.Creating,
            snapshot("missing", "s", SnapshotState.Ready, T0)), "of a missing snapshot");
        assertEquals(Optional.empty(), store.findSnapshot("missing"), "replace must not insert");
    }

    @Test
    @DisplayName("findSnapshotsInStates returns the matching snapshots oldest first")
    void findSnapshotsInStatesReturnsOldestFirst() {
        store.insertSnapshot(snapshot("new", "s", SnapshotState.Creating, T0.plusSeconds(20)));
        store.insertSnapshot(snapshot("old", "s", SnapshotState.Deleting, T0));
        store.insertSnapshot(snapshot("ready", "s", SnapshotState.Ready, T0.minusSeconds(5)));
        store.insertSnapshot(snapshot("mid", "s", SnapshotState.Creating, T0.plusSeconds(10)));

        List<SnapshotRecord> found = store.findSnapshotsInStates(Set.of(SnapshotState.Creating, SnapshotState.Deleting));

        assertEquals(List.of("old", "mid", "new"), found.stream().map(SnapshotRecord::id).collect(Collectors.toList()));
    }

    @Test
    @DisplayName("deleteSnapshot returns true once, then false")
    void deleteSnapshotReturnsTrueOnceThenFalse() {
        store.insertSnapshot(snapshot("snap", "s", SnapshotState.Ready, T0));

        assertTrue(store.deleteSnapshot("snap"), "first delete");
        assertFalse(store.deleteSnapshot("snap"), "second delete");
        assertEquals(Optional.empty(), store.findSnapshot("snap"), "find after delete");
    }

    // ---------------------------------------------------------------- durability

    @Test
    @DisplayName("records survive reopening the store")
    void recordsSurviveReopeningTheStore() {
        SandboxRecord record = sandbox(T0).withMetadata(Map.of("example.com/team", "a.b_c-1"));
        SnapshotRecord snapshot = snapshot("snap", record.id().toString(), SnapshotState.Ready, T0);
        store.insert(record);
        SandboxRecord renewed = store.replace(0, record.withExpiresAt(T0.plus(Duration.ofDays(1))))
            .orElseThrow(() -> new AssertionError("replace failed"));
        store.insertSnapshot(snapshot);

        SandboxStore reopened = reopen(store);
        store = reopened;

        assertEquals(Optional.of(renewed), store.find(record.id()), "sandbox record");
        assertEquals(Optional.of(snapshot), store.findSnapshot("snap"), "snapshot record");
    }

    // ---------------------------------------------------------------- fixtures

    private static SandboxRecord sandbox(Instant createdAt) {
        return SandboxRecord.creating(SandboxId.random(), createdAt, createdAt.plus(Duration.ofHours(1)),
            Map.of("team", "kit"), null, null);
    }

    private static SnapshotRecord snapshot(String id, String source, SnapshotState state, Instant createdAt) {
        return new SnapshotRecord(id, source, null, null, null, state, null, null, createdAt, createdAt, createdAt);
    }

    private static List<String> ids(Page<SnapshotRecord> page) {
        return page.items().stream().map(SnapshotRecord::id).collect(Collectors.toList());
    }
}
