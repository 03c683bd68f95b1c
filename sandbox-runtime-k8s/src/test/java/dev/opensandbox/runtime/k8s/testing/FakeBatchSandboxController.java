package dev.opensandbox.runtime.k8s.testing;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

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
public final class FakeBatchSandboxController extends FakeController<FakeBatchSandboxController.Behavior> {

    public static final String ENDPOINTS = "sandbox.opensandbox.io/endpoints";
    /** Written on pool-mode BatchSandboxes: the pool pods allocated to them. */
    public static final String ALLOC_STATUS = "sandbox.opensandbox.io/alloc-status";

    private static final ResourceDefinitionContext BATCH_SANDBOX = new ResourceDefinitionContext.Builder()
        .withGroup(MockCluster.GROUP).withVersion("v1alpha1").withKind("BatchSandbox").withPlural("batchsandboxes")
        .withNamespaced(true).build();

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

    /** The pod of each BatchSandbox: {@code <name>-0}, or the pool pod allocated to it. */
    private final Map<String, String> podNames = new ConcurrentHashMap<>();
    private final AtomicInteger nextPoolPod = new AtomicInteger();
    private final AtomicInteger nextIp = new AtomicInteger(5);
    private volatile String failureMessage = "1/1 observed pods failed; primary reason=ImagePullBackOff; sample pod=x-0";

    public FakeBatchSandboxController(KubernetesClient client, String namespace) {
        super(client, namespace, BATCH_SANDBOX, "fake-batchsandbox-controller", Behavior.RUN);
        startWatching();
    }

    /** The message of the PodFailed condition that {@link Behavior#FAIL} writes. */
    public void failureMessage(String message) {
        this.failureMessage = message;
    }

    // ---------------------------------------------------------------- reconcile

    @Override
    protected void reconcile(String name, boolean deleted) {
        GenericKubernetesResource cr = deleted ? null : get(name);
        if (cr == null) {
            deletePod(podName(name));
            podNames.remove(name);
            return;
        }
        Behavior behavior = behaviorFor(name);
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
                Integer exitCode = exitCode(mainContainer(cr));
                if (exitCode != null) {
                    terminatePod(name + "-0", exitCode);
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
        deletePod(name + "-0");
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
    private String runPod(GenericKubernetesResource cr) {
        String name = cr.getMetadata().getName();
        String ip = "10.0.0." + nextIp.getAndIncrement();
        Object poolRef = child(cr.getAdditionalProperties(), "spec").get("poolRef");
        Map<String, String> labels = new LinkedHashMap<>(labelsOf(child(child(cr.getAdditionalProperties(), "spec"),
            "template")));
        String podName = name + "-0";
        if (poolRef != null) {
            podName = podNames.computeIfAbsent(name, n -> poolRef + "-" + nextPoolPod.getAndIncrement());
            labels.put("sandbox.opensandbox.io/pool-name", String.valueOf(poolRef));
            String patch = "{\"metadata\":{\"annotations\":{\"" + ALLOC_STATUS + "\":"
                + quote("{\"pods\":[\"" + podName + "\"]}") + "}}}";
            patch(name, patch);
        } else {
            labels.put("batch-sandbox.sandbox.opensandbox.io/pod-index", "0");
            labels.put("batch-sandbox.sandbox.opensandbox.io/name", name);
        }
        runPod(cr, podName, labels, (String) mainContainer(cr).get("image"), ip);
        return ip;
    }

    private void annotateEndpoints(String name, String json) {
        patch(name, "{\"metadata\":{\"annotations\":{\"" + ENDPOINTS + "\":" + quote(json) + "}}}");
    }

    private static Map<String, Object> mainContainer(GenericKubernetesResource cr) {
        return firstContainer(child(child(child(cr.getAdditionalProperties(), "spec"), "template"), "spec"));
    }

    private static String quote(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
