package dev.opensandbox.runtime.k8s.testing;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plays the SandboxSnapshot side of the OpenSandbox controller against the mock API server: a new
 * SandboxSnapshot goes to {@code Committing} and then to {@code Succeed} with the image
 * {@code <registry>/<sandboxName>-sandbox:snap-<hex of the CR name>} (the controller's naming), or
 * to {@code Failed} with a {@code Failed} condition, per behaviour. It writes status only, through
 * the status subresource, as the real controller does; finalizers and commit Jobs are not played.
 *
 * <p>Give it {@link MockCluster#controllerClient()} so that its requests are not mistaken for the runtime's.
 */
public final class FakeSnapshotController extends FakeController<FakeSnapshotController.Behavior> {

    public static final String REGISTRY = "registry.example.com/snapshots";

    private static final ResourceDefinitionContext SANDBOX_SNAPSHOT = new ResourceDefinitionContext.Builder()
        .withGroup(MockCluster.GROUP).withVersion("v1alpha1").withKind("SandboxSnapshot").withPlural("sandboxsnapshots")
        .withNamespaced(true).build();

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

    /** Behaviours are by BatchSandbox name ({@code spec.sandboxName}), not by snapshot name. */
    public FakeSnapshotController(KubernetesClient client, String namespace) {
        super(client, namespace, SANDBOX_SNAPSHOT, "fake-snapshot-controller", Behavior.SUCCEED);
        startWatching();
    }

    /** The image this controller makes for SandboxSnapshot {@code name} of BatchSandbox {@code sandboxName}. */
    public static String image(String sandboxName, String name) {
        return REGISTRY + "/" + sandboxName + "-sandbox:snap-" + name.substring("osb-snap-".length());
    }

    @Override
    protected void reconcile(String name, boolean deleted) {
        GenericKubernetesResource cr = deleted ? null : get(name);
        if (cr == null || cr.getMetadata().getDeletionTimestamp() != null
            || child(cr.getAdditionalProperties(), "status").get("phase") != null) {
            return;
        }
        String sandboxName = String.valueOf(child(cr.getAdditionalProperties(), "spec").get("sandboxName"));
        switch (behaviorFor(sandboxName)) {
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
    }

    private static Map<String, Object> succeeded(List<Map<String, Object>> containers) {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("phase", "Succeed");
        status.put("containers", containers);
        status.put("conditions", List.of(Map.of("type", "Ready", "status", "True", "reason", "Succeed",
            "message", "snapshot committed", "lastTransitionTime", "2026-01-01T00:00:00Z")));
        return status;
    }
}
