package dev.opensandbox.server.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/** SQLite through xerial sqlite-jdbc: the embedded default. */
final class SqliteDialect implements Dialect {

    /** Upstream's value: how long a statement waits for another process's write lock. */
    static final int BUSY_TIMEOUT_MS = 5000;

    private static final Logger LOG = LoggerFactory.getLogger(SqliteDialect.class);

    static final SqliteDialect INSTANCE = new SqliteDialect();

    private SqliteDialect() {
    }

    /**
     * Driver properties that must be set before the connection opens. Transactions begin
     * IMMEDIATE, taking the write lock up front: a DEFERRED transaction that reads and then writes
     * fails with SQLITE_BUSY instead of waiting when another process (a second server on the same
     * file) wrote in between, and busy_timeout cannot help with that.
     */
    Properties connectionProperties() {
        Properties properties = new Properties();
        properties.setProperty("transaction_mode", "IMMEDIATE");
        return properties;
    }

    @Override
    public void configure(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            // WAL persists in the file, so setting it once per open (not per operation, as upstream does) is enough;
            // readers in other processes then never block the writer.
            try (ResultSet mode = statement.executeQuery("PRAGMA journal_mode=WAL")) {
                String actual = mode.next() ? mode.getString(1) : null;
                if (!"wal".equalsIgnoreCase(actual)) {
                    LOG.warn("SQLite did not switch to WAL journal mode (got {}); concurrent readers will block", actual);
                }
            }
            statement.execute("PRAGMA busy_timeout=" + BUSY_TIMEOUT_MS);
            statement.execute("PRAGMA foreign_keys=ON");
        }
    }

    @Override
    public String currentTimestampSql() {
        return "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')";
    }
}
