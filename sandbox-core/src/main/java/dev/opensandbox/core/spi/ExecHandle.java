package dev.opensandbox.core.spi;

import java.time.Duration;
import java.util.OptionalInt;

/** A command started by {@link SandboxRuntime#exec}. */
public interface ExecHandle {

    /**
     * Waits until the command exits and all its output was delivered.
     *
     * @return the exit code
     * @throws dev.opensandbox.core.DeadlineExceededException if it is still running after {@code timeout}
     */
    int awaitExit(Duration timeout);

    /** The exit code, if the command has exited. */
    OptionalInt exitCode();
}
