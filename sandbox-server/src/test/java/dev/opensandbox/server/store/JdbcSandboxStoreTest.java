package dev.opensandbox.server.store;

import dev.opensandbox.core.Page;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.store.SandboxRecord;
import dev.opensandbox.core.store.SnapshotQuery;
import dev.opensandbox.core.store.SnapshotRecord;
import dev.opensandbox.core.store.SnapshotState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JdbcSandboxStoreTest {

    private static final Instant T0 = Instant.parse("2026-06-12T15:35:36Z");

    @TempDir
    Path dir;

    private final List<JdbcSandboxStore> opened = new ArrayList<>();

    @AfterEach
    void closeStores() {
        opened.forEach(JdbcSandboxStore::close);
    }

    private Path dbFile() {
        return dir.resolve("nested/dirs/opensandbox.db");
    }

    private JdbcSandboxStore open() {
        JdbcSandboxStore store = JdbcSandboxStore.openSqlite(dbFile());
        opened.add(store);
        return store;
    }

    /** A second, plain connection to the same file, to look at and tamper with what the store wrote. */
    private Connection raw() throws SQLException {
        try {
            Files.createDirectories(dbFile().getParent());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return DriverManager.getConnection("jdbc:sqlite:" + dbFile());
    }

    private void exec(String... sql) throws SQLException {
        try (Connection c = raw(); Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        }
    }

    private List<List<String>> query(String sql) throws SQLException {
        List<List<String>> result = new ArrayList<>();
        try (Connection c = raw(); Statement s = c.createStatement(); ResultSet rows = s.executeQuery(sql)) {
            int columns = rows.getMetaData().getColumnCount();
            while (rows.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= columns; i++) {
                    row.add(rows.getString(i));
                }
                result.add(row);
            }
        }
        return result;
    }

    private static SandboxRecord sandbox(Map<String, String> metadata) {
        return SandboxRecord.creating(SandboxId.random(), T0.plusNanos(123_456_000), T0.plus(Duration.ofHours(1)),
            metadata, 600, "token-1");
    }

    private static SnapshotRecord snapshot(String id, String source, SnapshotState state, Instant createdAt) {
        return new SnapshotRecord(id, source, "name-" + id, "description", "opensandbox-snapshots:" + id, state,
            "snapshot_accepted", "Snapshot creation accepted.", createdAt, createdAt, createdAt);
    }

    private static List<String> ids(Page<SnapshotRecord> page) {
        return page.items().stream().map(SnapshotRecord::id).toList();
    }

    @Nested
    class Opening {

        @Test
        void openingCreatesParentDirectoriesAndTheDatabase() {
            open();
            assertTrue(Files.isRegularFile(dbFile()));
        }

        @Test
        void sqliteSessionGetsWalBusyTimeoutAndForeignKeys() throws SQLException {
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("pragmas.db"));
                 Statement s = c.createStatement()) {
                SqliteDialect.INSTANCE.configure(c);
                assertEquals("wal", single(s, "PRAGMA journal_mode"));
                assertEquals("5000", single(s, "PRAGMA busy_timeout"));
                assertEquals("1", single(s, "PRAGMA foreign_keys"));
            }
        }

        private String single(Statement s, String sql) throws SQLException {
            try (ResultSet rows = s.executeQuery(sql)) {
                assertTrue(rows.next());
                return rows.getString(1);
            }
        }

        @Test
        void theDatabaseFileIsLeftInWalMode() throws SQLException {
            open();
            assertEquals(List.of(List.of("wal")), query("PRAGMA journal_mode"));
        }

        @Test
        void everyMigrationIsRecordedOnceAcrossReopens() throws SQLException {
            open().close();
            List<List<String>> first = query("SELECT version, applied_at FROM schema_version ORDER BY version");
            open().close();
            open();
            List<List<String>> later = query("SELECT version, applied_at FROM schema_version ORDER BY version");

            assertEquals(List.of("1", "2", "3", "4"), later.stream().map(row -> row.get(0)).toList());
            assertEquals(first, later, "reopening re-applies nothing");
            later.forEach(row -> assertTrue(row.get(1).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\+00:00"),
                row.get(1)));
        }

        @Test
        void reopeningAppliesOnlyTheMissingMigrations() throws SQLException {
            exec(Migrations.ALL.get(0).statements().toArray(String[]::new));
            exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
                "INSERT INTO schema_version VALUES (1, 'then')");

            open();

            assertEquals("then", query("SELECT applied_at FROM schema_version WHERE version = 1").get(0).get(0));
            assertEquals(List.of(List.of("1"), List.of("2"), List.of("3"), List.of("4")),
                query("SELECT version FROM schema_version ORDER BY version"));
            assertEquals(1, query("SELECT name FROM sqlite_master WHERE name = 'sandboxes'").size());
        }

        @Test
        void aDatabaseOfANewerSchemaIsRefused() throws SQLException {
            exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
                "INSERT INTO schema_version VALUES (99, 'future')");

            UnavailableException e = assertThrows(UnavailableException.class, JdbcSandboxStoreTest.this::open);
            assertEquals(JdbcSandboxStore.UNAVAILABLE, e.code());
            assertTrue(e.getMessage().contains("99"), e.getMessage());
        }

        @Test
        void aSnapshotsTableOfAnotherShapeIsRefusedAndLeftAlone() throws SQLException {
            exec("CREATE TABLE snapshots (id TEXT PRIMARY KEY, payload BLOB)");

            UnavailableException e = assertThrows(UnavailableException.class, JdbcSandboxStoreTest.this::open);
            assertTrue(e.getMessage().contains("source_sandbox_id"), e.getMessage());
            assertTrue(query("SELECT name FROM sqlite_master WHERE name IN ('schema_version', 'sandboxes')").isEmpty(),
                "the failed migration was rolled back");
        }

        @Test
        void aFileThatIsNotADatabaseIsUnavailable() throws Exception {
            Files.createDirectories(dbFile().getParent());
            Files.writeString(dbFile(), "this is not an SQLite database, just some text that is long enough to matter");

            UnavailableException e = assertThrows(UnavailableException.class, JdbcSandboxStoreTest.this::open);
            assertEquals(JdbcSandboxStore.UNAVAILABLE, e.code());
        }
    }

    @Nested
    class UpstreamDatabase {

        private static final String UPSTREAM_SCHEMA = """
            CREATE TABLE IF NOT EXISTS snapshots (
                id TEXT PRIMARY KEY,
                source_sandbox_id TEXT NOT NULL,
                name TEXT,
                description TEXT,
                restore_config TEXT NOT NULL,
                state TEXT NOT NULL,
                reason TEXT,
                message TEXT,
                last_transition_at TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""";

        private void createUpstreamDatabase() throws SQLException {
            exec(UPSTREAM_SCHEMA,
                "CREATE INDEX IF NOT EXISTS idx_snapshots_source_sandbox_id ON snapshots(source_sandbox_id)",
                "CREATE INDEX IF NOT EXISTS idx_snapshots_state ON snapshots(state)",
                "CREATE INDEX IF NOT EXISTS idx_snapshots_created_at ON snapshots(created_at DESC)",
                "INSERT INTO snapshots VALUES ('a', 'sbx-1', 'first', NULL, '{\"image\": \"opensandbox-snapshots:abc\"}',"
                    + " 'Ready', 'snapshot_ready', 'Snapshot is ready.', '2026-06-12T15:35:36.123456+00:00',"
                    + " '2026-06-12T15:35:36+00:00', '2026-06-12T15:35:36.123456+00:00')",
                "INSERT INTO snapshots VALUES ('b', 'sbx-1', NULL, NULL, '{\"image\": null}', 'Creating',"
                    + " 'snapshot_accepted', NULL, NULL, '2026-06-12T15:35:36.123456+00:00',"
                    + " '2026-06-12T15:35:36.123456+00:00')");
        }

        @Test
        void anUpstreamDatabaseIsAdoptedAndItsRowsRead() throws SQLException {
            createUpstreamDatabase();

            JdbcSandboxStore store = open();

            SnapshotRecord a = store.findSnapshot("a").orElseThrow();
            assertEquals(new SnapshotRecord("a", "sbx-1", "first", null, "opensandbox-snapshots:abc", SnapshotState.Ready,
                "snapshot_ready", "Snapshot is ready.", Instant.parse("2026-06-12T15:35:36.123456Z"),
                Instant.parse("2026-06-12T15:35:36Z"), Instant.parse("2026-06-12T15:35:36.123456Z")), a);
            SnapshotRecord b = store.findSnapshot("b").orElseThrow();
            assertNull(b.restoreImage());
            assertNull(b.lastTransitionAt());
            assertEquals(List.of("b", "a"), ids(store.listSnapshots(SnapshotQuery.all())));
            assertEquals(List.of(List.of("1"), List.of("2"), List.of("3"), List.of("4")),
                query("SELECT version FROM schema_version ORDER BY version"));
        }

        @Test
        void rowsWrittenToAnAdoptedDatabaseKeepUpstreamEncodings() throws SQLException {
            createUpstreamDatabase();
            JdbcSandboxStore store = open();

            store.insertSnapshot(snapshot("c", "sbx-2", SnapshotState.Creating, T0.plusNanos(5_000)));

            assertEquals(List.of(List.of("{\"image\": \"opensandbox-snapshots:c\"}", "2026-06-12T15:35:36.000005+00:00")),
                query("SELECT restore_config, created_at FROM snapshots WHERE id = 'c'"));
        }

        @Test
        void aNewerUpstreamTableWithANamespaceColumnIsWritable() throws SQLException {
            // Later upstream versions add "namespace TEXT NOT NULL DEFAULT 'default'"; the default fills it for our inserts.
            exec(UPSTREAM_SCHEMA.replace("name TEXT,", "namespace TEXT NOT NULL DEFAULT 'default', name TEXT,"));
            JdbcSandboxStore store = open();

            assertTrue(store.insertSnapshot(snapshot("n", "sbx", SnapshotState.Creating, T0)));

            assertEquals("n", store.findSnapshot("n").orElseThrow().id());
            assertEquals(List.of(List.of("default")), query("SELECT namespace FROM snapshots"));
        }

        @Test
        void anUnreadableRestoreConfigCostsOnlyTheImage() throws SQLException {
            createUpstreamDatabase();
            exec("UPDATE snapshots SET restore_config = 'not json' WHERE id = 'a'",
                "UPDATE snapshots SET restore_config = '{\"image\": \"img\", \"platform\": {\"os\": \"linux\"}, \"n\": [1, 2.5]}'"
                    + " WHERE id = 'b'");
            JdbcSandboxStore store = open();

            assertNull(store.findSnapshot("a").orElseThrow().restoreImage());
            assertEquals("img", store.findSnapshot("b").orElseThrow().restoreImage());
        }
    }

    @Nested
    class Sandboxes {

        @Test
        void aRecordRoundTripsEveryField() {
            JdbcSandboxStore store = open();
            SandboxRecord record = new SandboxRecord(SandboxId.random(), SandboxRecord.Phase.FAILED,
                T0.plusNanos(1_000), T0.plusSeconds(3600).plusNanos(999_999_000), Map.of("team", "a", "env", "prod"),
                3600, "secret", "image pull failed", 7);

            assertTrue(store.insert(record));

            assertEquals(Optional.of(record), store.find(record.id()));
        }

        @Test
        void nullableFieldsStayNull() {
            JdbcSandboxStore store = open();
            SandboxRecord record = SandboxRecord.creating(SandboxId.random(), T0, null, Map.of(), null, null);

            store.insert(record);

            SandboxRecord found = store.find(record.id()).orElseThrow();
            assertEquals(record, found);
            assertTrue(found.manualCleanup());
            assertNull(found.renewExtendSeconds());
        }

        @Test
        void insertingAnExistingIdReturnsFalseAndChangesNothing() {
            JdbcSandboxStore store = open();
            SandboxRecord record = sandbox(Map.of("k", "v"));
            store.insert(record);

            assertFalse(store.insert(record.withMetadata(Map.of("k", "other")).withVersion(5)));

            assertEquals(Optional.of(record), store.find(record.id()));
        }

        @Test
        void aMissingSandboxIsEmpty() {
            assertEquals(Optional.empty(), open().find(SandboxId.random()));
        }

        @Test
        void replaceStoresTheNextVersionAndReturnsTheStoredRecord() {
            JdbcSandboxStore store = open();
            SandboxRecord record = sandbox(Map.of()).withVersion(3);
            store.insert(record);

            Optional<SandboxRecord> stored = store.replace(3, record.withPhase(SandboxRecord.Phase.READY).withVersion(42));

            SandboxRecord expected = record.withPhase(SandboxRecord.Phase.READY).withVersion(4);
            assertEquals(Optional.of(expected), stored);
            assertEquals(Optional.of(expected), store.find(record.id()));
        }

        @Test
        void replaceWithAStaleVersionChangesNothing() {
            JdbcSandboxStore store = open();
            SandboxRecord record = sandbox(Map.of());
            store.insert(record);
            store.replace(0, record.withPhase(SandboxRecord.Phase.READY));

            assertEquals(Optional.empty(), store.replace(0, record.failed("late")));

            SandboxRecord found = store.find(record.id()).orElseThrow();
            assertEquals(SandboxRecord.Phase.READY, found.phase());
            assertEquals(1, found.version());
        }

        @Test
        void replaceOfAMissingRecordIsEmpty() {
            assertEquals(Optional.empty(), open().replace(0, sandbox(Map.of())));
        }

        @Test
        void instantsAreKeptAtMicrosecondPrecision() {
            JdbcSandboxStore store = open();
            SandboxRecord record = SandboxRecord.creating(SandboxId.random(), T0.plusNanos(123_456_789),
                T0.plusNanos(1_999), Map.of(), null, null);
            store.insert(record);

            SandboxRecord found = store.find(record.id()).orElseThrow();
            assertEquals(T0.plusNanos(123_456_000), found.createdAt());
            assertEquals(T0.plusNanos(1_000), found.expiresAt());

            Optional<SandboxRecord> replaced = store.replace(0, found.withExpiresAt(T0.plusNanos(7_777)));
            assertEquals(T0.plusNanos(7_000), replaced.orElseThrow().expiresAt());
            assertEquals(replaced, store.find(record.id()));
        }

        @Test
        void deleteReportsWhetherARecordWasDeleted() {
            JdbcSandboxStore store = open();
            SandboxRecord record = sandbox(Map.of());
            store.insert(record);

            assertTrue(store.delete(record.id()));
            assertFalse(store.delete(record.id()));
            assertEquals(Optional.empty(), store.find(record.id()));
        }

        @Test
        void findAllReturnsEveryRecord() {
            JdbcSandboxStore store = open();
            SandboxRecord a = sandbox(Map.of("n", "a"));
            SandboxRecord b = sandbox(Map.of("n", "b"));
            store.insert(a);
            store.insert(b);

            assertEquals(Set.of(a, b), Set.copyOf(store.findAll()));
        }

        @Test
        void awkwardMetadataRoundTrips() {
            JdbcSandboxStore store = open();
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("quote", "say \"hi\"");
            metadata.put("backslash", "C:\\path\\n");
            metadata.put("newline", "line1\nline2\r\n\ttab");
            metadata.put("control", "\u0000\u0001\u001f\u007f");
            metadata.put("emoji", "\uD83D\uDE80 rocket \u00e9\u4e2d\u6587");
            metadata.put("separators", "\u2028\u2029 </script> {\"a\": [1]}");
            metadata.put("lone surrogate", "\uD800x");
            metadata.put("empty", "");
            metadata.put("", "empty key");
            metadata.put("k\"e\\y\n", "v");
            SandboxRecord record = sandbox(metadata);

            store.insert(record);

            assertEquals(metadata, store.find(record.id()).orElseThrow().metadata());
        }

        @Test
        void metadataIsStoredAsAJsonObject() throws SQLException {
            JdbcSandboxStore store = open();
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("a", "1");
            metadata.put("b", "x\"y");
            SandboxRecord record = sandbox(metadata);
            store.insert(record);

            assertEquals(List.of(List.of("{\"a\": \"1\", \"b\": \"x\\\"y\"}")),
                query("SELECT metadata FROM sandboxes"));
        }

        @Test
        void aCorruptRowIsUnavailableNotAWrongRecord() throws SQLException {
            JdbcSandboxStore store = open();
            SandboxRecord record = sandbox(Map.of());
            store.insert(record);
            exec("UPDATE sandboxes SET metadata = '{\"k\": 1}'");

            UnavailableException e = assertThrows(UnavailableException.class, () -> store.find(record.id()));
            assertEquals(JdbcSandboxStore.UNAVAILABLE, e.code());
            assertTrue(e.getMessage().contains(record.id().toString()), e.getMessage());
        }
    }

    @Nested
    class Snapshots {

        @Test
        void aSnapshotRoundTripsEveryField() {
            JdbcSandboxStore store = open();
            SnapshotRecord record = new SnapshotRecord("id-1", "sbx", "name \"q\"", "desc\nline", "img:1",
                SnapshotState.Failed, "snapshot_runtime_failed", "boom \uD83D\uDCA5", T0.plusNanos(10_000),
                T0.minusSeconds(5), T0.plusNanos(10_000));

            assertTrue(store.insertSnapshot(record));

            assertEquals(Optional.of(record), store.findSnapshot("id-1"));
        }

        @Test
        void insertingAnExistingSnapshotIdReturnsFalseAndChangesNothing() {
            JdbcSandboxStore store = open();
            SnapshotRecord record = snapshot("s", "sbx", SnapshotState.Creating, T0);
            store.insertSnapshot(record);

            assertFalse(store.insertSnapshot(snapshot("s", "other", SnapshotState.Ready, T0.plusSeconds(1))));

            assertEquals(Optional.of(record), store.findSnapshot("s"));
        }

        @Test
        void columnsAreWrittenInUpstreamFormat() throws SQLException {
            JdbcSandboxStore store = open();
            store.insertSnapshot(new SnapshotRecord("s", "sbx", null, null, null, SnapshotState.Creating, null, null,
                null, T0, T0.plusNanos(123_456_789)));

            assertEquals(List.of(Arrays.asList("{\"image\": null}", "Creating", null, "2026-06-12T15:35:36+00:00",
                    "2026-06-12T15:35:36.123456+00:00")),
                query("SELECT restore_config, state, last_transition_at, created_at, updated_at FROM snapshots"));
        }

        @Test
        void listingOrdersNewestFirstAcrossZeroAndNonZeroFractions() {
            JdbcSandboxStore store = open();
            // Inserted in scrambled order; "whole" has no fraction digits in its text, the others have six.
            store.insertSnapshot(snapshot("whole-plus-1us", "s", SnapshotState.Ready, T0.plusNanos(1_000)));
            store.insertSnapshot(snapshot("whole-minus-1us", "s", SnapshotState.Ready, T0.minusNanos(1_000)));
            store.insertSnapshot(snapshot("next-whole", "s", SnapshotState.Ready, T0.plusSeconds(1)));
            store.insertSnapshot(snapshot("whole", "s", SnapshotState.Ready, T0));
            store.insertSnapshot(snapshot("half", "s", SnapshotState.Ready, T0.plusMillis(500)));

            assertEquals(List.of("next-whole", "half", "whole-plus-1us", "whole", "whole-minus-1us"),
                ids(store.listSnapshots(SnapshotQuery.all())));
            assertEquals(List.of("whole-minus-1us", "whole", "whole-plus-1us", "half", "next-whole"),
                store.findSnapshotsInStates(Set.of(SnapshotState.Ready)).stream().map(SnapshotRecord::id).toList());
        }

        @Test
        void equalCreationTimesAreOrderedByIdDescending() {
            JdbcSandboxStore store = open();
            for (String id : List.of("b", "d", "a", "c")) {
                store.insertSnapshot(snapshot(id, "s", SnapshotState.Ready, T0));
            }

            assertEquals(List.of("d", "c", "b", "a"), ids(store.listSnapshots(SnapshotQuery.all())));
        }

        @Test
        void listingFiltersBySourceAndStates() {
            JdbcSandboxStore store = open();
            store.insertSnapshot(snapshot("1", "x", SnapshotState.Ready, T0.plusSeconds(1)));
            store.insertSnapshot(snapshot("2", "x", SnapshotState.Failed, T0.plusSeconds(2)));
            store.insertSnapshot(snapshot("3", "y", SnapshotState.Ready, T0.plusSeconds(3)));
            store.insertSnapshot(snapshot("4", "x", SnapshotState.Creating, T0.plusSeconds(4)));

            assertEquals(List.of("4", "2", "1"), ids(store.listSnapshots(new SnapshotQuery("x", Set.of(), 1, 10))));
            assertEquals(List.of("3", "1"),
                ids(store.listSnapshots(new SnapshotQuery(null, Set.of(SnapshotState.Ready), 1, 10))));
            Page<SnapshotRecord> both = store.listSnapshots(
                new SnapshotQuery("x", Set.of(SnapshotState.Ready, SnapshotState.Failed), 1, 10));
            assertEquals(List.of("2", "1"), ids(both));
            assertEquals(2, both.totalItems());
            assertEquals(0, store.listSnapshots(new SnapshotQuery("z", Set.of(), 1, 10)).totalItems());
        }

        @Test
        void pagesCutTheOrderedListAndCountEverything() {
            JdbcSandboxStore store = open();
            for (int i = 0; i < 5; i++) {
                store.insertSnapshot(snapshot("s" + i, "x", SnapshotState.Ready, T0.plusSeconds(i)));
            }

            Page<SnapshotRecord> first = store.listSnapshots(new SnapshotQuery(null, Set.of(), 1, 2));
            Page<SnapshotRecord> last = store.listSnapshots(new SnapshotQuery(null, Set.of(), 3, 2));

            assertEquals(List.of("s4", "s3"), ids(first));
            assertEquals(5, first.totalItems());
            assertTrue(first.hasNextPage());
            assertEquals(List.of("s0"), ids(last));
            assertFalse(last.hasNextPage());
        }

        @Test
        void aPagePastTheEndIsEmptyButCountsEverythingEvenForHugePageNumbers() {
            JdbcSandboxStore store = open();
            store.insertSnapshot(snapshot("s", "x", SnapshotState.Ready, T0));

            for (long page : new long[] {2, Long.MAX_VALUE / 200 + 7, Long.MAX_VALUE}) {
                Page<SnapshotRecord> result = store.listSnapshots(new SnapshotQuery(null, Set.of(), page, 200));
                assertEquals(List.of(), result.items());
                assertEquals(1, result.totalItems());
                assertEquals(page, result.page());
            }
            assertEquals(0, open().listSnapshots(new SnapshotQuery("none", Set.of(), Long.MAX_VALUE, 1)).totalItems());
        }

        @Test
        void theListOrderIsServedByAnIndexWithoutSorting() throws SQLException {
            open();

            String plan = query("EXPLAIN QUERY PLAN SELECT id FROM snapshots ORDER BY created_at DESC, id DESC LIMIT 5")
                .toString();

            assertTrue(plan.contains("idx_snapshots_created_at_id"), plan);
            assertFalse(plan.contains("TEMP B-TREE"), plan);
        }

        @Test
        void findSnapshotsInStatesIsOldestFirstAndEmptyForNoStates() {
            JdbcSandboxStore store = open();
            store.insertSnapshot(snapshot("new", "x", SnapshotState.Deleting, T0.plusSeconds(9)));
            store.insertSnapshot(snapshot("ready", "x", SnapshotState.Ready, T0.plusSeconds(5)));
            store.insertSnapshot(snapshot("old", "x", SnapshotState.Creating, T0));

            assertEquals(List.of("old", "new"), store.findSnapshotsInStates(
                List.of(SnapshotState.Creating, SnapshotState.Deleting, SnapshotState.Creating)).stream()
                .map(SnapshotRecord::id).toList());
            assertEquals(List.of(), store.findSnapshotsInStates(Set.of()));
        }

        @Test
        void replaceIfStateIsACompareAndSetOnTheState() {
            JdbcSandboxStore store = open();
            SnapshotRecord record = snapshot("s", "x", SnapshotState.Creating, T0);
            store.insertSnapshot(record);
            SnapshotRecord ready = record.transition(SnapshotState.Ready, "snapshot_ready", "ok", T0.plusSeconds(3))
                .withRestoreImage("img:ready");

            assertFalse(store.replaceSnapshotIfState(SnapshotState.Deleting, ready));
            assertEquals(Optional.of(record), store.findSnapshot("s"));

            assertTrue(store.replaceSnapshotIfState(SnapshotState.Creating, ready));
            assertEquals(Optional.of(ready), store.findSnapshot("s"));

            assertFalse(store.replaceSnapshotIfState(SnapshotState.Creating, record));
            assertFalse(store.replaceSnapshotIfState(SnapshotState.Creating,
                snapshot("missing", "x", SnapshotState.Ready, T0)));
        }

        @Test
        void deleteSnapshotReportsWhetherARecordWasDeleted() {
            JdbcSandboxStore store = open();
            store.insertSnapshot(snapshot("s", "x", SnapshotState.Ready, T0));

            assertTrue(store.deleteSnapshot("s"));
            assertFalse(store.deleteSnapshot("s"));
            assertEquals(Optional.empty(), store.findSnapshot("s"));
        }
    }

    @Nested
    class Durability {

        @Test
        void recordsSurviveCloseAndReopen() {
            JdbcSandboxStore store = open();
            SandboxRecord sandbox = sandbox(Map.of("k", "v"));
            SnapshotRecord snapshot = snapshot("s", sandbox.id().toString(), SnapshotState.Ready, T0);
            store.insert(sandbox);
            Optional<SandboxRecord> replaced = store.replace(0, sandbox.withPhase(SandboxRecord.Phase.READY));
            store.insertSnapshot(snapshot);
            store.close();

            JdbcSandboxStore reopened = open();

            assertEquals(replaced, reopened.find(sandbox.id()));
            assertEquals(Optional.of(snapshot), reopened.findSnapshot("s"));
        }

        @Test
        void aClosedStoreIsUnavailableAndClosingTwiceIsHarmless() {
            JdbcSandboxStore store = open();
            store.close();
            store.close();

            UnavailableException e = assertThrows(UnavailableException.class, () -> store.find(SandboxId.random()));
            assertEquals(JdbcSandboxStore.UNAVAILABLE, e.code());
        }

        @Test
        void sqlErrorsSurfaceAsUnavailable() throws SQLException {
            JdbcSandboxStore store = open();
            exec("DROP TABLE sandboxes");

            UnavailableException e = assertThrows(UnavailableException.class, store::findAll);
            assertEquals(JdbcSandboxStore.UNAVAILABLE, e.code());
            assertTrue(e.getCause() instanceof SQLException, String.valueOf(e.getCause()));
        }
    }

    @Nested
    class Concurrency {

        private static final int THREADS = 8;

        @Test
        void concurrentReplacesHaveExactlyOneWinnerPerVersion() throws Exception {
            JdbcSandboxStore store = open();
            SandboxRecord record = sandbox(Map.of());
            store.insert(record);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                for (long version = 0; version < 20; version++) {
                    long expected = version;
                    CountDownLatch start = new CountDownLatch(1);
                    List<Future<Optional<SandboxRecord>>> attempts = new ArrayList<>();
                    for (int t = 0; t < THREADS; t++) {
                        String writer = "writer-" + t;
                        attempts.add(pool.submit(() -> {
                            start.await();
                            return store.replace(expected, record.withMetadata(Map.of("writer", writer)));
                        }));
                    }
                    start.countDown();
                    List<SandboxRecord> winners = new ArrayList<>();
                    for (Future<Optional<SandboxRecord>> attempt : attempts) {
                        attempt.get(30, TimeUnit.SECONDS).ifPresent(winners::add);
                    }
                    assertEquals(1, winners.size(), "winners for version " + expected);
                    assertEquals(expected + 1, winners.get(0).version());
                    assertEquals(Optional.of(winners.get(0)), store.find(record.id()));
                }
            } finally {
                pool.shutdownNow();
            }
        }

        @Test
        void twoStoresOnOneFileLoseNoUpdates() throws Exception {
            // Two stores on one file stand for two server replicas sharing a database.
            List<JdbcSandboxStore> replicas = List.of(open(), open());
            SandboxRecord record = sandbox(Map.of("count", "0"));
            replicas.get(0).insert(record);
            int perThread = 25;
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Integer>> workers = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    JdbcSandboxStore replica = replicas.get(t % 2);
                    Callable<Integer> increments = () -> {
                        start.await();
                        int conflicts = 0;
                        for (int done = 0; done < perThread; ) {
                            SandboxRecord current = replica.find(record.id()).orElseThrow();
                            int count = Integer.parseInt(current.metadata().get("count"));
                            if (replica.replace(current.version(),
                                current.withMetadata(Map.of("count", Integer.toString(count + 1)))).isPresent()) {
                                done++;
                            } else {
                                conflicts++;
                            }
                        }
                        return conflicts;
                    };
                    workers.add(pool.submit(increments));
                }
                start.countDown();
                for (Future<Integer> worker : workers) {
                    worker.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }

            SandboxRecord end = replicas.get(1).find(record.id()).orElseThrow();
            assertEquals(Integer.toString(4 * perThread), end.metadata().get("count"));
            assertEquals(4L * perThread, end.version());
        }
    }
}
