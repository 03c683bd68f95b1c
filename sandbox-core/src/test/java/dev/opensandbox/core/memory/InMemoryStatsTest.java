package dev.opensandbox.core.memory;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.ResourceUsage;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;

import static dev.opensandbox.core.memory.Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stats and the exec user of the in-memory runtime: plausible numbers, Docker's errors. */
class InMemoryStatsTest {

    private static final long MIB = 1024L * 1024;

    private final MutableClock clock = new MutableClock();
    private final InMemorySandboxRuntime runtime = new InMemorySandboxRuntime(clock);
    private final SandboxId id = SandboxId.random();

    private void createWithLimits(ResourceLimits limits) {
        SandboxSpec spec = SandboxSpec.builder().image(Fixtures.IMAGE).entrypoint("sleep", "3600").build();
        runtime.create(new ProvisionRequest(id, spec, ImageSpec.of(Fixtures.IMAGE), spec.entrypoint(), limits,
            clock.instant(), null));
    }

    @Test
    void aRunningSandboxWithoutLimitsHasOneCpuAnd512MibAndUsesNoCpu() {
        runtime.create(request(id, clock.instant(), "sleep", "3600"));

        ResourceUsage usage = runtime.stats(id);

        assertEquals(1, usage.cpuCount());
        assertEquals(0, usage.cpuUsedPercent());
        assertEquals(512 * MIB, usage.memoryLimitBytes());
        assertTrue(usage.memoryUsedBytes() > 0 && usage.memoryUsedBytes() < usage.memoryLimitBytes(), usage.toString());
    }

    @Test
    void statsReportTheSandboxesLimits() {
        createWithLimits(new ResourceLimits(Map.of("cpu", "500m", "memory", "256Mi"), OptionalLong.of(256 * MIB),
            OptionalLong.of(500), OptionalInt.empty()));

        ResourceUsage usage = runtime.stats(id);

        assertEquals(0.5, usage.cpuCount());
        assertEquals(256 * MIB, usage.memoryLimitBytes());
    }

    @Test
    void memoryUsedNeverExceedsATinyLimit() {
        createWithLimits(new ResourceLimits(Map.of("memory", "1Mi"), OptionalLong.of(MIB), OptionalLong.empty(),
            OptionalInt.empty()));

        assertEquals(MIB, runtime.stats(id).memoryUsedBytes());
    }

    @Test
    void statsOfAPausedSandboxAreAConflict() {
        runtime.create(request(id, clock.instant(), "sleep", "3600"));
        runtime.pause(id);

        ConflictException e = assertThrows(ConflictException.class, () -> runtime.stats(id));

        assertEquals("DOCKER::SANDBOX_NOT_RUNNING", e.code());
        assertTrue(e.getMessage().contains("paused"), e.getMessage());
    }

    @Test
    void statsOfAnExitedSandboxAreAConflict() {
        runtime.create(request(id, clock.instant(), "sh", "-c", "exit 0"));

        ConflictException e = assertThrows(ConflictException.class, () -> runtime.stats(id));

        assertEquals("DOCKER::SANDBOX_NOT_RUNNING", e.code());
    }

    @Test
    void statsOfAnUnknownOrRemovedSandboxAreNotFound() {
        runtime.create(request(id, clock.instant(), "sleep", "3600"));
        runtime.remove(id);

        NotFoundException removed = assertThrows(NotFoundException.class, () -> runtime.stats(id));
        NotFoundException unknown = assertThrows(NotFoundException.class, () -> runtime.stats(SandboxId.random()));

        assertEquals("DOCKER::SANDBOX_NOT_FOUND", removed.code());
        assertEquals("DOCKER::SANDBOX_NOT_FOUND", unknown.code());
    }

    @Test
    void execWithAUserIsAcceptedAndRunsAsUsual() {
        runtime.create(request(id, clock.instant(), "sleep", "3600"));

        Fixtures.Result result = Fixtures.exec(runtime, id,
            new ExecRequest(List.of("sh", "-c", "echo hi"), Map.of(), null, "1234:1234"));

        assertEquals(0, result.exitCode());
        assertEquals("hi\n", result.stdout());
    }
}
