package dev.opensandbox.it;

import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntime;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

/** The runtime contract against the in-memory runtime, in every build. */
class InMemoryRuntimeCompatibilityTest extends SandboxRuntimeCompatibilityKit {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);

    private final InMemorySandboxRuntime runtime = new InMemorySandboxRuntime(CLOCK);

    @Override
    protected SandboxRuntime runtime() {
        return runtime;
    }

    @Override
    protected Clock clock() {
        return CLOCK;
    }

    @Override
    protected String testImage() {
        return "busybox:latest";
    }

    @Override
    protected void createUnmanagedWorkload() {
        runtime.addUnmanagedWorkload("plain-container");
    }
}
