package dev.opensandbox.core.memory;

import dev.opensandbox.core.spi.RuntimeContext;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntimeProvider;

/**
 * Provides the {@link InMemorySandboxRuntime} for {@code [runtime] type = "in-memory"}. It reads
 * no configuration of its own, only the context's clock.
 */
public final class InMemoryRuntimeProvider implements SandboxRuntimeProvider {

    /** The value of {@code [runtime] type} that selects this provider. */
    public static final String TYPE = "in-memory";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public SandboxRuntime create(RuntimeContext context) {
        return new InMemorySandboxRuntime(context.clock());
    }
}
