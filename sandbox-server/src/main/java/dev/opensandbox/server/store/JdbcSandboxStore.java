package dev.opensandbox.server.store;

import dev.opensandbox.core.Page;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.store.SandboxRecord;
import dev.opensandbox.core.store.SandboxStore;
import dev.opensandbox.core.store.SnapshotQuery;
import dev.opensandbox.core.store.SnapshotRecord;
import dev.opensandbox.core.store.SnapshotState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link SandboxStore} in a relational database over JDBC; SQLite is the embedded default
 * ({@link #openSqlite(Path)}).
 *
 * <p>The {@code snapshots} table is upstream's, column for column, with the same text encodings
 * (ISO-8601 timestamps with a {@code +00:00} offset, {@code restore_config} as
 * {@code {"image": ...}}), so that a database written by the Python server opens here and the
 * other way round. {@code sandboxes} and {@code schema_version} are this server's own.
 *
 * <p>One long-lived connection serves every operation, guarded by a lock: SQLite admits one
 * writer at a time anyway, and reusing the connection avoids opening a file, re-reading the
 * schema and re-running pragmas per operation (upstream opens a connection per operation and never
 * closes it). Compare-and-set operations are single conditional {@code UPDATE}s, so they stay
 * atomic when several server processes share the file.
 *
 * <p>Instants are kept at microsecond precision. Every {@link SQLException} surfaces as an
 * {@link UnavailableException} with code {@value #UNAVAILABLE}, as does a row that cannot be
 * decoded.
 */
public final class JdbcSandboxStore implements SandboxStore {

    /** The error code of every failure of this store. */
    public static final String UNAVAILABLE = "STORE::UNAVAILABLE";

    private static final Logger LOG = LoggerFactory.getLogger(JdbcSandboxStore.class);

    private static final String SANDBOX_COLUMNS =
        "id, phase, created_at, expires_at, metadata, renew_extend_seconds, access_token, failure_message, version";
    private static final String SNAPSHOT_COLUMNS = "id, source_sandbox_id, name, description, restore_config, state, "
        + "reason, message, last_transition_at, created_at, updated_at";
    /** The SET list of a full snapshot replace; the parameters follow {@link #bindSnapshotFields}. */
    private static final String SNAPSHOT_SET = "source_sandbox_id = ?, name = ?, description = ?, restore_config = ?, "
        + "state = ?, reason = ?, message = ?, last_transition_at = ?, created_at = ?, updated_at = ?";

    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}. */
    private final Connection connection;
    /** Where the database is, for messages. */
    private final String label;
    /** Guarded by {@link #lock}. */
    private boolean closed;

    private JdbcSandboxStore(Connection connection, String label) {
        this.connection = connection;
        this.label = label;
    }

    /**
     * Opens (creating it if missing, with its parent directories) the SQLite database in
     * {@code file} and brings its schema up to date. A database created by the upstream Python
     * server is adopted as it is.
     *
     * @throws UnavailableException when the file cannot be created or opened, or its schema is
     *                              newer than this server or not OpenSandbox's
     */
    public static JdbcSandboxStore openSqlite(Path file) {
        Objects.requireNonNull(file, "file");
        Path absolute = file.toAbsolutePath().normalize();
        String label = absolute.toString();
        try {
            Path parent = absolute.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw new UnavailableException(UNAVAILABLE, "Cannot create the directory of the store " + label + ": " + e, e);
        }
        SqliteDialect dialect = SqliteDialect.INSTANCE;
        Connection connection;
        List<Integer> migrated;
        try {
            connection = DriverManager.getConnection("jdbc:sqlite:" + absolute, dialect.connectionProperties());
        } catch (SQLException e) {
            throw new UnavailableException(UNAVAILABLE, "Cannot open the store " + label + ": " + e.getMessage(), e);
        }
        try {
            dialect.configure(connection);
            migrated = Migrations.apply(connection, dialect, label);
        } catch (SQLException | RuntimeException e) {
            try {
                connection.close();
            } catch (SQLException closing) {
                e.addSuppressed(closing);
            }
            throw new UnavailableException(UNAVAILABLE, "Cannot prepare the store " + label + ": " + e.getMessage(), e);
        }
        LOG.info("Opened store {} at schema version {}{}", label, Migrations.latestVersion(),
            migrated.isEmpty() ? "" : " (applied migrations " + migrated + ")");
        return new JdbcSandboxStore(connection, label);
    }

    // ---------------------------------------------------------------- sandboxes

    @Override
    public boolean insert(SandboxRecord record) {
        Objects.requireNonNull(record, "record");
        return withConnection("insert sandbox", c -> {
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO sandboxes (" + SANDBOX_COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                insert.setString(1, record.id().toString());
                int next = bindSandboxFields(insert, 2, record);
                insert.setLong(next, record.version());
                return insert.executeUpdate() == 1;
            }
        });
    }

    @Override
    public Optional<SandboxRecord> find(SandboxId id) {
        Objects.requireNonNull(id, "id");
        return withConnection("find sandbox", c -> {
            try (PreparedStatement select = c.prepareStatement(
                "SELECT " + SANDBOX_COLUMNS + " FROM sandboxes WHERE id = ?")) {
                select.setString(1, id.toString());
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? Optional.of(readSandbox(rows)) : Optional.<SandboxRecord>empty();
                }
            }
        });
    }

    @Override
    public List<SandboxRecord> findAll() {
        return withConnection("list sandboxes", c -> {
            try (PreparedStatement select = c.prepareStatement(
                "SELECT " + SANDBOX_COLUMNS + " FROM sandboxes ORDER BY created_at, id");
                 ResultSet rows = select.executeQuery()) {
                List<SandboxRecord> records = new ArrayList<>();
                while (rows.next()) {
                    records.add(readSandbox(rows));
                }
                return List.copyOf(records);
            }
        });
    }

    @Override
    public Optional<SandboxRecord> replace(long expectedVersion, SandboxRecord replacement) {
        Objects.requireNonNull(replacement, "replacement");
        SandboxRecord stored = new SandboxRecord(replacement.id(), replacement.phase(),
            IsoTimestamps.truncate(replacement.createdAt()), IsoTimestamps.truncate(replacement.expiresAt()),
            replacement.metadata(), replacement.renewExtendSeconds(), replacement.accessToken(),
            replacement.failureMessage(), expectedVersion + 1);
        return withConnection("replace sandbox", c -> {
            try (PreparedStatement update = c.prepareStatement("UPDATE sandboxes SET phase = ?, created_at = ?, "
                + "expires_at = ?, metadata = ?, renew_extend_seconds = ?, access_token = ?, failure_message = ?, "
                + "version = ? WHERE id = ? AND version = ?")) {
                int next = bindSandboxFields(update, 1, stored);
                update.setLong(next, stored.version());
                update.setString(next + 1, stored.id().toString());
                update.setLong(next + 2, expectedVersion);
                return update.executeUpdate() == 1 ? Optional.of(stored) : Optional.<SandboxRecord>empty();
            }
        });
    }

    @Override
    public boolean delete(SandboxId id) {
        Objects.requireNonNull(id, "id");
        return withConnection("delete sandbox", c -> {
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM sandboxes WHERE id = ?")) {
                delete.setString(1, id.toString());
                return delete.executeUpdate() == 1;
            }
        });
    }

    // ---------------------------------------------------------------- deployment

    /**
     * Read, or on the first call created, in one transaction: of two replicas starting together over
     * one database, the second finds the first one's row.
     */
    @Override
    public Optional<String> deploymentId() {
        return Optional.of(inTransaction("read the deployment id", c -> {
            try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO deployment (singleton, id) VALUES (1, ?) ON CONFLICT DO NOTHING")) {
                insert.setString(1, newDeploymentId());
                insert.executeUpdate();
            }
            try (PreparedStatement select = c.prepareStatement("SELECT id FROM deployment WHERE singleton = 1");
                 ResultSet rows = select.executeQuery()) {
                rows.next();
                return rows.getString(1);
            }
        }));
    }

    private static String newDeploymentId() {
        byte[] bytes = new byte[6];
        new java.security.SecureRandom().nextBytes(bytes);
        StringBuilder id = new StringBuilder("d-");
        for (byte b : bytes) {
            id.append(String.format("%02x", b));
        }
        return id.toString();
    }

    // ---------------------------------------------------------------- snapshots

    @Override
    public boolean insertSnapshot(SnapshotRecord record) {
        Objects.requireNonNull(record, "record");
        return withConnection("insert snapshot", c -> {
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO snapshots (" + SNAPSHOT_COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                insert.setString(1, record.id());
                bindSnapshotFields(insert, 2, record);
                return insert.executeUpdate() == 1;
            }
        });
    }

    @Override
    public Optional<SnapshotRecord> findSnapshot(String id) {
        Objects.requireNonNull(id, "id");
        return withConnection("find snapshot", c -> {
            try (PreparedStatement select = c.prepareStatement(
                "SELECT " + SNAPSHOT_COLUMNS + " FROM snapshots WHERE id = ?")) {
                select.setString(1, id);
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? Optional.of(readSnapshot(rows)) : Optional.<SnapshotRecord>empty();
                }
            }
        });
    }

    @Override
    public Page<SnapshotRecord> listSnapshots(SnapshotQuery query) {
        Objects.requireNonNull(query, "query");
        List<Object> parameters = new ArrayList<>();
        StringJoiner where = new StringJoiner(" AND ", " WHERE ", "").setEmptyValue("");
        if (query.sourceSandboxId() != null) {
            where.add("source_sandbox_id = ?");
            parameters.add(query.sourceSandboxId());
        }
        if (!query.states().isEmpty()) {
            // Enum order, so that equal queries produce equal SQL text.
            EnumSet<SnapshotState> states = EnumSet.copyOf(query.states());
            where.add("state IN (" + placeholders(states.size()) + ")");
            states.forEach(state -> parameters.add(state.name()));
        }
        // The count and the page come from one transaction, so that they agree even while another process writes.
        return inTransaction("list snapshots", c -> {
            long total;
            try (PreparedStatement count = c.prepareStatement("SELECT COUNT(*) FROM snapshots" + where)) {
                bindAll(count, parameters);
                try (ResultSet rows = count.executeQuery()) {
                    rows.next();
                    total = rows.getLong(1);
                }
            }
            long pageSize = query.pageSize();
            // Compare before multiplying: (page - 1) * pageSize overflows for huge page numbers.
            if (query.page() - 1 >= (total + pageSize - 1) / pageSize) {
                return new Page<SnapshotRecord>(List.of(), query.page(), query.pageSize(), total);
            }
            List<SnapshotRecord> items = new ArrayList<>();
            try (PreparedStatement select = c.prepareStatement("SELECT " + SNAPSHOT_COLUMNS + " FROM snapshots"
                + where + " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?")) {
                int next = bindAll(select, parameters);
                select.setLong(next, pageSize);
                select.setLong(next + 1, (query.page() - 1) * pageSize);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        items.add(readSnapshot(rows));
                    }
                }
            }
            return new Page<>(items, query.page(), query.pageSize(), total);
        });
    }

    @Override
    public List<SnapshotRecord> findSnapshotsInStates(Collection<SnapshotState> states) {
        Objects.requireNonNull(states, "states");
        if (states.isEmpty()) {
            return List.of();
        }
        EnumSet<SnapshotState> distinct = EnumSet.copyOf(states);
        return withConnection("find snapshots by state", c -> {
            try (PreparedStatement select = c.prepareStatement("SELECT " + SNAPSHOT_COLUMNS + " FROM snapshots"
                + " WHERE state IN (" + placeholders(distinct.size()) + ") ORDER BY created_at, id")) {
                int index = 1;
                for (SnapshotState state : distinct) {
                    select.setString(index++, state.name());
                }
                List<SnapshotRecord> records = new ArrayList<>();
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        records.add(readSnapshot(rows));
                    }
                }
                return List.copyOf(records);
            }
        });
    }

    @Override
    public boolean replaceSnapshotIfState(SnapshotState expectedState, SnapshotRecord replacement) {
        Objects.requireNonNull(expectedState, "expectedState");
        Objects.requireNonNull(replacement, "replacement");
        return withConnection("replace snapshot", c -> {
            try (PreparedStatement update = c.prepareStatement(
                "UPDATE snapshots SET " + SNAPSHOT_SET + " WHERE id = ? AND state = ?")) {
                int next = bindSnapshotFields(update, 1, replacement);
                update.setString(next, replacement.id());
                update.setString(next + 1, expectedState.name());
                return update.executeUpdate() == 1;
            }
        });
    }

    @Override
    public boolean deleteSnapshot(String id) {
        Objects.requireNonNull(id, "id");
        return withConnection("delete snapshot", c -> {
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM snapshots WHERE id = ?")) {
                delete.setString(1, id);
                return delete.executeUpdate() == 1;
            }
        });
    }

    /** Closes the connection; later calls fail with {@link UnavailableException}. Idempotent. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            connection.close();
            LOG.debug("Closed store {}", label);
        } catch (SQLException e) {
            throw new UnavailableException(UNAVAILABLE, "Closing the store " + label + " failed: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "JdbcSandboxStore[" + label + "]";
    }

    // ---------------------------------------------------------------- plumbing

    /** A unit of work on the connection. */
    @FunctionalInterface
    private interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    private <T> T withConnection(String action, SqlWork<T> work) {
        lock.lock();
        try {
            if (closed) {
                throw new UnavailableException(UNAVAILABLE, "Cannot " + action + ": the store " + label + " is closed");
            }
            return work.run(connection);
        } catch (SQLException e) {
            throw new UnavailableException(UNAVAILABLE, "Cannot " + action + " in " + label + ": " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    private <T> T inTransaction(String action, SqlWork<T> work) {
        return withConnection(action, c -> {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException rollback) {
                    e.addSuppressed(rollback);
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        });
    }

    /** Binds every column but id and version, from {@code index}; returns the next index. */
    private static int bindSandboxFields(PreparedStatement statement, int index, SandboxRecord record)
        throws SQLException {
        statement.setString(index, record.phase().name());
        statement.setString(index + 1, IsoTimestamps.format(record.createdAt()));
        statement.setString(index + 2, IsoTimestamps.format(record.expiresAt()));
        statement.setString(index + 3, TinyJson.writeStringMap(record.metadata()));
        if (record.renewExtendSeconds() == null) {
            statement.setNull(index + 4, Types.INTEGER);
        } else {
            statement.setInt(index + 4, record.renewExtendSeconds());
        }
        statement.setString(index + 5, record.accessToken());
        statement.setString(index + 6, record.failureMessage());
        return index + 7;
    }

    /** Binds every column but id, in {@link #SNAPSHOT_SET} order, from {@code index}; returns the next index. */
    private static int bindSnapshotFields(PreparedStatement statement, int index, SnapshotRecord record)
        throws SQLException {
        statement.setString(index, record.sourceSandboxId());
        statement.setString(index + 1, record.name());
        statement.setString(index + 2, record.description());
        statement.setString(index + 3, TinyJson.writeRestoreConfig(record.restoreImage()));
        statement.setString(index + 4, record.state().name());
        statement.setString(index + 5, record.reason());
        statement.setString(index + 6, record.message());
        statement.setString(index + 7, IsoTimestamps.format(record.lastTransitionAt()));
        statement.setString(index + 8, IsoTimestamps.format(record.createdAt()));
        statement.setString(index + 9, IsoTimestamps.format(record.updatedAt()));
        return index + 10;
    }

    private static int bindAll(PreparedStatement statement, List<Object> parameters) throws SQLException {
        int index = 1;
        for (Object parameter : parameters) {
            statement.setObject(index++, parameter);
        }
        return index;
    }

    private static String placeholders(int count) {
        return String.join(", ", Collections.nCopies(count, "?"));
    }

    private SandboxRecord readSandbox(ResultSet row) throws SQLException {
        String id = row.getString("id");
        try {
            int renew = row.getInt("renew_extend_seconds");
            Integer renewExtendSeconds = row.wasNull() ? null : renew;
            return new SandboxRecord(SandboxId.parse(id), SandboxRecord.Phase.valueOf(row.getString("phase")),
                IsoTimestamps.parse(row.getString("created_at")), IsoTimestamps.parse(row.getString("expires_at")),
                TinyJson.readStringMap(row.getString("metadata")), renewExtendSeconds, row.getString("access_token"),
                row.getString("failure_message"), row.getLong("version"));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw corrupt("sandbox", id, e);
        }
    }

    private SnapshotRecord readSnapshot(ResultSet row) throws SQLException {
        String id = row.getString("id");
        try {
            return new SnapshotRecord(id, row.getString("source_sandbox_id"), row.getString("name"),
                row.getString("description"), readRestoreImage(id, row.getString("restore_config")),
                SnapshotState.valueOf(row.getString("state")), row.getString("reason"), row.getString("message"),
                IsoTimestamps.parse(row.getString("last_transition_at")),
                IsoTimestamps.parse(row.getString("created_at")), IsoTimestamps.parse(row.getString("updated_at")));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw corrupt("snapshot", id, e);
        }
    }

    /**
     * Reads the image leniently: a restore config that is not JSON costs the snapshot its image
     * (a restore then fails with a clear error) instead of failing every listing that includes it.
     */
    private String readRestoreImage(String snapshotId, String json) {
        if (json == null) {
            return null;
        }
        try {
            return TinyJson.readRestoreImage(json);
        } catch (IllegalArgumentException e) {
            LOG.warn("Snapshot {} in {} has an unreadable restore_config, treating its image as unknown: {}",
                snapshotId, label, e.getMessage());
            return null;
        }
    }

    private UnavailableException corrupt(String kind, String id, RuntimeException cause) {
        return new UnavailableException(UNAVAILABLE, "The " + kind + " record " + id + " in " + label
            + " cannot be read: " + cause.getMessage(), cause);
    }
}
