package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.Labels;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.SandboxStatus;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Maps an agent-sandbox {@code Sandbox} (and, when known, its pod) to a {@link Sandbox}: upstream's
 * §3.2 status table on the {@code Ready} condition, with the pod as the fallback before the
 * controller has written one, and §4's direct endpoint (a running pod's IP, else the Sandbox's
 * Service). Better than upstream: a terminating Sandbox is {@code Stopping}, and the fallback reads
 * the pod from the runtime's watch cache instead of listing pods on every read. Pure functions.
 */
final class AgentSandboxMapper {

    private static final Logger LOG = LoggerFactory.getLogger(AgentSandboxMapper.class);

    private AgentSandboxMapper() {
    }

    /** The sandbox, or empty when the object carries no valid id label (logged). */
    static Optional<Sandbox> toSandbox(GenericKubernetesResource cr, Pod pod) {
        Map<String, String> labels = WorkloadMapper.labels(cr);
        Optional<SandboxId> id = SandboxId.tryParse(labels.get(Labels.ID));
        if (id.isEmpty()) {
            LOG.warn("Sandbox {} has no valid {} label ('{}'); left out", cr.getMetadata().getName(), Labels.ID,
                labels.get(Labels.ID));
            return Optional.empty();
        }
        String snapshotId = labels.get(Labels.SNAPSHOT_ID);
        Map<String, Object> container = mainContainer(cr);
        Object image = container.get("image");
        String uri = snapshotId != null ? null : image == null ? WorkloadMapper.UNKNOWN_IMAGE : String.valueOf(image);
        return Optional.of(new Sandbox(id.get(), uri, snapshotId, platform(cr), status(cr, pod),
            WorkloadMapper.userMetadata(labels), WorkloadMapper.entrypoint(container), expiresAt(cr),
            WorkloadMapper.createdAt(cr)));
    }

    // ---------------------------------------------------------------- status

    /**
     * The status from the Sandbox's {@code Ready} condition, else from {@code pod} (may be null); a main
     * container that has exited ends the sandbox whatever the condition says, as for BatchSandboxes.
     */
    static SandboxStatus status(GenericKubernetesResource cr, Pod pod) {
        SandboxStatus status = workloadStatus(cr, pod);
        return status.state() == SandboxState.STOPPING ? status : WorkloadMapper.withExitedContainer(status, pod);
    }

    private static SandboxStatus workloadStatus(GenericKubernetesResource cr, Pod pod) {
        Instant created = WorkloadMapper.createdAt(cr);
        if (cr.getMetadata().getDeletionTimestamp() != null) {
            return new SandboxStatus(SandboxState.STOPPING, "TERMINATING", "Sandbox is being deleted",
                WorkloadMapper.parseTime(cr.getMetadata().getDeletionTimestamp()).orElse(created));
        }
        Optional<Map<String, Object>> ready = readyCondition(cr);
        if (ready.isPresent()) {
            Map<String, Object> condition = ready.get();
            String reason = string(condition.get("reason"));
            String message = string(condition.get("message"));
            Instant since = WorkloadMapper.parseTime(string(condition.get("lastTransitionTime"))).orElse(created);
            if ("True".equalsIgnoreCase(string(condition.get("status")))) {
                return new SandboxStatus(SandboxState.RUNNING, orElse(reason, "READY"), orElse(message,
                    "Sandbox is ready"), since);
            }
            if (AgentSandboxes.REASON_EXPIRED.equals(reason)) {
                return new SandboxStatus(SandboxState.TERMINATED, reason, orElse(message, "Sandbox has expired"), since);
            }
            if (platformUnschedulable(reason, message)) {
                return new SandboxStatus(SandboxState.FAILED, "POD_PLATFORM_UNSCHEDULABLE", message, since);
            }
            return new SandboxStatus(SandboxState.PENDING, orElse(reason, "SANDBOX_PENDING"),
                orElse(message, "Sandbox is pending"), since);
        }
        return podStatus(pod, created);
    }

