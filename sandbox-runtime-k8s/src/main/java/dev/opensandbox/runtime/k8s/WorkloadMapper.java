package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.LabelJson;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.SandboxStatus;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Maps a BatchSandbox (and, when known, its pod) to a {@link Sandbox}: the status tables of
 * upstream's §3.1 plus what upstream gets wrong (a terminating CR is {@code Stopping}; an
 * exited main container is {@code Terminated}/{@code Failed} with its exit code, where upstream
 * shows {@code Pending}; {@code Allocated} is reported as {@code Running}). Pure functions.
 */
final class WorkloadMapper {

    private static final Logger LOG = LoggerFactory.getLogger(WorkloadMapper.class);

    /** The image reported for a sandbox whose CR names none (pool mode), as upstream. */
    static final String UNKNOWN_IMAGE = "unknown";

    static final String ALLOCATED_MESSAGE = "Pod has IP assigned and sandbox is ready for requests";

    private WorkloadMapper() {
    }

    /** The sandbox, or empty when the object carries no valid id label (logged). */
    static Optional<Sandbox> toSandbox(GenericKubernetesResource cr, Pod pod) {
        String idLabel = labels(cr).get(Labels.ID);
        Optional<SandboxId> id = SandboxId.tryParse(idLabel);
        if (id.isEmpty()) {
            LOG.warn("BatchSandbox {} has no valid {} label ('{}'); left out", cr.getMetadata().getName(), Labels.ID,
                idLabel);
            return Optional.empty();
        }
        Map<String, String> labels = labels(cr);
        String snapshotId = labels.get(Labels.SNAPSHOT_ID);
        Map<String, Object> container = mainContainer(cr);
        // Upstream's literal for a CR without a pod template: a pool-mode sandbox runs what its pool's template says.
        String image = snapshotId != null ? null : Optional.ofNullable(string(container.get("image"))).orElse(UNKNOWN_IMAGE);
        Instant created = createdAt(cr);
        return Optional.of(new Sandbox(id.get(), image, snapshotId, platform(cr), status(cr, pod), userMetadata(labels),
            entrypoint(container), expiresAt(cr), created));
    }

    // ---------------------------------------------------------------- status

    /** The status from the CR alone and, when given, the main container of its pod. */
    static SandboxStatus status(GenericKubernetesResource cr, Pod pod) {
        Instant since = lastTransition(cr);
        if (cr.getMetadata().getDeletionTimestamp() != null) {
            return new SandboxStatus(SandboxState.STOPPING, "TERMINATING", "Sandbox is being deleted",
                parseTime(cr.getMetadata().getDeletionTimestamp()).orElse(since));
        }
        Map<String, Object> status = child(cr.getAdditionalProperties(), "status");
        String phase = string(status.get("phase"));
        SandboxStatus fromCr = phase == null ? null : switch (phase) {
            case BatchSandboxes.PHASE_PENDING -> new SandboxStatus(SandboxState.PENDING, "CREATING",
                "Sandbox is being created", since);
            case BatchSandboxes.PHASE_SUCCEED, BatchSandboxes.PHASE_RUNNING -> new SandboxStatus(SandboxState.RUNNING,
                "RUNNING", "Sandbox is running", since);
            case BatchSandboxes.PHASE_PAUSING -> new SandboxStatus(SandboxState.PAUSING, "PAUSING", "Pausing sandbox",
                since);
            case BatchSandboxes.PHASE_PAUSED -> new SandboxStatus(SandboxState.PAUSED, "PAUSED", "Sandbox is paused",
                since);
            case BatchSandboxes.PHASE_RESUMING -> new SandboxStatus(SandboxState.RESUMING, "RESUMING",
                "Resuming sandbox", since);
            case BatchSandboxes.PHASE_FAILED -> new SandboxStatus(SandboxState.FAILED, "FAILED", failureMessage(cr),
                since);
            default -> null;
        };
        if (fromCr == null) {
            fromCr = fallbackStatus(cr, status, since);
        }
        return withExitedContainer(fromCr, pod);
    }

