package dev.opensandbox.it.reliability;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The {@code sandboxes} rows of a server's SQLite file, read through a read-only JDBC connection
 * of its own: also the rows the API hides (records of creates in flight or failed), which still
 * count as left behind.
 */
public final class StoreRows {

    private StoreRows() {
    }

    /** One row as stored. */
    public record Row(String id, String phase, String expiresAt, String metadata) {
    }

    /** Rows whose metadata JSON contains {@code marker} (a test's own run id), in no particular order. */
    public static List<Row> containing(Path database, String marker) {
        List<Row> rows = new ArrayList<>();
        if (!Files.exists(database)) {
            return rows;
        }
        Properties readOnly = new Properties();
        readOnly.setProperty("open_mode", "1"); // SQLITE_OPEN_READONLY
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + database, readOnly);
             PreparedStatement select = connection.prepareStatement(
                 "SELECT id, phase, expires_at, metadata FROM sandboxes WHERE metadata LIKE ?")) {
            select.setString(1, "%" + marker + "%");
            try (ResultSet result = select.executeQuery()) {
                while (result.next()) {
                    rows.add(new Row(result.getString(1), result.getString(2), result.getString(3), result.getString(4)));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read " + database + ": " + e.getMessage(), e);
        }
        return rows;
    }
}
