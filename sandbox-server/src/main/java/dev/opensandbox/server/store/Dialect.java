package dev.opensandbox.server.store;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * What differs between the databases the store runs on. Everything else in the store is SQL that
 * SQLite (3.24+) and PostgreSQL (9.5+) both accept, {@code INSERT ... ON CONFLICT DO NOTHING} and
 * {@code LIMIT ? OFFSET ?} included, so that a PostgreSQL dialect needs only this interface.
 */
interface Dialect {

    /** Session settings applied once, right after the connection opens. */
    void configure(Connection connection) throws SQLException;

    /** An SQL expression for the current UTC time as ISO-8601 text, used for bookkeeping columns only. */
    String currentTimestampSql();
}