    /** No (known) phase yet: upstream's fallback on the endpoints annotation and the counters. */
    private static SandboxStatus fallbackStatus(GenericKubernetesResource cr, Map<String, Object> status, Instant since) {
        Optional<String> ip = podIp(cr);
        long ready = number(status.get("ready"));
        if (ready == 1 && ip.isPresent()) {
            long replicas = Math.max(1, number(status.get("replicas")));
            return new SandboxStatus(SandboxState.RUNNING, "POD_READY_WITH_IP",
                "Pod is ready with IP (" + ready + "/" + replicas + " ready)", since);
        }
        if (ip.isPresent()) {
            // Upstream's "Allocated": not a state of the API, reported as Running as the create response does.
            return new SandboxStatus(SandboxState.RUNNING, "IP_ASSIGNED", ALLOCATED_MESSAGE, since);
        }
        if (number(status.get("allocated")) > 0) {
            return new SandboxStatus(SandboxState.PENDING, "POD_SCHEDULED", "Pod is scheduled", since);
        }
        return new SandboxStatus(SandboxState.PENDING, "BATCHSANDBOX_PENDING", "BatchSandbox is pending", since);
    }

    /**
     * A main container that has exited ends the sandbox, whatever the controller's phase says
     * (with {@code restartPolicy: Never} it falls back to {@code Pending}).
     */
    static SandboxStatus withExitedContainer(SandboxStatus status, Pod pod) {
        if (pod == null || pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return status;
        }
        if (status.state() != SandboxState.PENDING && status.state() != SandboxState.RUNNING
            && status.state() != SandboxState.FAILED) {
            return status;
        }
        ContainerStateTerminated terminated = null;
        for (ContainerStatus container : pod.getStatus().getContainerStatuses()) {
            if (BatchSandboxes.MAIN_CONTAINER.equals(container.getName()) && container.getState() != null) {
                terminated = container.getState().getTerminated();
            }
        }
        if (terminated == null || terminated.getExitCode() == null) {
            return status;
        }
        Instant at = parseTime(terminated.getFinishedAt()).orElse(status.lastTransitionAt());
        int exitCode = terminated.getExitCode();
        if (status.state() == SandboxState.FAILED) {
            return status.withMessage(status.message() + " (container exited with code " + exitCode + ")");
        }
        if (exitCode == 0) {
            return new SandboxStatus(SandboxState.TERMINATED, "CONTAINER_EXITED", "Sandbox container exited successfully.",
                at);
        }
        return new SandboxStatus(SandboxState.FAILED, "CONTAINER_EXITED_ERROR",
            "Sandbox container exited with code " + exitCode + ".", at);
    }

    /** The first non-empty message of a True PodFailed, ResumeFailed, PauseFailed condition, in that order. */
    static String failureMessage(GenericKubernetesResource cr) {
        for (String type : List.of(BatchSandboxes.CONDITION_POD_FAILED, BatchSandboxes.CONDITION_RESUME_FAILED,
            BatchSandboxes.CONDITION_PAUSE_FAILED)) {
            String message = condition(cr, type).map(c -> string(c.get("message"))).orElse(null);
            if (message != null && !message.isBlank()) {
                return message;
            }
        }
        return "Operation failed";
    }

    /** A condition of {@code type} with status True. */
    static Optional<Map<String, Object>> condition(GenericKubernetesResource cr, String type) {
        for (Map<String, Object> condition : conditions(cr)) {
            if (type.equals(condition.get("type")) && "True".equalsIgnoreCase(string(condition.get("status")))) {
                return Optional.of(condition);
            }
        }
        return Optional.empty();
    }

