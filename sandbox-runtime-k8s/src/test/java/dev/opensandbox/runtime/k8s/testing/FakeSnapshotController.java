package dev.opensandbox.runtime.k8s.testing;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Plays the SandboxSnapshot side of the OpenSandbox controller against the mock API server: a new
 * SandboxSnapshot goes to {@code Committing} and then to {@code Succeed} with the image
 * {@code <registry>/<sandboxName>-sandbox:snap-<hex of the CR name>} (the controller's naming), or
 * to {@code Failed} with a {@code Failed} condition, per behaviour. It writes status only, through
 * the status subresource, as the real controller does; finalizers and commit Jobs are not played.
 *
 * <p>Give it {@link MockCluster#controllerClient()} so that its requests are not mistaken for the runtime's.
 */
public final class FakeSnapshotController implements AutoCloseable {

    public static final String REGISTRY = "registry.example.com/snapshots";

    private static final ResourceDefinitionContext SANDBOX_SNAPSHOT = new ResourceDefinitionContext.Builder()
        .withGroup(MockCluster.GROUP).withVersion("v1alpha1").withKind("SandboxSnapshot").withPlural("sandboxsnapshots")
        .withNamespaced(true).build();
    private static final PatchContext MERGE = PatchContext.of(PatchType.JSON_MERGE);

    /** What the controller does with a new SandboxSnapshot. */
    public enum Behavior {
        /** Committing, then Succeed with the image of container {@code sandbox}. */
        SUCCEED,
        /** Failed at once with reason {@code RegistryNotConfigured} (the controller has no registry). */
        FAIL,
        /** Committing, and then nothing (a commit that never ends). */
        HANG,
        /** Succeed with the images of two containers, none named {@code sandbox}. */
        SUCCEED_AMBIGUOUS
    }

    private final KubernetesClient client;
    private final String namespace;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "fake-snapshot-controller");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, Behavior> behaviors = new ConcurrentHashMap<>();
    private volatile Behavior defaultBehavior = Behavior.SUCCEED;
    private final Watch watch;

    public FakeSnapshotController(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
        this.watch = client.genericKubernetesResources(SANDBOX_SNAPSHOT).inNamespace(namespace).watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, GenericKubernetesResource resource) {
                if (action == Action.ADDED || action == Action.MODIFIED) {
                    String name = resource.getMetadata().getName();
                    worker.execute(() -> reconcile(name));
                }
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        });
    }

    /** The image this controller makes for SandboxSnapshot {@code name} of BatchSandbox {@code sandboxName}. */
    public static String image(String sandboxName, String name) {
        return REGISTRY + "/" + sandboxName + "-sandbox:snap-" + name.substring("osb-snap-".length());
    }

    public FakeSnapshotController defaultBehavior(Behavior behavior) {
        this.defaultBehavior = behavior;
        return this;
    }

    /** The behaviour for snapshots of the BatchSandbox named {@code sandboxName}. */
    public FakeSnapshotController behave(String sandboxName, Behavior behavior) {
        behaviors.put(sandboxName, behavior);
        return this;
    }

    /** Waits until every event received so far has been handled. */
    public void drain() throws Exception {
        worker.submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        watch.close();
        worker.shutdownNow();
    }

    private void reconcile(String name) {
        try {
            GenericKubernetesResource cr = client.genericKubernetesResources(SANDBOX_SNAPSHOT).inNamespace(namespace)
                .withName(name).get();
            if (cr == null || cr.getMetadata().getDeletionTimestamp() != null
                || child(cr.getAdditionalProperties(), "status").get("phase") != null) {
                return;
            }
            String sandboxName = String.valueOf(child(cr.getAdditionalProperties(), "spec").get("sandboxName"));
            switch (behaviors.getOrDefault(sandboxName, defaultBehavior)) {
                case SUCCEED -> {
                    patchStatus(name, Map.of("phase", "Committing", "sourcePodName", sandboxName + "-0"));
                    patchStatus(name, succeeded(List.of(Map.of("containerName", "sandbox",
                        "imageUri", image(sandboxName, name), "imageDigest", "sha256:" + "0".repeat(64)))));
                }
                case SUCCEED_AMBIGUOUS -> patchStatus(name, succeeded(List.of(
                    Map.of("containerName", "main", "imageUri", REGISTRY + "/a:1"),
                    Map.of("containerName", "helper", "imageUri", REGISTRY + "/b:1"))));
                case FAIL -> patchStatus(name, Map.of("phase", "Failed", "conditions", List.of(Map.of("type", "Failed",
                    "status", "True", "reason", "RegistryNotConfigured",
                    "message", "snapshot registry is not configured", "lastTransitionTime", "2026-01-01T00:00:00Z"))));
                case HANG -> patchStatus(name, Map.of("phase", "Committing"));
            }
        } catch (KubernetesClientException e) {
            // Deleted while we acted on it: the next event tells.
        }
    }

    private static Map<String, Object> succeeded(List<Map<String, Object>> containers) {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("phase", "Succeed");
        status.put("containers", containers);
        status.put("conditions", List.of(Map.of("type", "Ready", "status", "True", "reason", "Succeed",
            "message", "snapshot committed", "lastTransitionTime", "2026-01-01T00:00:00Z")));
        return status;
    }

    private void patchStatus(String name, Map<String, Object> status) {
        String patch = client.getKubernetesSerialization().asJson(Map.of("status", status));
        client.genericKubernetesResources(SANDBOX_SNAPSHOT).inNamespace(namespace).withName(name).subresource("status")
            .patch(MERGE, patch);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> child(Map<String, Object> parent, String key) {
        Object value = parent == null ? null : parent.get(key);
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }
}
