package dev.opensandbox.server.config;

import java.time.Duration;
import java.util.Optional;

/** The operator's terminal, if any, for the startup confirmation prompt. */
public interface Terminal {

    /** True when a person can answer a prompt (stdin and stdout are a terminal). */
    boolean interactive();

    /** Prints text as is (no newline added). */
    void print(String text);

    /**
     * Reads one line, waiting at most {@code timeout}.
     *
     * @return the line without its terminator; empty when the time ran out
     */
    Optional<String> readLine(Duration timeout);

    /** The process console ({@link System#console()}); not interactive when there is none. */
    static Terminal system() {
        return new ConsoleTerminal();
    }
}
