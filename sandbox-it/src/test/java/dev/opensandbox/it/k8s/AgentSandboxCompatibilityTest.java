package dev.opensandbox.it.k8s;

import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.it.SandboxRuntimeCompatibilityKit;
import dev.opensandbox.runtime.k8s.KubernetesRuntimeConfig;
import dev.opensandbox.runtime.k8s.KubernetesRuntimeProvider;
import dev.opensandbox.runtime.k8s.testing.FakeAgentSandboxController;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Clock;

/**
 * The runtime compatibility kit against the Kubernetes runtime with {@code workload_provider = "agent-sandbox"}:
 * fabric8's mock API server in CRUD mode as the cluster and a fake agent-sandbox controller that runs the pod and
 * reports {@code Ready}. The provider has no pause and no snapshots (its capabilities say so, and the kit skips
 * them); exec, files and stats are hidden for the reasons {@link MockClusterKits#withoutExecAndFiles} gives.
 */
class AgentSandboxCompatibilityTest extends SandboxRuntimeCompatibilityKit {

    private static final String NAMESPACE = "opensandbox-agent-kit";

    private static MockCluster cluster;
    private static FakeAgentSandboxController controller;
    private static SandboxRuntime runtime;

    @BeforeAll
    static void startCluster() {
        cluster = new MockCluster();
        controller = new FakeAgentSandboxController(cluster.controllerClient(), NAMESPACE);
        // The mock stamps creationTimestamp from the wall clock, so the kit's requests must use it too.
        runtime = new KubernetesRuntimeProvider().create(KubernetesRuntimeConfig.defaults(NAMESPACE)
            .withAgentSandbox(KubernetesRuntimeConfig.AgentSandboxConfig.defaults()), cluster.client(), Clock.systemUTC());
    }

    @AfterAll
    static void stopCluster() {
        runtime.close();
        controller.close();
        cluster.close();
    }

    @Override
    protected SandboxRuntime runtime() {
        return MockClusterKits.withoutExecAndFiles(runtime);
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
        GenericKubernetesResource unmanaged = MockClusterKits.unmanagedWorkload(MockCluster.AGENT_GROUP + "/v1alpha1",
            "Sandbox", NAMESPACE);
        controller.behave(unmanaged.getMetadata().getName(), FakeAgentSandboxController.Behavior.IGNORE);
        cluster.client().genericKubernetesResources(FakeAgentSandboxController.SANDBOX).inNamespace(NAMESPACE)
            .resource(unmanaged).create();
    }
}
