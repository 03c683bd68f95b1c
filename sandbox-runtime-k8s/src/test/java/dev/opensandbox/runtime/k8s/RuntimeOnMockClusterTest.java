package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.testing.MutableClock;
import dev.opensandbox.runtime.k8s.testing.FakeBatchSandboxController;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The setup the runtime's feature tests share: a mock API server with the fake BatchSandbox
 * controller, a clock the tests move, and a runtime on them whose caches have synced. Subclasses
 * choose the configuration.
 */
abstract class RuntimeOnMockClusterTest {

    MockCluster cluster;
    FakeBatchSandboxController controller;
    MutableClock clock;
    KubernetesSandboxRuntime runtime;

    /** The runtime's configuration for this test class. */
    abstract KubernetesRuntimeConfig config();

    @BeforeEach
    void startCluster() throws InterruptedException {
        cluster = new MockCluster();
        controller = new FakeBatchSandboxController(cluster.controllerClient(), KubernetesSandboxRuntimeTest.NAMESPACE);
        clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        runtime = new KubernetesSandboxRuntime(config(), cluster.client(), false, Map.of(), clock);
        assertTrue(runtime.awaitCachesSynced(KubernetesSandboxRuntimeTest.BOUND));
    }

    @AfterEach
    void stopCluster() {
        runtime.close();
        controller.close();
        cluster.close();
    }

    /** A request for {@code spec}, created now, expiring in an hour. */
    ProvisionRequest request(SandboxSpec spec) {
        return new ProvisionRequest(SandboxId.random(), spec, spec.image(), spec.entrypoint(), ResourceLimits.none(),
            clock.instant(), clock.instant().plusSeconds(3600));
    }
}
