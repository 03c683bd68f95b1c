package dev.opensandbox.it.k8s;

import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.spi.RuntimeCapabilities;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.runtime.k8s.KubernetesRuntimeConfig;
import dev.opensandbox.runtime.k8s.KubernetesRuntimeProvider;
import dev.opensandbox.runtime.k8s.testing.FakeBatchSandboxController;
import dev.opensandbox.runtime.k8s.testing.FakeKubelet;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

import java.time.Clock;
import java.util.Map;
import java.util.UUID;

/** What the compatibility kit's runs on the mock API server share. */
final class MockClusterKits {

    private MockClusterKits() {
    }

    /**
     * The runtime with exec and files hidden from the kit: pod exec through {@link MockCluster#route} and the
     * {@link FakeKubelet} still fails the WebSocket upgrade in the CRUD-mode mock (it works on a mock of its own,
     * see PodExecTest), and stats need a metrics API the mock does not serve.
     */
    static SandboxRuntime withoutExecAndFiles(SandboxRuntime runtime) {
        return new ForwardingSandboxRuntime(runtime) {
            @Override
            public RuntimeCapabilities capabilities() {
                RuntimeCapabilities real = runtime.capabilities();
                return new RuntimeCapabilities(real.errorNamespace(), real.pause(), false, false, real.logs(),
                    real.snapshots(), real.pools());
            }
        };
    }

    /** A mock cluster with the fake BatchSandbox controller and a runtime of {@code config} on it, for one kit run. */
    static final class BatchSandboxCluster implements AutoCloseable {
        private static final ResourceDefinitionContext BATCH_SANDBOX = new ResourceDefinitionContext.Builder()
            .withGroup(MockCluster.GROUP).withVersion("v1alpha1").withKind("BatchSandbox").withPlural("batchsandboxes")
            .withNamespaced(true).build();

        private final MockCluster cluster = new MockCluster();
        private final String namespace;
        private final FakeBatchSandboxController controller;
        private final SandboxRuntime runtime;

        BatchSandboxCluster(KubernetesRuntimeConfig config) {
            namespace = config.namespace();
            controller = new FakeBatchSandboxController(cluster.controllerClient(), namespace);
            // The mock stamps creationTimestamp from the wall clock, so the kit's requests must use it too.
            runtime = new KubernetesRuntimeProvider().create(config, cluster.client(), Clock.systemUTC());
        }

        /** The runtime as the kit may use it ({@link #withoutExecAndFiles}). */
        SandboxRuntime runtime() {
            return withoutExecAndFiles(runtime);
        }

        void createUnmanagedWorkload() {
            GenericKubernetesResource unmanaged = unmanagedWorkload(MockCluster.GROUP + "/v1alpha1", "BatchSandbox",
                namespace);
            controller.behave(unmanaged.getMetadata().getName(), FakeBatchSandboxController.Behavior.IGNORE);
            cluster.client().genericKubernetesResources(BATCH_SANDBOX).inNamespace(namespace).resource(unmanaged).create();
        }

        @Override
        public void close() {
            runtime.close();
            controller.close();
            cluster.close();
        }
    }

    /** A workload of {@code kind} with a fresh name and no sandbox-id label, as someone else's would be. */
    static GenericKubernetesResource unmanagedWorkload(String apiVersion, String kind, String namespace) {
        GenericKubernetesResource unmanaged = new GenericKubernetesResource();
        unmanaged.setApiVersion(apiVersion);
        unmanaged.setKind(kind);
        unmanaged.setMetadata(new ObjectMetaBuilder().withName("unmanaged-" + UUID.randomUUID()).withNamespace(namespace)
            .withLabels(Map.of("opensandbox.io/not-an-id", "true")).build());
        unmanaged.setAdditionalProperty("spec", Map.of("replicas", 1));
        return unmanaged;
    }
}
