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

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * What the fake controllers share: a watch on their custom resource whose events are reconciled
 * one at a time, in order, on a worker thread (so that {@link #drain()} can wait for them), a
 * behaviour per resource with a default, status written through the status subresource, and the
 * kubelet's part for the pods they run.
 *
 * @param <B> the behaviours a subclass can play
 */
public abstract class FakeController<B extends Enum<B>> implements AutoCloseable {

    protected static final PatchContext MERGE = PatchContext.of(PatchType.JSON_MERGE);

    protected final KubernetesClient client;
    protected final String namespace;
    private final ResourceDefinitionContext resource;
    private final ExecutorService worker;
    private final Map<String, B> behaviors = new ConcurrentHashMap<>();
    private volatile B defaultBehavior;
    private volatile Watch watch;

    protected FakeController(KubernetesClient client, String namespace, ResourceDefinitionContext resource,
                             String threadName, B defaultBehavior) {
        this.client = client;
        this.namespace = namespace;
        this.resource = resource;
        this.defaultBehavior = defaultBehavior;
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, threadName);
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Opens the watch. Subclasses call it last in their constructor, so that no event is
     * reconciled before their own fields are set.
     */
    protected final void startWatching() {
        watch = client.genericKubernetesResources(resource).inNamespace(namespace).watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, GenericKubernetesResource changed) {
                String name = changed.getMetadata().getName();
                worker.execute(() -> {
                    try {
                        reconcile(name, action == Action.DELETED);
                    } catch (KubernetesClientException e) {
                        // Deleted while we acted on it: the next event tells.
                    }
                });
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        });
    }

    /** Acts on a change to the resource {@code name}; {@code deleted} when the event was its deletion. */
    protected abstract void reconcile(String name, boolean deleted);

    /** The behaviour for resources without one of their own. */
    public void defaultBehavior(B behavior) {
        this.defaultBehavior = behavior;
    }

    /** The behaviour for the resources {@code key} names (what the key is, each controller says). */
    public void behave(String key, B behavior) {
        behaviors.put(key, behavior);
    }

    protected B behaviorFor(String key) {
        return behaviors.getOrDefault(key, defaultBehavior);
    }

    /** Waits until every event received so far has been handled. */
    public void drain() throws Exception {
        worker.submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
        worker.shutdownNow();
    }

    protected GenericKubernetesResource get(String name) {
        return client.genericKubernetesResources(resource).inNamespace(namespace).withName(name).get();
    }

    protected void patch(String name, String mergePatch) {
        client.genericKubernetesResources(resource).inNamespace(namespace).withName(name).patch(MERGE, mergePatch);
    }

    protected void patchStatus(String name, Map<String, Object> status) {
        String patch = client.getKubernetesSerialization().asJson(Map.of("status", status));
        client.genericKubernetesResources(resource).inNamespace(namespace).withName(name).subresource("status")
            .patch(MERGE, patch);
    }

    /**
     * Creates (or recreates) pod {@code podName}, owned by {@code owner}, with one container
     * {@code sandbox} running and ready at {@code ip}.
     */
    protected void runPod(GenericKubernetesResource owner, String podName, Map<String, String> labels, String image,
                          String ip) {
        Pod pod = new PodBuilder()
            .withNewMetadata().withName(podName).withNamespace(namespace).withLabels(labels)
            .withOwnerReferences(new OwnerReferenceBuilder()
                .withApiVersion(resource.getGroup() + "/" + resource.getVersion()).withKind(resource.getKind())
                .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid()).withController(true)
                .build())
            .endMetadata()
            .withNewSpec().addNewContainer().withName("sandbox").withImage(image).endContainer()
            .endSpec()
            .withNewStatus().withPhase("Running").withPodIP(ip)
            .withContainerStatuses(new ContainerStatusBuilder().withName("sandbox").withReady(true)
                .withNewState().withNewRunning().withStartedAt("2026-01-01T00:00:00Z").endRunning().endState().build())
            .endStatus()
            .build();
        client.pods().inNamespace(namespace).withName(podName).withGracePeriod(0).delete();
        client.pods().inNamespace(namespace).resource(pod).create();
    }

    /** Lets the container of pod {@code podName} exit with {@code exitCode}, as the kubelet reports it. */
    protected void terminatePod(String podName, int exitCode) {
        Pod pod = client.pods().inNamespace(namespace).withName(podName).get();
        pod.getStatus().setPhase(exitCode == 0 ? "Succeeded" : "Failed");
        pod.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder().withName("sandbox").withReady(false)
            .withNewState().withNewTerminated().withExitCode(exitCode).withReason(exitCode == 0 ? "Completed" : "Error")
            .withFinishedAt("2026-01-01T00:00:01Z").endTerminated().endState().build()));
        client.pods().inNamespace(namespace).resource(pod).updateStatus();
    }

    protected void deletePod(String podName) {
        client.pods().inNamespace(namespace).withName(podName).withGracePeriod(0).delete();
    }

    /** N for a container running {@code [bootstrap.sh] sh -c "exit N"}, else null. */
    protected static Integer exitCode(Map<String, Object> container) {
        if (!(container.get("command") instanceof List<?> list)) {
            return null;
        }
        List<String> argv = new ArrayList<>(list.stream().map(String::valueOf).toList());
        if (!argv.isEmpty() && argv.get(0).endsWith("bootstrap.sh")) {
            argv.remove(0);
        }
        if (argv.size() != 3 || !argv.get(0).equals("sh") || !argv.get(1).equals("-c")
            || !argv.get(2).trim().matches("exit \\d+")) {
            return null;
        }
        return Integer.parseInt(argv.get(2).trim().substring("exit ".length()));
    }

    /** The first container of a pod spec, or an empty map. */
    @SuppressWarnings("unchecked")
    protected static Map<String, Object> firstContainer(Map<String, Object> podSpec) {
        Object containers = podSpec.get("containers");
        if (containers instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Map<?, ?> first) {
            return (Map<String, Object>) first;
        }
        return Map.of();
    }

    @SuppressWarnings("unchecked")
    protected static Map<String, Object> child(Map<String, Object> parent, String key) {
        Object value = parent == null ? null : parent.get(key);
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    @SuppressWarnings("unchecked")
    protected static Map<String, String> labelsOf(Map<String, Object> template) {
        return (Map<String, String>) (Map<?, ?>) child(template, "metadata").getOrDefault("labels", Map.of());
    }
}
