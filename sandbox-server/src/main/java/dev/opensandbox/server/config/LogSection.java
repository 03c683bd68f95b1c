package dev.opensandbox.server.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code [log]}: level, output and rotation. Unlike upstream the level is checked when the file is
 * loaded and the file paths are {@code ~}-expanded.
 *
 * @param level upper-cased level as written: TRACE, DEBUG, INFO, WARN, WARNING, ERROR or CRITICAL
 * @param fileEnabled when true, logs go to rotating files instead of stdout
 * @param filePath main log file (default {@code ~/logs/opensandbox/server.log})
 * @param accessFilePath access log file (default {@code ~/logs/opensandbox/access.log})
 * @param fileMaxBytes size at which a file rotates (≥ 1, default 100 MiB)
 * @param fileBackupCount rotated files kept (≥ 0, default 5)
 * @param format ours: {@code "text"} (default) or {@code "json"} (one JSON object per line)
 */
public record LogSection(
        String level,
        boolean fileEnabled,
        Path filePath,
        Path accessFilePath,
        long fileMaxBytes,
        int fileBackupCount,
        String format) {

    static final List<String> LEVELS = List.of("TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL");
    static final List<String> FORMATS = List.of("text", "json");

    public LogSection {
        Check.notNull("log.level", level);
        level = level.strip().toUpperCase(Locale.ROOT);
        if (!LEVELS.contains(level)) {
            throw ConfigException.at("log.level", "must be one of " + Check.quoted(LEVELS)
                    + ", case-insensitive (got \"" + level + "\")");
        }
        Check.notNull("log.file_path", filePath);
        Check.notNull("log.access_file_path", accessFilePath);
        Check.atLeast("log.file_max_bytes", fileMaxBytes, 1);
        Check.atLeast("log.file_backup_count", fileBackupCount, 0);
        Check.oneOf("log.format", format, FORMATS);
    }

    static LogSection defaults(Path home) {
        Path dir = home.resolve("logs").resolve("opensandbox");
        return new LogSection("INFO", false, dir.resolve("server.log"), dir.resolve("access.log"), 104_857_600L, 5,
                "text");
    }

    /** The level as Logback names it: WARNING becomes WARN and CRITICAL becomes ERROR. */
    public String logbackLevel() {
        switch (level) {
            case "WARNING":
                return "WARN";
            case "CRITICAL":
                return "ERROR";
            default:
                return level;
        }
    }

    /** True for {@code format = "json"}. */
    public boolean json() {
        return "json".equals(format);
    }
}
