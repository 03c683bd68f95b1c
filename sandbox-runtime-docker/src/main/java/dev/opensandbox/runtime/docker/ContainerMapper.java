package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ContainerConfig;
import dev.opensandbox.core.LabelJson;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.SandboxStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps what Docker reports about a container (a full inspect, or a list summary) to a
 * {@link Sandbox}. Pure functions, no Engine calls.
 */
final class ContainerMapper {

    private static final Logger LOG = LoggerFactory.getLogger(ContainerMapper.class);

    /** Ours: the image reference as requested, so that get/list report it and not a local tag (W13). */
    static final String IMAGE_LABEL = "opensandbox.io/image";
    /** Ours: the requested entrypoint as a compact JSON array. */
    static final String ENTRYPOINT_LABEL = "opensandbox.io/entrypoint";
    /** Ours: the network mode at create time, so endpoints do not follow today's config (W10). */
    static final String NETWORK_MODE_LABEL = "opensandbox.io/network-mode";

    /** Upstream's entrypoint wrapper; an adopted container reports its Cmd as the entrypoint. */
    static final String UPSTREAM_BOOTSTRAP = "/opt/opensandbox/bootstrap.sh";

    /** Label prefixes that are never user metadata (upstream's rule). */
    private static final List<String> NON_USER_PREFIXES = List.of(Labels.RESERVED_PREFIX, "org.opencontainers.image.",
        "com.docker.", "desktop.docker.");

    private static final Pattern EXITED_STATUS = Pattern.compile("^\\s*Exited\\s*\\((-?\\d+)\\)");

    private ContainerMapper() {
    }

    // ---------------------------------------------------------------- status

    /** The §7.1 state table, from a full inspect. */
    static SandboxStatus status(InspectContainerResponse.ContainerState state, Instant created) {
        if (state == null) {
            return unknown("unknown", created);
        }
        Instant started = PythonTime.parseDocker(state.getStartedAt()).orElse(created);
        Instant finished = PythonTime.parseDocker(state.getFinishedAt()).orElse(null);
        String status = lower(state.getStatus());
        // Docker sets Running while Restarting; the restart is the more telling fact.
        if (isTrue(state.getRestarting())) {
            return new SandboxStatus(SandboxState.RUNNING, "CONTAINER_RESTARTING", "Sandbox container is restarting.",
                started);
        }
        if (isTrue(state.getPaused())) {
            return paused(started);
        }
        if (isTrue(state.getRunning())) {
            return running(started);
        }
        if (status.equals("created") || status.equals("starting")) {
            return starting(created);
        }
        if (status.equals("exited") || status.equals("dead")) {
            Long exitCode = state.getExitCodeLong();
            return exited(exitCode == null ? 0 : exitCode, finished == null ? started : finished);
        }
        return unknown(status, finished == null ? started : finished);
    }

    /**
     * The §7.1 state table, from a list summary: {@code State} is the status word and the exit
     * code is read from the {@code Status} text ("Exited (3) 5 seconds ago"). Summaries carry no
     * transition time, so {@code lastTransitionAt} is the creation time.
     */
    static SandboxStatus status(String state, String statusText, Instant created) {
        String status = lower(state);
        switch (status) {
            case "running":
                return running(created);
            case "paused":
                return paused(created);
            case "restarting":
                return new SandboxStatus(SandboxState.RUNNING, "CONTAINER_RESTARTING", "Sandbox container is restarting.",
                    created);
            case "created":
            case "starting":
                return starting(created);
            case "exited":
            case "dead": {
                Matcher matcher = EXITED_STATUS.matcher(statusText == null ? "" : statusText);
                if (matcher.find()) {
                    return exited(Long.parseLong(matcher.group(1)), created);
                }
                return status.equals("dead")
                    ? new SandboxStatus(SandboxState.FAILED, "CONTAINER_EXITED_ERROR", "Sandbox container is dead.", created)
                    : exited(0, created);
            }
            default:
                return unknown(status, created);
        }
    }

    private static SandboxStatus running(Instant at) {
        return new SandboxStatus(SandboxState.RUNNING, "CONTAINER_RUNNING", "Sandbox container is running.", at);
    }

    private static SandboxStatus paused(Instant at) {
        return new SandboxStatus(SandboxState.PAUSED, "CONTAINER_PAUSED", "Sandbox container is paused.", at);
    }

    private static SandboxStatus starting(Instant at) {
        return new SandboxStatus(SandboxState.PENDING, "CONTAINER_STARTING", "Sandbox container is starting.", at);
    }

    private static SandboxStatus exited(long exitCode, Instant at) {
        if (exitCode == 0) {
            return new SandboxStatus(SandboxState.TERMINATED, "CONTAINER_EXITED", "Sandbox container exited successfully.",
                at);
        }
        return new SandboxStatus(SandboxState.FAILED, "CONTAINER_EXITED_ERROR",
            "Sandbox container exited with code " + exitCode + ".", at);
    }

    private static SandboxStatus unknown(String status, Instant at) {
        return new SandboxStatus(SandboxState.UNKNOWN, "CONTAINER_STATE_UNKNOWN",
            "Sandbox container is in state '" + status + "'.", at);
    }

    // ---------------------------------------------------------------- sandbox

