package dev.opensandbox.server.execd;

import java.time.Duration;
import java.util.Objects;

/**
 * How much background-command output the built-in execd keeps, and for how long ({@code [execd]}
 * in the config file). Output beyond a bound is dropped oldest-first within the command, the
 * sandbox or the server, whichever bound is reached; foreground output is never kept (it goes to
 * the client as it is produced).
 *
 * @param maxLogBytesPerCommand newest output bytes kept for one background command
 * @param maxLogBytesPerSandbox kept for all background commands of one sandbox together
 * @param maxLogBytesPerServer kept for all sandboxes together
 * @param finishedRetention how long a finished command's status and output stay readable
 * @param readLogRetention how long a finished command's output stays once a read reached its end
 *     (its status stays for {@code finishedRetention})
 */
public record ExecdSettings(long maxLogBytesPerCommand, long maxLogBytesPerSandbox, long maxLogBytesPerServer,
                            Duration finishedRetention, Duration readLogRetention) {

    public static final long DEFAULT_MAX_LOG_BYTES_PER_COMMAND = 8L * 1024 * 1024;
    public static final long DEFAULT_MAX_LOG_BYTES_PER_SANDBOX = 32L * 1024 * 1024;
    public static final long DEFAULT_MAX_LOG_BYTES_PER_SERVER = 128L * 1024 * 1024;
    public static final Duration DEFAULT_FINISHED_RETENTION = Duration.ofMinutes(10);
    public static final Duration DEFAULT_READ_LOG_RETENTION = Duration.ofSeconds(60);

    /** Keeps the deadline arithmetic far from the ends of {@link java.time.Instant}. */
    public static final Duration MAX_RETENTION = Duration.ofDays(30);
    /** One command's log is read back as one array. */
    public static final long MAX_LOG_BYTES_PER_COMMAND = 1024L * 1024 * 1024;

    public ExecdSettings {
        if (maxLogBytesPerCommand > MAX_LOG_BYTES_PER_COMMAND) {
            throw new IllegalArgumentException("at most " + MAX_LOG_BYTES_PER_COMMAND + " log bytes per command (got "
                + maxLogBytesPerCommand + ")");
        }
        if (maxLogBytesPerCommand < 1 || maxLogBytesPerSandbox < maxLogBytesPerCommand
            || maxLogBytesPerServer < maxLogBytesPerSandbox) {
            throw new IllegalArgumentException("log bounds must satisfy 1 <= per command <= per sandbox <= per server (got "
                + maxLogBytesPerCommand + ", " + maxLogBytesPerSandbox + ", " + maxLogBytesPerServer + ")");
        }
        Objects.requireNonNull(finishedRetention, "finishedRetention");
        Objects.requireNonNull(readLogRetention, "readLogRetention");
        for (Duration retention : new Duration[] {finishedRetention, readLogRetention}) {
            if (retention.isNegative() || retention.compareTo(MAX_RETENTION) > 0) {
                throw new IllegalArgumentException("retention times must be between 0 and " + MAX_RETENTION + " (got "
                    + retention + ")");
            }
        }
    }

    public static ExecdSettings defaults() {
        return new ExecdSettings(DEFAULT_MAX_LOG_BYTES_PER_COMMAND, DEFAULT_MAX_LOG_BYTES_PER_SANDBOX,
            DEFAULT_MAX_LOG_BYTES_PER_SERVER, DEFAULT_FINISHED_RETENTION, DEFAULT_READ_LOG_RETENTION);
    }
}
