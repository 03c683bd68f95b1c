package dev.opensandbox.server.config;

import java.time.Duration;

/**
 * {@code [execd]} (ours): how much background-command output the built-in execd keeps, and how
 * long. Output past a bound is dropped oldest-first; foreground output is never kept.
 *
 * @param maxLogBytesPerCommand {@code max_log_bytes_per_command}: newest bytes kept per command
 *     (1 KiB to 1 GiB, default 8 MiB)
 * @param maxLogBytesPerSandbox {@code max_log_bytes_per_sandbox}: all commands of one sandbox
 *     (at least the per-command bound, default 32 MiB)
 * @param maxLogBytesPerServer {@code max_log_bytes_per_server}: all sandboxes (at least the
 *     per-sandbox bound, default 128 MiB)
 * @param finishedCommandRetention {@code finished_command_retention_seconds}: how long a finished
 *     command's status and output stay (0 to 30 days, default 600)
 * @param readLogRetention {@code read_log_retention_seconds}: how long a finished command's output
 *     stays once a read reached its end (0 to 30 days, default 60)
 */
public record ExecdSection(long maxLogBytesPerCommand, long maxLogBytesPerSandbox, long maxLogBytesPerServer,
                           Duration finishedCommandRetention, Duration readLogRetention) {

    static final long MAX_RETENTION_SECONDS = Duration.ofDays(30).toSeconds();

    public ExecdSection {
        Check.between("execd.max_log_bytes_per_command", maxLogBytesPerCommand, 1024, 1024L * 1024 * 1024);
        Check.atLeast("execd.max_log_bytes_per_sandbox", maxLogBytesPerSandbox, maxLogBytesPerCommand);
        Check.atLeast("execd.max_log_bytes_per_server", maxLogBytesPerServer, maxLogBytesPerSandbox);
        Check.notNull("execd.finished_command_retention_seconds", finishedCommandRetention);
        Check.between("execd.finished_command_retention_seconds", finishedCommandRetention.toSeconds(), 0,
                MAX_RETENTION_SECONDS);
        Check.notNull("execd.read_log_retention_seconds", readLogRetention);
        Check.between("execd.read_log_retention_seconds", readLogRetention.toSeconds(), 0, MAX_RETENTION_SECONDS);
    }

    static ExecdSection defaults() {
        return new ExecdSection(8L * 1024 * 1024, 32L * 1024 * 1024, 128L * 1024 * 1024, Duration.ofSeconds(600),
                Duration.ofSeconds(60));
    }
}
