package dev.opensandbox.runtime.k8s.testing;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
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
public final class FakeAgentSandboxController implements AutoCloseable {

    /** The label the fake puts on a Sandbox's pod and names in {@code status.selector}. */
    public static final String NAME_LABEL = "agents.x-k8s.io/sandbox-name";

    public static final ResourceDefinitionContext SANDBOX = new ResourceDefinitionContext.Builder()
        .withGroup(MockCluster.AGENT_GROUP).withVersion("v1alpha1").withKind("Sandbox").withPlural("sandboxes")
        .withNamespaced(true).build();
    private static final PatchContext MERGE = PatchContext.of(PatchType.JSON_MERGE);

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

    private final KubernetesClient client;
    private final String namespace;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "fake-agent-sandbox-controller");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, Behavior> behaviors = new ConcurrentHashMap<>();
    private final AtomicInteger nextIp = new AtomicInteger(5);
    private volatile Behavior defaultBehavior = Behavior.RUN;
    private final Watch watch;

    public FakeAgentSandboxController(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
        this.watch = client.genericKubernetesResources(SANDBOX).inNamespace(namespace).watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, GenericKubernetesResource resource) {
                String name = resource.getMetadata().getName();
                worker.execute(() -> reconcile(name, action == Action.DELETED));
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        });
    }

    /** The behaviour for Sandboxes without one of their own. */
    public FakeAgentSandboxController defaultBehavior(Behavior behavior) {
        this.defaultBehavior = behavior;
        return this;
    }

    /** The behaviour for the Sandbox named {@code name}. */
    public FakeAgentSandboxController behave(String name, Behavior behavior) {
        behaviors.put(name, behavior);
        return this;
    }

    /** Waits until every event received so far has been handled. */
    public void drain() throws Exception {
        worker.submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    /** The Service name the fake reports for Sandbox {@code name}. */
    public String serviceFqdn(String name) {
        return name + "." + namespace + ".svc.cluster.local";
    }

    @Override
    public void close() {
        watch.close();
        worker.shutdownNow();
    }

    private void reconcile(String name, boolean deleted) {
        try {
            GenericKubernetesResource cr = deleted ? null
                : client.genericKubernetesResources(SANDBOX).inNamespace(namespace).withName(name).get();
            if (cr == null) {
                client.pods().inNamespace(namespace).withName(name).withGracePeriod(0).delete();
                return;
            }
            if (cr.getAdditionalProperties().get("status") instanceof Map<?, ?> status && !status.isEmpty()) {
                return;
            }
            switch (behaviors.getOrDefault(name, defaultBehavior)) {
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
        } catch (KubernetesClientException e) {
            // The Sandbox was deleted while we acted on it: the next event tells.
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
    @SuppressWarnings("unchecked")
    private Map<String, Object> runPod(GenericKubernetesResource cr) {
        String name = cr.getMetadata().getName();
        Map<String, Object> template = child(child(cr.getAdditionalProperties(), "spec"), "podTemplate");
        Map<String, String> labels = new LinkedHashMap<>((Map<String, String>) (Map<?, ?>) child(template, "metadata")
            .getOrDefault("labels", Map.of()));
        labels.put(NAME_LABEL, name);
        Object containers = child(template, "spec").get("containers");
        Map<String, Object> container = containers instanceof List<?> list && !list.isEmpty()
            && list.get(0) instanceof Map<?, ?> first ? (Map<String, Object>) first : Map.of();
        Object image = container.getOrDefault("image", "unknown");
        Pod pod = new PodBuilder()
            .withNewMetadata().withName(name).withNamespace(namespace).withLabels(labels)
            .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(MockCluster.AGENT_GROUP + "/v1alpha1")
                .withKind("Sandbox").withName(name).withUid(cr.getMetadata().getUid()).withController(true).build())
            .endMetadata()
            .withNewSpec().addNewContainer().withName("sandbox").withImage(String.valueOf(image)).endContainer()
            .endSpec()
            .withNewStatus().withPhase("Running").withPodIP("10.1.0." + nextIp.getAndIncrement())
            .withContainerStatuses(new ContainerStatusBuilder().withName("sandbox").withReady(true)
                .withNewState().withNewRunning().withStartedAt("2026-01-01T00:00:00Z").endRunning().endState().build())
            .endStatus()
            .build();
        client.pods().inNamespace(namespace).withName(name).withGracePeriod(0).delete();
        client.pods().inNamespace(namespace).resource(pod).create();
        return container;
    }

    /** N for a main container running {@code [bootstrap.sh] sh -c "exit N"}, else null. */
    private static Integer exitCode(Map<String, Object> container) {
        if (!(container.get("command") instanceof List<?> list)) {
            return null;
        }
        List<String> argv = new java.util.ArrayList<>(list.stream().map(String::valueOf).toList());
        if (!argv.isEmpty() && argv.get(0).endsWith("bootstrap.sh")) {
            argv.remove(0);
        }
        if (argv.size() != 3 || !argv.get(0).equals("sh") || !argv.get(1).equals("-c")
            || !argv.get(2).trim().matches("exit \\d+")) {
            return null;
        }
        return Integer.parseInt(argv.get(2).trim().substring("exit ".length()));
    }

    private void terminatePod(String name, int exitCode) {
        Pod pod = client.pods().inNamespace(namespace).withName(name).get();
        pod.getStatus().setPhase(exitCode == 0 ? "Succeeded" : "Failed");
        pod.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder().withName("sandbox").withReady(false)
            .withNewState().withNewTerminated().withExitCode(exitCode).withReason(exitCode == 0 ? "Completed" : "Error")
            .withFinishedAt("2026-01-01T00:00:01Z").endTerminated().endState().build()));
        client.pods().inNamespace(namespace).resource(pod).updateStatus();
    }

    private void patchStatus(String name, Map<String, Object> status) {
        String patch = client.getKubernetesSerialization().asJson(Map.of("status", status));
        client.genericKubernetesResources(SANDBOX).inNamespace(namespace).withName(name).subresource("status")
            .patch(MERGE, patch);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> child(Map<String, Object> parent, String key) {
        Object value = parent == null ? null : parent.get(key);
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }
}
