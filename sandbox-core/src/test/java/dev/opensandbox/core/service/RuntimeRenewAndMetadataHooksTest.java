package dev.opensandbox.core.service;

import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Runtimes that enforce expiry or keep metadata themselves hear about renewals and patches first. */
class RuntimeRenewAndMetadataHooksTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    private final List<String> heard = new ArrayList<>();
    private boolean refuse;
    private final ForwardingSandboxRuntime runtime = new ForwardingSandboxRuntime(new InMemorySandboxRuntime(clock)) {
        @Override
        public void renewExpiration(SandboxId id, Instant expiresAt) {
            if (refuse) {
                throw new RuntimeFailureException("TEST::RENEW_FAILED", "the platform said no");
            }
            heard.add("renew " + expiresAt);
        }

        @Override
        public void patchMetadata(SandboxId id, Map<String, String> patch) {
            if (refuse) {
                throw new RuntimeFailureException("TEST::PATCH_FAILED", "the platform said no");
            }
            heard.add("patch " + patch);
        }
    };
    private final SandboxService service = new SandboxService(runtime, new InMemorySandboxStore(), clock,
        ServicePolicy.defaults());

    private Sandbox create() {
        return service.create(SandboxSpec.builder().image(ImageSpec.of("busybox")).entrypoint("sleep", "1")
            .resourceLimits(Map.of()).metadata("team", "a").timeout(Duration.ofHours(1)).build());
    }

    @Test
    void aRenewalReachesTheRuntimeBeforeItIsStoredAndAFailureKeepsTheOldExpiry() {
        Sandbox sandbox = create();
        Instant later = clock.instant().plus(Duration.ofHours(3));

        service.renew(sandbox.id(), later);
        assertEquals(List.of("renew " + later), heard);
        assertEquals(later, service.get(sandbox.id()).expiresAt());

        refuse = true;
        assertThrows(RuntimeFailureException.class, () -> service.renew(sandbox.id(), later.plus(Duration.ofHours(1))));
        assertEquals(later, service.get(sandbox.id()).expiresAt(), "the refused renewal was not stored");
    }

    @Test
    void aMetadataPatchReachesTheRuntimeBeforeItIsStored() {
        Sandbox sandbox = create();
        Map<String, String> patch = new HashMap<>();
        patch.put("team", null);
        patch.put("env", "prod");

        service.patchMetadata(sandbox.id(), patch);
        assertEquals(List.of("patch " + patch), heard);
        assertEquals(Map.of("env", "prod"), service.get(sandbox.id()).metadata());

        refuse = true;
        assertThrows(RuntimeFailureException.class, () -> service.patchMetadata(sandbox.id(), Map.of("env", "dev")));
        assertEquals(Map.of("env", "prod"), service.get(sandbox.id()).metadata());
    }
}
