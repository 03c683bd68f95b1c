package dev.opensandbox.server.http;

import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.core.service.ServicePolicy;
import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccessRenewalsTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    private final InMemorySandboxRuntime runtime = new InMemorySandboxRuntime(clock);
    private final SandboxService sandboxes = new SandboxService(runtime, new InMemorySandboxStore(), clock,
        ServicePolicy.defaults());
    private final List<Runnable> queued = new ArrayList<>();

    private Sandbox sandbox() {
        return sandboxes.create(SandboxSpec.builder().image(ImageSpec.of("busybox")).entrypoint("sleep", "1")
            .resourceLimits(Map.of()).timeout(Duration.ofMinutes(5)).extension("access.renew.extend.seconds", "600")
            .build());
    }

    @Test
    void oneRenewalPerIntervalPerSandboxRunOffTheCallersThread() {
        AccessRenewals renewals = new AccessRenewals(sandboxes, Duration.ofSeconds(60), queued::add, clock);
        Sandbox first = sandbox();
        Sandbox second = sandbox();

        assertTrue(renewals.accessed(first.id()));
        assertFalse(renewals.accessed(first.id()), "throttled within the interval");
        assertTrue(renewals.accessed(second.id()), "per sandbox");
        assertEquals(2, queued.size(), "nothing ran on the caller's thread");
        assertEquals(first.expiresAt(), sandboxes.get(first.id()).expiresAt());

        queued.forEach(Runnable::run);
        assertEquals(clock.instant().plusSeconds(600), sandboxes.get(first.id()).expiresAt());

        clock.advance(Duration.ofSeconds(59));
        assertFalse(renewals.accessed(first.id()));
        clock.advance(Duration.ofSeconds(1));
        assertTrue(renewals.accessed(first.id()));
    }

    @Test
    void aBusyExecutorDropsTheRenewalAndTheNextAccessTriesAgain() {
        Sandbox sandbox = sandbox();
        boolean[] busy = {true};
        AccessRenewals renewals = new AccessRenewals(sandboxes, Duration.ofSeconds(60), task -> {
            if (busy[0]) {
                throw new RejectedExecutionException("full");
            }
            task.run();
        }, clock);

        assertFalse(renewals.accessed(sandbox.id()));
        busy[0] = false;
        assertTrue(renewals.accessed(sandbox.id()), "not throttled by an attempt that never ran");
        assertEquals(clock.instant().plusSeconds(600), sandboxes.get(sandbox.id()).expiresAt());
    }
}