    /** A sandbox from a full inspect; empty when the container carries no valid id label. */
    static Optional<Sandbox> fromInspect(InspectContainerResponse container, Map<String, String> imageLabels) {
        ContainerConfig config = container.getConfig();
        Map<String, String> labels = config == null || config.getLabels() == null ? Map.of() : config.getLabels();
        Instant created = PythonTime.parseDocker(container.getCreated()).orElse(Instant.EPOCH);
        List<String> fallbackEntrypoint = config == null ? List.of()
            : entrypointFromConfig(config.getEntrypoint(), config.getCmd());
        String fallbackImage = config == null ? null : config.getImage();
        return sandbox(labels, imageLabels, fallbackImage, fallbackEntrypoint, status(container.getState(), created), created);
    }

    /** A sandbox from a list summary, without any further Engine call (W13). */
    static Optional<Sandbox> fromSummary(Container container, Map<String, String> imageLabels) {
        Map<String, String> labels = container.getLabels() == null ? Map.of() : container.getLabels();
        Instant created = container.getCreated() == null ? Instant.EPOCH : Instant.ofEpochSecond(container.getCreated());
        return sandbox(labels, imageLabels, container.getImage(), entrypointFromCommand(container.getCommand()),
            status(container.getState(), container.getStatus(), created), created);
    }

    private static Optional<Sandbox> sandbox(Map<String, String> labels, Map<String, String> imageLabels,
                                             String fallbackImage, List<String> fallbackEntrypoint,
                                             SandboxStatus status, Instant created) {
        Optional<SandboxId> id = SandboxId.tryParse(labels.get(Labels.ID));
        if (id.isEmpty() || labels.containsKey(Labels.EGRESS_SIDECAR_FOR)) {
            return Optional.empty();
        }
        String snapshotId = blankToNull(labels.get(Labels.SNAPSHOT_ID));
        String image = snapshotId != null ? null : Optional.ofNullable(blankToNull(labels.get(IMAGE_LABEL))).orElse(fallbackImage);
        List<String> entrypoint = LabelJson.decode(labels.get(ENTRYPOINT_LABEL)).orElse(fallbackEntrypoint);
        return Optional.of(new Sandbox(id.get(), image, snapshotId, platform(labels), status,
            userMetadata(labels, imageLabels), entrypoint, expiresAt(id.get(), labels, created), created));
    }

    /**
     * User metadata: every label outside the reserved and tool prefixes that the image did not
     * bring with the same value (W12: image labels such as {@code maintainer} never leak in).
     */
    static Map<String, String> userMetadata(Map<String, String> labels, Map<String, String> imageLabels) {
        Map<String, String> metadata = new LinkedHashMap<>();
        labels.forEach((key, value) -> {
            boolean tool = NON_USER_PREFIXES.stream().anyMatch(key::startsWith);
            boolean fromImage = imageLabels != null && imageLabels.containsKey(key)
                && String.valueOf(imageLabels.get(key)).equals(value);
            if (!tool && !fromImage) {
                metadata.put(key, value == null ? "" : value);
            }
        });
        return metadata;
    }

    /**
     * The expiry recorded at create time: none for manual cleanup, else the label. An
     * unparseable label means "already due", as upstream's restore treats it, so that a broken
     * label never makes a sandbox immortal.
     */
    static Instant expiresAt(SandboxId id, Map<String, String> labels, Instant created) {
        if ("true".equalsIgnoreCase(String.valueOf(labels.get(Labels.MANUAL_CLEANUP)).trim())) {
            return null;
        }
        String raw = labels.get(Labels.EXPIRES_AT);
        if (raw == null) {
            return null;
        }
        Optional<Instant> parsed = PythonTime.parseIso(raw);
        if (parsed.isEmpty()) {
            LOG.warn("Sandbox {} has an unparseable {} label '{}'; treating it as due", id, Labels.EXPIRES_AT, raw);
        }
        return parsed.orElse(created);
    }

    private static Platform platform(Map<String, String> labels) {
        String os = blankToNull(labels.get(Labels.PLATFORM_OS));
        String arch = blankToNull(labels.get(Labels.PLATFORM_ARCH));
        return os == null || arch == null ? null : new Platform(os, arch);
    }

    /** Upstream wraps the user's command as Cmd behind its bootstrap entrypoint. */
    static List<String> entrypointFromConfig(String[] entrypoint, String[] cmd) {
        List<String> entry = entrypoint == null ? List.of() : Arrays.asList(entrypoint);
        List<String> command = cmd == null ? List.of() : Arrays.asList(cmd);
        if (entry.equals(List.of(UPSTREAM_BOOTSTRAP))) {
            return command;
        }
        List<String> all = new ArrayList<>(entry);
        all.addAll(command);
        return all;
    }

    /** Best effort for adopted containers in a summary, which only has the joined command line. */
    static List<String> entrypointFromCommand(String command) {
        if (command == null || command.isBlank()) {
            return List.of();
        }
        String trimmed = command.trim();
        if (trimmed.startsWith(UPSTREAM_BOOTSTRAP + " ")) {
            trimmed = trimmed.substring(UPSTREAM_BOOTSTRAP.length()).trim();
        }
        return List.of(trimmed.split("\\s+"));
    }

    private static String lower(String text) {
        return text == null ? "" : text.toLowerCase(Locale.ROOT);
    }

    private static boolean isTrue(Boolean value) {
        return Boolean.TRUE.equals(value);
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text;
    }
}