    /** The latest condition change, else the creation time (upstream always uses the creation time). */
    private static Instant lastTransition(GenericKubernetesResource cr) {
        Instant latest = null;
        for (Map<String, Object> condition : conditions(cr)) {
            Optional<Instant> at = parseTime(string(condition.get("lastTransitionTime")));
            if (at.isPresent() && (latest == null || at.get().isAfter(latest))) {
                latest = at.get();
            }
        }
        return latest != null ? latest : createdAt(cr);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> conditions(GenericKubernetesResource cr) {
        Object conditions = child(cr.getAdditionalProperties(), "status").get("conditions");
        List<Map<String, Object>> result = new ArrayList<>();
        if (conditions instanceof List<?> list) {
            for (Object element : list) {
                if (element instanceof Map<?, ?> map) {
                    result.add((Map<String, Object>) map);
                }
            }
        }
        return result;
    }

    /** The BatchSandbox phase, or null. */
    static String phase(GenericKubernetesResource cr) {
        return string(child(cr.getAdditionalProperties(), "status").get("phase"));
    }

    // ---------------------------------------------------------------- endpoints

    /**
     * The first pod IP of the controller's endpoints annotation; empty when the annotation is
     * missing, not a JSON array of strings, empty, or its first entry is {@code ""}.
     */
    static Optional<String> podIp(GenericKubernetesResource cr) {
        Map<String, String> annotations = cr.getMetadata().getAnnotations();
        String json = annotations == null ? null : annotations.get(BatchSandboxes.ENDPOINTS_ANNOTATION);
        if (json == null) {
            return Optional.empty();
        }
        List<String> ips = LabelJson.decode(json).orElse(List.of());
        if (ips.isEmpty() || ips.get(0) == null || ips.get(0).isBlank()) {
            return Optional.empty();
        }
        return Optional.of(ips.get(0).trim());
    }

    // ---------------------------------------------------------------- fields

    static Map<String, String> labels(GenericKubernetesResource cr) {
        Map<String, String> labels = cr.getMetadata().getLabels();
        return labels == null ? Map.of() : labels;
    }

    /** Labels outside the reserved {@code opensandbox.io/} prefix; null values (a mock's merge-patch leftovers) dropped. */
    static Map<String, String> userMetadata(Map<String, String> labels) {
        Map<String, String> metadata = new LinkedHashMap<>();
        labels.forEach((key, value) -> {
            if (!Labels.isReserved(key) && value != null) {
                metadata.put(key, value);
            }
        });
        return metadata;
    }

    static Map<String, Object> mainContainer(GenericKubernetesResource cr) {
        return mainContainerOf(child(child(child(cr.getAdditionalProperties(), "spec"), "template"), "spec"));
    }

    /** The container named {@code sandbox} of a pod spec, else its first container, else an empty map. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> mainContainerOf(Map<String, Object> podSpec) {
        Object containers = podSpec.get("containers");
        if (!(containers instanceof List<?> list) || list.isEmpty()) {
            return Map.of();
        }
        for (Object element : list) {
            if (element instanceof Map<?, ?> map && BatchSandboxes.MAIN_CONTAINER.equals(map.get("name"))) {
                return (Map<String, Object>) map;
            }
        }
        return list.get(0) instanceof Map<?, ?> first ? (Map<String, Object>) first : Map.of();
    }

    /** The command as the client gave it: upstream's execd bootstrap wrapper is not part of it. */
    static List<String> entrypoint(Map<String, Object> container) {
        List<String> command = new ArrayList<>();
        if (container.get("command") instanceof List<?> list) {
            list.forEach(element -> command.add(String.valueOf(element)));
        }
        if (!command.isEmpty() && command.get(0).equals(BatchSandboxes.BOOTSTRAP)) {
            command.remove(0);
        }
        return command;
    }

    static Instant expiresAt(GenericKubernetesResource cr) {
        return parseTime(string(child(cr.getAdditionalProperties(), "spec").get("expireTime"))).orElse(null);
    }

    static boolean hasExpiry(GenericKubernetesResource cr) {
        return child(cr.getAdditionalProperties(), "spec").get("expireTime") != null;
    }

    static Instant createdAt(GenericKubernetesResource cr) {
        return parseTime(cr.getMetadata().getCreationTimestamp()).orElse(Instant.EPOCH);
    }

    @SuppressWarnings("unchecked")
    private static Platform platform(GenericKubernetesResource cr) {
        Map<String, Object> podSpec = child(child(child(cr.getAdditionalProperties(), "spec"), "template"), "spec");
        Map<String, Object> selector = child(podSpec, "nodeSelector");
        String os = string(selector.get("kubernetes.io/os"));
        String arch = string(selector.get("kubernetes.io/arch"));
        return os == null || arch == null ? null : new Platform(os, arch);
    }

    /** RFC 3339 with {@code Z} or an offset, with or without a fraction (Python writes {@code +00:00}). */
    static Optional<Instant> parseTime(String text) {
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(OffsetDateTime.parse(text.trim()).toInstant());
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> child(Map<String, Object> parent, String key) {
        Object value = parent == null ? null : parent.get(key);
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    private static String string(Object value) {
        return value == null ? null : String.valueOf(value);
    }

    private static long number(Object value) {
        if (value instanceof Number number) {
            return number.longValue();
        }
        return 0;
    }
}
