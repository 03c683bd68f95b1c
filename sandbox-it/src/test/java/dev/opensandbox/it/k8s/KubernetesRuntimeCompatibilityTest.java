package dev.opensandbox.it.k8s;

import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.it.SandboxRuntimeCompatibilityKit;
import dev.opensandbox.runtime.k8s.KubernetesRuntimeConfig;
import dev.opensandbox.runtime.k8s.KubernetesRuntimeProvider;
import dev.opensandbox.runtime.k8s.testing.FakeBatchSandboxController;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Clock;

/**
 * The runtime compatibility kit against the Kubernetes runtime (BatchSandbox provider), with
 * fabric8's mock API server in CRUD mode as the cluster and a fake controller that creates the
 * pods, publishes their IPs and writes the status. Needs no Docker and no cluster, so it runs in
 * every build; what it cannot prove (a real API server's merge-patch and watch semantics, a real
 * controller) is listed in the adapter's tests and docs. Exec, files and stats are hidden for the
 * reasons {@link MockClusterKits#withoutExecAndFiles} gives.
 */
class KubernetesRuntimeCompatibilityTest extends SandboxRuntimeCompatibilityKit {

    private static final String NAMESPACE = "opensandbox-kit";
    private static final ResourceDefinitionContext BATCH_SANDBOX = new ResourceDefinitionContext.Builder()
        .withGroup(MockCluster.GROUP).withVersion("v1alpha1").withKind("BatchSandbox").withPlural("batchsandboxes")
        .withNamespaced(true).build();

    private static MockCluster cluster;
    private static FakeBatchSandboxController controller;
    private static SandboxRuntime runtime;

    @BeforeAll
    static void startCluster() {
        cluster = new MockCluster();
        controller = new FakeBatchSandboxController(cluster.controllerClient(), NAMESPACE);
        // The mock stamps creationTimestamp from the wall clock, so the kit's requests must use it too.
        runtime = new KubernetesRuntimeProvider().create(KubernetesRuntimeConfig.defaults(NAMESPACE), cluster.client(),
            Clock.systemUTC());
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
        GenericKubernetesResource unmanaged = MockClusterKits.unmanagedWorkload(MockCluster.GROUP + "/v1alpha1",
            "BatchSandbox", NAMESPACE);
        controller.behave(unmanaged.getMetadata().getName(), FakeBatchSandboxController.Behavior.IGNORE);
        cluster.client().genericKubernetesResources(BATCH_SANDBOX).inNamespace(NAMESPACE).resource(unmanaged).create();
    }
}
