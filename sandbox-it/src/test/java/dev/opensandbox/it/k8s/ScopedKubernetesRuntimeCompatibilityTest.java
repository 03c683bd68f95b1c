package dev.opensandbox.it.k8s;

import dev.opensandbox.core.spi.Deployment;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.it.SandboxRuntimeCompatibilityKit;
import dev.opensandbox.runtime.k8s.KubernetesRuntimeConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Clock;

/**
 * The runtime compatibility kit against the Kubernetes runtime of a scoped deployment, as the
 * server runs it with {@code [deployment] id}: every contract holds while the runtime stamps its
 * deployment label and lists, watches and acts only on what carries it. Otherwise as
 * {@link KubernetesRuntimeCompatibilityTest}.
 */
class ScopedKubernetesRuntimeCompatibilityTest extends SandboxRuntimeCompatibilityKit {

    private static MockClusterKits.BatchSandboxCluster kit;

    @BeforeAll
    static void startCluster() {
        kit = new MockClusterKits.BatchSandboxCluster(KubernetesRuntimeConfig.defaults("opensandbox-kit-scoped")
            .withDeployment(Deployment.of("kit")));
    }

    @AfterAll
    static void stopCluster() {
        kit.close();
    }

    @Override
    protected SandboxRuntime runtime() {
        return kit.runtime();
    }

    @Override
    protected Clock clock() {
        return Clock.systemUTC();
    }

    @Override
    protected String testImage() {
        return "opensandbox-test/busybox:latest";
    }

    @Override
    protected void createUnmanagedWorkload() {
        kit.createUnmanagedWorkload();
    }
}
