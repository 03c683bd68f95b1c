package dev.opensandbox.core.spi;

/**
 * Creates a {@link SandboxRuntime}. Found with {@link java.util.ServiceLoader} and chosen by
 * {@link #type()} from the {@code [runtime] type} configuration key. Register an implementation
 * in {@code META-INF/services/dev.opensandbox.core.spi.SandboxRuntimeProvider}.
 */
public interface SandboxRuntimeProvider {

    /** The value of {@code [runtime] type} that selects this provider, for example {@code docker}. */
    String type();

    /**
     * Builds the runtime from its configuration. Validates the configuration and fails fast
     * (with a {@link dev.opensandbox.core.SandboxException}) before any side effect.
     */
    SandboxRuntime create(RuntimeContext context);
}
