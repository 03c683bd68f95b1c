package dev.opensandbox.runtime.k8s.testing;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Plays the kubernetes-sigs/agent-sandbox controller (and the kubelet) against the mock API server:
 * for each new {@code Sandbox} it creates pod {@code <name>} from {@code spec.podTemplate} (its labels plus
 * the controller's own {@value #NAME_LABEL}), running with an IP, and then writes the status: the
 * {@code selector} of that label, the Service's {@code serviceFQDN} and a {@code Ready=True} condition.
 * Deleting the Sandbox deletes the pod. A main container whose command is {@code sh -c "exit N"} then
 * terminates with code N and the Sandbox turns {@code Ready=False}. Per-sandbox behaviours simulate a stuck controller, a Service
 * without a running pod, or an expired Sandbox kept by {@code shutdownPolicy: Retain}.
 *
 * <p>Give it {@link MockCluster#controllerClient()} so that its requests are not mistaken for the runtime's.
 */
public final class FakeAgentSandboxController extends FakeController<FakeAgentSandboxController.Behavior> {

    /** The label the fake puts on a Sandbox's pod and names in {@code status.selector}. */
    public static final String NAME_LABEL = "agents.x-k8s.io/sandbox-name";

    public static final ResourceDefinitionContext SANDBOX = new ResourceDefinitionContext.Builder()
        .withGroup(MockCluster.AGENT_GROUP).withVersion("v1alpha1").withKind("Sandbox").withPlural("sandboxes")
        .withNamespaced(true).build();

    /** What the controller does with a new Sandbox. */
    public enum Behavior {
        /** Pod running with an IP, then selector, serviceFQDN and Ready=True. */
        RUN,
        /** Nothing at all (no controller running, or a stuck one). */
        IGNORE,
        /** Ready=True and a serviceFQDN, but no pod (its pod is not Running yet, say). */
        SERVICE_ONLY,
        /** Ready=False with reason SandboxExpired (shutdownTime passed under policy Retain). */
        EXPIRE
    }

    private final AtomicInteger nextIp = new AtomicInteger(5);

    public FakeAgentSandboxController(KubernetesClient client, String namespace) {
        super(client, namespace, SANDBOX, "fake-agent-sandbox-controller", Behavior.RUN);
        startWatching();
    }

    /** The Service name the fake reports for Sandbox {@code name}. */
    public String serviceFqdn(String name) {
        return name + "." + namespace + ".svc.cluster.local";
    }

    @Override
    protected void reconcile(String name, boolean deleted) {
        GenericKubernetesResource cr = deleted ? null : get(name);
        if (cr == null) {
            deletePod(name);
            return;
        }
        if (cr.getAdditionalProperties().get("status") instanceof Map<?, ?> status && !status.isEmpty()) {
            return;
        }
        switch (behaviorFor(name)) {
            case IGNORE -> {
            }
            case RUN -> {
                Map<String, Object> container = runPod(cr);
                patchStatus(name, status(name, "True", "DependenciesReady", "Pod is Ready; Service Exists"));
                Integer exitCode = exitCode(container);
                if (exitCode != null) {
                    terminatePod(name, exitCode);
                    patchStatus(name, status(name, "False", "DependenciesNotReady", "Pod is not Ready"));
                }
            }
            case SERVICE_ONLY -> patchStatus(name, status(name, "True", "DependenciesReady", "Service Exists"));
            case EXPIRE -> patchStatus(name, status(name, "False", "SandboxExpired", "Sandbox has expired"));
        }
    }

    private Map<String, Object> status(String name, String ready, String reason, String message) {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("replicas", 1);
        status.put("selector", NAME_LABEL + "=" + name);
        status.put("service", name);
        status.put("serviceFQDN", serviceFqdn(name));
        status.put("conditions", List.of(Map.of("type", "Ready", "status", ready, "reason", reason, "message", message,
            "lastTransitionTime", "2026-01-01T00:00:02Z")));
        return status;
    }

    /** Creates the pod, running with an IP, and returns the template's main container. */
    private Map<String, Object> runPod(GenericKubernetesResource cr) {
        String name = cr.getMetadata().getName();
        Map<String, Object> template = child(child(cr.getAdditionalProperties(), "spec"), "podTemplate");
        Map<String, String> labels = new LinkedHashMap<>(labelsOf(template));
        labels.put(NAME_LABEL, name);
        Map<String, Object> container = firstContainer(child(template, "spec"));
        String image = String.valueOf(container.getOrDefault("image", "unknown"));
        runPod(cr, name, labels, image, "10.1.0." + nextIp.getAndIncrement());
        return container;
    }
}
