package dev.opensandbox.core.service;

import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** OSEP-0009: traffic keeps alive the sandboxes that asked for it, never shortens, never revives. */
class RenewOnAccessTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    private final InMemorySandboxRuntime runtime = new InMemorySandboxRuntime(clock);
    private final SandboxService service = new SandboxService(runtime, new InMemorySandboxStore(), clock,
        ServicePolicy.defaults());

    private Sandbox create(Duration timeout, Map<String, String> extensions) {
        return service.create(SandboxSpec.builder().image(ImageSpec.of("busybox")).entrypoint("sleep", "1")
            .resourceLimits(Map.of()).timeout(timeout).extensions(extensions).build());
    }

    @Test
    void accessExtendsTheExpiryToNowPlusTheExtensionOnlyWhenThatIsLater() {
        Sandbox sandbox = create(Duration.ofMinutes(30), Map.of("access.renew.extend.seconds", "600"));
        Instant created = sandbox.expiresAt();

        assertEquals(Optional.empty(), service.renewOnAccess(sandbox.id()), "30 min left is more than 10: unchanged");
        assertEquals(created, service.get(sandbox.id()).expiresAt());

        clock.advance(Duration.ofMinutes(25));
        Optional<Instant> renewed = service.renewOnAccess(sandbox.id());
        assertEquals(Optional.of(clock.instant().plusSeconds(600)), renewed);
        assertEquals(renewed.get(), service.get(sandbox.id()).expiresAt());

        clock.advance(Duration.ofMinutes(9));
        service.reconcile();
        assertEquals(renewed.get(), service.get(sandbox.id()).expiresAt(), "still alive after the original expiry");
    }

    @Test
    void sandboxesWithoutTheOptionPausedOnesManualCleanupAndUnknownIdsAreLeftAlone() {
        Sandbox plain = create(Duration.ofMinutes(5), Map.of());
        clock.advance(Duration.ofMinutes(4));
        assertEquals(Optional.empty(), service.renewOnAccess(plain.id()));

        Sandbox paused = create(Duration.ofMinutes(5), Map.of("access.renew.extend.seconds", "600"));
        service.pause(paused.id());
        assertEquals(Optional.empty(), service.renewOnAccess(paused.id()));

        Sandbox manual = create(null, Map.of("access.renew.extend.seconds", "600"));
        assertEquals(Optional.empty(), service.renewOnAccess(manual.id()));

        assertEquals(Optional.empty(), service.renewOnAccess(SandboxId.random()));
    }
}
