package dev.opensandbox.it.k8s;

import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.spi.RuntimeCapabilities;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.runtime.k8s.testing.FakeKubelet;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;

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
