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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Plays the OpenSandbox controller (and the kubelet) against the mock API server: for each
 * BatchSandbox it creates pod {@code <name>-0}, writes the {@code sandbox.opensandbox.io/endpoints}
 * annotation and then the status (in that order, as the real controller does), follows
 * {@code spec.pause} through Pausing/Paused and Resuming/Succeed, and lets a main container whose
 * command is {@code sh -c "exit N"} terminate with code N (the controller then falls back to
 * {@code Pending}, as with {@code restartPolicy: Never}). Per-sandbox behaviours simulate a
 * failing pod, a controller that never answers, or one that only publishes the IP.
 *
 * <p>Give it {@link MockCluster#controllerClient()} so that its requests are not mistaken for the runtime's.
 */
public final class FakeBatchSandboxController implements AutoCloseable {

    public static final String ENDPOINTS = "sandbox.opensandbox.io/endpoints";
    /** Written on pool-mode BatchSandboxes: the pool pods allocated to them. */
    public static final String ALLOC_STATUS = "sandbox.opensandbox.io/alloc-status";

    private static final ResourceDefinitionContext BATCH_SANDBOX = new ResourceDefinitionContext.Builder()
        .withGroup(MockCluster.GROUP).withVersion("v1alpha1").withKind("BatchSandbox").withPlural("batchsandboxes")
        .withNamespaced(true).build();
    private static final PatchContext MERGE = PatchContext.of(PatchType.JSON_MERGE);
    private static final Pattern EXIT = Pattern.compile("^exit (\\d+)$");

    /** What the controller does with a new BatchSandbox. */
    public enum Behavior {
        /** Pod running, IP published, phase Succeed. */
        RUN,
        /** Pod in CrashLoopBackOff: phase Failed with a PodFailed condition. */
        FAIL,
        /** Nothing at all (no controller running, or a stuck one). */
        IGNORE,
        /** Only the endpoints annotation, no status yet (upstream's transient "Allocated"). */
        PUBLISH_IP_ONLY,
        /** Runs, but a pause fails: back to Succeed with PauseFailed=True. */
        FAIL_PAUSE
    }

    private final KubernetesClient client;
    private final String namespace;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "fake-batchsandbox-controller");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, Behavior> behaviors = new ConcurrentHashMap<>();
    /** The pod of each BatchSandbox: {@code <name>-0}, or the pool pod allocated to it. */
    private final Map<String, String> podNames = new ConcurrentHashMap<>();
    private final AtomicInteger nextPoolPod = new AtomicInteger();
    private final AtomicInteger nextIp = new AtomicInteger(5);
    private volatile Behavior defaultBehavior = Behavior.RUN;
    private volatile String failureMessage = "1/1 observed pods failed; primary reason=ImagePullBackOff; sample pod=x-0";
    private final Watch watch;

    public FakeBatchSandboxController(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
        this.watch = client.genericKubernetesResources(BATCH_SANDBOX).inNamespace(namespace).watch(new Watcher<>() {
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

    /** The behaviour for BatchSandboxes without one of their own. */
    public FakeBatchSandboxController defaultBehavior(Behavior behavior) {
        this.defaultBehavior = behavior;
        return this;
    }

    /** The behaviour for the BatchSandbox named {@code name} (the sandbox id). */
    public FakeBatchSandboxController behave(String name, Behavior behavior) {
        behaviors.put(name, behavior);
        return this;
    }

    public FakeBatchSandboxController failureMessage(String message) {
        this.failureMessage = message;
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

    // ---------------------------------------------------------------- reconcile

    private void reconcile(String name, boolean deleted) {
        try {
            GenericKubernetesResource cr = deleted ? null
                : client.genericKubernetesResources(BATCH_SANDBOX).inNamespace(namespace).withName(name).get();
            if (cr == null) {
                client.pods().inNamespace(namespace).withName(podName(name)).withGracePeriod(0).delete();
                podNames.remove(name);
                return;
            }
            Behavior behavior = behaviors.getOrDefault(name, defaultBehavior);
            Map<String, Object> spec = child(cr.getAdditionalProperties(), "spec");
            String phase = (String) child(cr.getAdditionalProperties(), "status").get("phase");
            Object pause = spec.get("pause");
            // Like the real controller, act on a pause or resume request once per generation.
            Object observed = child(cr.getAdditionalProperties(), "status").get("pauseObservedGeneration");
            Long generation = cr.getMetadata().getGeneration();
            boolean newRequest = generation == null || observed == null || ((Number) observed).longValue() != generation;
            Map<String, String> annotations = cr.getMetadata().getAnnotations();
            boolean started = annotations != null && annotations.containsKey(ENDPOINTS);
            if (phase == null && !started) {
                start(cr, behavior);
            } else if ("Succeed".equals(phase) && Boolean.TRUE.equals(pause) && newRequest) {
                pause(cr, behavior);
            } else if ("Paused".equals(phase) && Boolean.FALSE.equals(pause) && newRequest) {
                resume(cr);
            }
        } catch (KubernetesClientException e) {
            // The sandbox was deleted while we acted on it: the next event tells.
        }
    }

    private void start(GenericKubernetesResource cr, Behavior behavior) {
        String name = cr.getMetadata().getName();
        switch (behavior) {
            case IGNORE -> {
            }
            case FAIL -> patchStatus(name, Map.of("phase", "Failed", "replicas", 1, "allocated", 1, "ready", 0,
                "conditions", List.of(Map.of("type", "PodFailed", "status", "True", "reason", "PodFailed",
                    "message", failureMessage, "lastTransitionTime", "2026-01-01T00:00:00Z"))));
            case PUBLISH_IP_ONLY -> {
                String ip = runPod(cr);
                annotateEndpoints(name, "[\"" + ip + "\"]");
            }
            case RUN, FAIL_PAUSE -> {
                String ip = runPod(cr);
                annotateEndpoints(name, "[\"" + ip + "\"]");
                patchStatus(name, running());
                Matcher exit = exitCommand(cr);
                if (exit != null) {
                    terminatePod(name, Integer.parseInt(exit.group(1)));
                    patchStatus(name, Map.of("phase", "Pending", "ready", 0));
                }
            }
        }
    }

    private void pause(GenericKubernetesResource cr, Behavior behavior) {
        String name = cr.getMetadata().getName();
        patchStatus(name, Map.of("phase", "Pausing", "pauseObservedGeneration", cr.getMetadata().getGeneration()));
        if (behavior == Behavior.FAIL_PAUSE) {
            Map<String, Object> status = new LinkedHashMap<>(running());
            status.put("conditions", List.of(Map.of("type", "PauseFailed", "status", "True", "reason", "CommitFailed",
                "message", "snapshot commit failed", "lastTransitionTime", "2026-01-01T00:00:00Z")));
            patchStatus(name, status);
            return;
        }
        client.pods().inNamespace(namespace).withName(name + "-0").withGracePeriod(0).delete();
        annotateEndpoints(name, "[]");
        patchStatus(name, Map.of("phase", "Paused", "ready", 0, "allocated", 0, "replicas", 0));
    }

    private void resume(GenericKubernetesResource cr) {
        String name = cr.getMetadata().getName();
        patchStatus(name, Map.of("phase", "Resuming", "pauseObservedGeneration", cr.getMetadata().getGeneration()));
        String ip = runPod(cr);
        annotateEndpoints(name, "[\"" + ip + "\"]");
        patchStatus(name, running());
    }

    private static Map<String, Object> running() {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("phase", "Succeed");
        status.put("replicas", 1);
        status.put("allocated", 1);
        status.put("ready", 1);
        for (String counter : List.of("taskRunning", "taskSucceed", "taskFailed", "taskPending", "taskUnknown")) {
            status.put(counter, 0);
        }
        return status;
    }

    /** The pod of the BatchSandbox {@code name}, as the fake created it. */
    public String podName(String name) {
        return podNames.getOrDefault(name, name + "-0");
    }

    /**
     * Creates (or recreates) pod {@code <name>-0} running, and returns its IP. In pool mode
     * ({@code spec.poolRef}, no template) it plays the Pool reconciler instead: a pod of the pool,
     * labelled by the pool and not by the sandbox, is allocated and named in {@code alloc-status}.
     */
    @SuppressWarnings("unchecked")
    private String runPod(GenericKubernetesResource cr) {
        String name = cr.getMetadata().getName();
        String ip = "10.0.0." + nextIp.getAndIncrement();
        Object poolRef = child(cr.getAdditionalProperties(), "spec").get("poolRef");
        Map<String, Object> template = child(child(cr.getAdditionalProperties(), "spec"), "template");
        Map<String, String> labels = new LinkedHashMap<>((Map<String, String>) (Map<?, ?>) child(template, "metadata")
            .getOrDefault("labels", Map.of()));
        String podName = name + "-0";
        if (poolRef != null) {
            podName = podNames.computeIfAbsent(name, n -> poolRef + "-" + nextPoolPod.getAndIncrement());
            labels.put("sandbox.opensandbox.io/pool-name", String.valueOf(poolRef));
            String patch = "{\"metadata\":{\"annotations\":{\"" + ALLOC_STATUS + "\":"
                + quote("{\"pods\":[\"" + podName + "\"]}") + "}}}";
            client.genericKubernetesResources(BATCH_SANDBOX).inNamespace(namespace).withName(name).patch(MERGE, patch);
        } else {
            labels.put("batch-sandbox.sandbox.opensandbox.io/pod-index", "0");
            labels.put("batch-sandbox.sandbox.opensandbox.io/name", name);
        }
        Map<String, Object> container = mainContainer(cr);
        Pod pod = new PodBuilder()
            .withNewMetadata().withName(podName).withNamespace(namespace).withLabels(labels)
            .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(MockCluster.GROUP + "/v1alpha1")
                .withKind("BatchSandbox").withName(name).withUid(cr.getMetadata().getUid()).withController(true).build())
            .endMetadata()
            .withNewSpec().addNewContainer().withName("sandbox").withImage((String) container.get("image")).endContainer()
            .endSpec()
            .withNewStatus().withPhase("Running").withPodIP(ip)
            .withContainerStatuses(new ContainerStatusBuilder().withName("sandbox").withReady(true)
                .withNewState().withNewRunning().withStartedAt("2026-01-01T00:00:00Z").endRunning().endState().build())
            .endStatus()
            .build();
        client.pods().inNamespace(namespace).withName(podName).withGracePeriod(0).delete();
        client.pods().inNamespace(namespace).resource(pod).create();
        return ip;
    }

    private void terminatePod(String name, int exitCode) {
        Pod pod = client.pods().inNamespace(namespace).withName(name + "-0").get();
        pod.getStatus().setPhase(exitCode == 0 ? "Succeeded" : "Failed");
        pod.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder().withName("sandbox").withReady(false)
            .withNewState().withNewTerminated().withExitCode(exitCode).withReason(exitCode == 0 ? "Completed" : "Error")
            .withFinishedAt("2026-01-01T00:00:01Z").endTerminated().endState().build()));
        client.pods().inNamespace(namespace).resource(pod).updateStatus();
    }

    private void annotateEndpoints(String name, String json) {
        String patch = "{\"metadata\":{\"annotations\":{\"" + ENDPOINTS + "\":" + quote(json) + "}}}";
        client.genericKubernetesResources(BATCH_SANDBOX).inNamespace(namespace).withName(name).patch(MERGE, patch);
    }

    private void patchStatus(String name, Map<String, Object> status) {
        String patch = client.getKubernetesSerialization().asJson(Map.of("status", status));
        client.genericKubernetesResources(BATCH_SANDBOX).inNamespace(namespace).withName(name).subresource("status")
            .patch(MERGE, patch);
    }

    private static Matcher exitCommand(GenericKubernetesResource cr) {
        Object command = mainContainer(cr).get("command");
        if (!(command instanceof List<?> list) || list.size() < 3) {
            return null;
        }
        List<String> argv = new ArrayList<>();
        list.forEach(element -> argv.add(String.valueOf(element)));
        if (argv.get(0).endsWith("bootstrap.sh")) {
            argv.remove(0);
        }
        if (argv.size() != 3 || !argv.get(0).equals("sh") || !argv.get(1).equals("-c")) {
            return null;
        }
        Matcher matcher = EXIT.matcher(argv.get(2).trim());
        return matcher.matches() ? matcher : null;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> mainContainer(GenericKubernetesResource cr) {
        Object containers = child(child(child(cr.getAdditionalProperties(), "spec"), "template"), "spec").get("containers");
        if (containers instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Map<?, ?> first) {
            return (Map<String, Object>) first;
        }
        return Map.of();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> child(Map<String, Object> parent, String key) {
        Object value = parent == null ? null : parent.get(key);
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    private static String quote(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
