package dev.opensandbox.server.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * The numbered schema changes of the store and the {@code schema_version} table that records
 * which ones a database has.
 *
 * <p>Migration 1 is upstream's schema verbatim, and every statement of it is idempotent
 * ({@code IF NOT EXISTS}): a database created by the Python server has the {@code snapshots}
 * table but no {@code schema_version}, and is adopted by running migration 1 over it, which
 * changes nothing but records version 1. Upstream, for its part, opens our databases because it
 * only ever runs {@code CREATE ... IF NOT EXISTS} and ignores tables it does not know.
 *
 * <p>Published migrations never change; a new schema change is a new number.
 */
final class Migrations {

    /** One schema change. */
    record Migration(int version, String description, List<String> statements) {
    }

    static final List<Migration> ALL = List.of(
        new Migration(1, "upstream snapshots table", List.of(
            """
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
            )""",
            "CREATE INDEX IF NOT EXISTS idx_snapshots_source_sandbox_id ON snapshots(source_sandbox_id)",
            "CREATE INDEX IF NOT EXISTS idx_snapshots_state ON snapshots(state)",
            "CREATE INDEX IF NOT EXISTS idx_snapshots_created_at ON snapshots(created_at DESC)")),
        // Upstream's created_at index leaves ties to a sort; these two serve the list order
        // (created_at DESC, id DESC) and the recovery scan (state, then oldest first) from the index alone.
        new Migration(2, "snapshot indexes matching the orderings", List.of(
            "CREATE INDEX IF NOT EXISTS idx_snapshots_created_at_id ON snapshots(created_at DESC, id DESC)",
            "CREATE INDEX IF NOT EXISTS idx_snapshots_state_created_at_id ON snapshots(state, created_at, id)")),
        new Migration(3, "sandboxes table", List.of(
            """
            CREATE TABLE IF NOT EXISTS sandboxes (
                id TEXT PRIMARY KEY,
                phase TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NULL,
                metadata TEXT NOT NULL,
                renew_extend_seconds INTEGER NULL,
                access_token TEXT NULL,
                failure_message TEXT NULL,
                version INTEGER NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS idx_sandboxes_expires_at ON sandboxes(expires_at)")),
        // One row: the deployment id that labels what this store's server creates (Deployment).
        new Migration(4, "deployment table", List.of(
            """
            CREATE TABLE IF NOT EXISTS deployment (
                singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                id TEXT NOT NULL
            )""")));

    /** The columns the store reads and writes in {@code snapshots}; an adopted table must have them all. */
    private static final List<String> SNAPSHOT_COLUMNS = List.of("id", "source_sandbox_id", "name", "description",
        "restore_config", "state", "reason", "message", "last_transition_at", "created_at", "updated_at");

    private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

    private Migrations() {
    }

    static int latestVersion() {
        return ALL.get(ALL.size() - 1).version();
    }

    /**
     * Brings the database up to {@link #latestVersion()} in one transaction.
     *
     * @return the versions applied now, oldest first; empty when the database was up to date
     *
     * @throws IllegalStateException when the database is newer than this code, or has a
     *                               {@code snapshots} table of another shape
     */
    static List<Integer> apply(Connection connection, Dialect dialect, String label) throws SQLException {
        connection.setAutoCommit(false);
        try {
            List<Integer> appliedNow = applyInTransaction(connection, dialect, label);
            connection.commit();
            return appliedNow;
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(connection, e);
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    private static List<Integer> applyInTransaction(Connection connection, Dialect dialect, String label)
        throws SQLException {
        boolean hadVersionTable = tableExists(connection, "schema_version");
        try (Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                + "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
        }
        NavigableSet<Integer> applied = appliedVersions(connection);
        int newest = applied.isEmpty() ? 0 : applied.last();
        if (newest > latestVersion()) {
            throw new IllegalStateException("Database " + label + " has schema version " + newest
                + ", newer than the " + latestVersion() + " this server knows; refusing to open it");
        }
        if (!hadVersionTable && tableExists(connection, "snapshots")) {
            checkSnapshotColumns(connection, label);
            LOG.info("Adopting snapshots table created by the upstream server in {}", label);
        }
        List<Integer> appliedNow = new ArrayList<>();
        for (Migration migration : ALL) {
            if (applied.contains(migration.version())) {
                continue;
            }
            try (Statement statement = connection.createStatement()) {
                for (String sql : migration.statements()) {
                    statement.execute(sql);
                }
            }
            try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, " + dialect.currentTimestampSql() + ")")) {
                insert.setInt(1, migration.version());
                insert.executeUpdate();
            }
            appliedNow.add(migration.version());
            LOG.debug("Applied store migration {} ({}) to {}", migration.version(), migration.description(), label);
        }
        return appliedNow;
    }

    private static NavigableSet<Integer> appliedVersions(Connection connection) throws SQLException {
        NavigableSet<Integer> versions = new TreeSet<>();
        try (Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT version FROM schema_version")) {
            while (rows.next()) {
                versions.add(rows.getInt(1));
            }
        }
        return versions;
    }

    private static void checkSnapshotColumns(Connection connection, String label) throws SQLException {
        Set<String> present = new TreeSet<>();
        try (ResultSet columns = connection.getMetaData().getColumns(null, null, "snapshots", null)) {
            while (columns.next()) {
                present.add(columns.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
            }
        }
        List<String> missing = SNAPSHOT_COLUMNS.stream().filter(column -> !present.contains(column)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalStateException("Database " + label + " has a snapshots table without the columns "
                + missing + "; it was not created by OpenSandbox");
        }
    }

    static boolean tableExists(Connection connection, String table) throws SQLException {
        DatabaseMetaData metaData = connection.getMetaData();
        try (ResultSet tables = metaData.getTables(null, null, table, new String[] {"TABLE"})) {
            while (tables.next()) {
                if (table.equalsIgnoreCase(tables.getString("TABLE_NAME"))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void rollbackQuietly(Connection connection, Exception cause) {
        try {
            connection.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }
}