    /** No Ready condition yet: what the pod says (upstream lists the pods by {@code status.selector}). */
    private static SandboxStatus podStatus(Pod pod, Instant since) {
        if (pod == null) {
            return new SandboxStatus(SandboxState.PENDING, "SANDBOX_PENDING", "Sandbox is pending", since);
        }
        if (pod.getStatus() == null) {
            return new SandboxStatus(SandboxState.PENDING, "POD_PENDING", "Pod is pending", since);
        }
        if (pod.getStatus().getConditions() != null) {
            for (PodCondition condition : pod.getStatus().getConditions()) {
                if ("PodScheduled".equals(condition.getType()) && "False".equals(condition.getStatus())
                    && platformUnschedulable(condition.getReason(), condition.getMessage())) {
                    return new SandboxStatus(SandboxState.FAILED, "POD_PLATFORM_UNSCHEDULABLE", condition.getMessage(),
                        since);
                }
            }
        }
        String ip = pod.getStatus().getPodIP();
        if (ip != null && !ip.isBlank()) {
            if ("Running".equals(pod.getStatus().getPhase())) {
                return new SandboxStatus(SandboxState.RUNNING, "POD_READY", "Pod is running with IP " + ip, since);
            }
            return new SandboxStatus(SandboxState.RUNNING, "IP_ASSIGNED", WorkloadMapper.ALLOCATED_MESSAGE, since);
        }
        return new SandboxStatus(SandboxState.PENDING, "POD_SCHEDULED", "Pod is scheduled", since);
    }

    /**
     * The scheduler refused the pod for its os/arch constraint (a 400 on create, not a wait):
     * an unschedulable reason whose message names {@code kubernetes.io/os} or {@code kubernetes.io/arch}
     * and no capacity shortage.
     */
    static boolean platformUnschedulable(String reason, String message) {
        if (reason == null || message == null) {
            return false;
        }
        String why = reason.toLowerCase(Locale.ROOT);
        if (!why.contains("unschedulable") && !reason.equals("FailedScheduling")) {
            return false;
        }
        String text = message.toLowerCase(Locale.ROOT);
        for (String capacity : List.of("insufficient", "too many pods", "preemption")) {
            if (text.contains(capacity)) {
                return false;
            }
        }
        return text.contains("kubernetes.io/os") || text.contains("kubernetes.io/arch");
    }

    @SuppressWarnings("unchecked")
    private static Optional<Map<String, Object>> readyCondition(GenericKubernetesResource cr) {
        Object conditions = WorkloadMapper.child(cr.getAdditionalProperties(), "status").get("conditions");
        if (conditions instanceof List<?> list) {
            for (Object element : list) {
                if (element instanceof Map<?, ?> map && AgentSandboxes.CONDITION_READY.equals(map.get("type"))) {
                    return Optional.of((Map<String, Object>) map);
                }
            }
        }
        return Optional.empty();
    }

    // ---------------------------------------------------------------- endpoints

    /** {@code status.selector}: the label selector of the Sandbox's pods, or null before the controller wrote it. */
    static String selector(GenericKubernetesResource cr) {
        String selector = string(WorkloadMapper.child(cr.getAdditionalProperties(), "status").get("selector"));
        return selector == null || selector.isBlank() ? null : selector;
    }

    /**
     * The direct-mode host of the sandbox: the IP of the first Running pod of {@code pods} (listed by
     * {@link #selector}) that has one, else {@code status.serviceFQDN}; empty when neither.
     */
    static Optional<String> directHost(GenericKubernetesResource cr, List<Pod> pods) {
        for (Pod pod : pods) {
            if (pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase())
                && pod.getStatus().getPodIP() != null && !pod.getStatus().getPodIP().isBlank()) {
                return Optional.of(pod.getStatus().getPodIP());
            }
        }
        String fqdn = string(WorkloadMapper.child(cr.getAdditionalProperties(), "status").get("serviceFQDN"));
        return fqdn == null || fqdn.isBlank() ? Optional.empty() : Optional.of(fqdn);
    }

    // ---------------------------------------------------------------- fields

    static boolean hasExpiry(GenericKubernetesResource cr) {
        return WorkloadMapper.child(cr.getAdditionalProperties(), "spec").get(AgentSandboxes.SHUTDOWN_TIME) != null;
    }

    static Instant expiresAt(GenericKubernetesResource cr) {
        return WorkloadMapper.parseTime(string(WorkloadMapper.child(cr.getAdditionalProperties(), "spec")
            .get(AgentSandboxes.SHUTDOWN_TIME))).orElse(null);
    }

    private static Map<String, Object> podSpec(GenericKubernetesResource cr) {
        return WorkloadMapper.child(WorkloadMapper.child(WorkloadMapper.child(cr.getAdditionalProperties(), "spec"),
            "podTemplate"), "spec");
    }

    private static Map<String, Object> mainContainer(GenericKubernetesResource cr) {
        return WorkloadMapper.mainContainerOf(podSpec(cr));
    }

    private static Platform platform(GenericKubernetesResource cr) {
        Map<String, Object> selector = WorkloadMapper.child(podSpec(cr), "nodeSelector");
        String os = string(selector.get("kubernetes.io/os"));
        String arch = string(selector.get("kubernetes.io/arch"));
        return os == null || arch == null ? null : new Platform(os, arch);
    }

    private static String orElse(String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value;
    }

    private static String string(Object value) {
        return value == null ? null : String.valueOf(value);
    }
}
