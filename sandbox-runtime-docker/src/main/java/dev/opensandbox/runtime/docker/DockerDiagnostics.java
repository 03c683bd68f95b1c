package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.command.HealthState;
import com.github.dockerjava.api.command.HealthStateLog;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.ContainerConfig;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Ports;
import dev.opensandbox.core.Secrets;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The plain-text diagnostics of a sandbox container, from one inspect: the description (as
 * upstream's, with every label whose name marks a secret masked, where upstream printed the egress
 * token in clear, and every environment value masked unless its name is on the allow-list) and the
 * events synthesized from its state, as upstream does (the engine's event stream is not consulted).
 */
final class DockerDiagnostics {

    private static final String ZERO_TIME = "0001-01-01T00:00:00Z";

    private DockerDiagnostics() {
    }

    /** @param visibleEnv the environment variables whose values may show; every other value is masked */
    static String describe(InspectContainerResponse container, Set<String> visibleEnv) {
        StringBuilder out = new StringBuilder();
        String id = container.getId() == null ? "" : container.getId();
        out.append("Container: ").append(id, 0, Math.min(12, id.length())).append('\n');
        out.append("Name: ").append(strip(container.getName())).append('\n');
        ContainerConfig config = container.getConfig();
        out.append("Image: ").append(config == null ? "" : config.getImage()).append('\n');
        InspectContainerResponse.ContainerState state = container.getState();
        if (state != null) {
            out.append("State: ").append(state.getStatus())
                .append(" (running=").append(state.getRunning())
                .append(", paused=").append(state.getPaused())
                .append(", exit code ").append(state.getExitCodeLong()).append(")\n");
        }
        HostConfig host = container.getHostConfig();
        out.append("Resources: ");
        if (host == null) {
            out.append("(unknown)\n");
        } else {
            Long nanoCpus = host.getNanoCPUs();
            Long memory = host.getMemory();
            out.append("cpu ").append(nanoCpus == null || nanoCpus == 0 ? "unlimited" : (nanoCpus / 1e9) + " cores")
                .append(", memory ").append(memory == null || memory == 0 ? "unlimited" : (memory >> 20) + " MiB")
                .append('\n');
        }
        out.append("Networks:\n");
        Map<String, ContainerNetwork> networks = container.getNetworkSettings() == null ? null
            : container.getNetworkSettings().getNetworks();
        if (networks == null || networks.isEmpty()) {
            out.append("  (none)\n");
        } else {
            new TreeMap<>(networks).forEach((name, network) -> out.append("  ").append(name).append(": ")
                .append(blankAs(network.getIpAddress(), "(no address)")).append('\n'));
        }
        out.append("Ports:\n");
        Ports ports = container.getNetworkSettings() == null ? null : container.getNetworkSettings().getPorts();
        List<String> bound = new ArrayList<>();
        if (ports != null && ports.getBindings() != null) {
            for (Map.Entry<ExposedPort, Ports.Binding[]> entry : ports.getBindings().entrySet()) {
                if (entry.getValue() == null) {
                    continue;
                }
                for (Ports.Binding binding : entry.getValue()) {
                    bound.add(entry.getKey() + " -> " + blankAs(binding.getHostIp(), "0.0.0.0") + ":"
                        + binding.getHostPortSpec());
                }
            }
        }
        bound.sort(null);
        if (bound.isEmpty()) {
            out.append("  (not bound)\n");
        }
        bound.forEach(line -> out.append("  ").append(line).append('\n'));
        out.append("Labels:\n");
        Map<String, String> labels = config == null || config.getLabels() == null ? Map.of() : config.getLabels();
        if (labels.isEmpty()) {
            out.append("  (none)\n");
        }
        new TreeMap<>(labels).forEach((key, value) -> out.append("  ").append(key).append('=')
            .append(Secrets.mask(key, value)).append('\n'));
        out.append("Env:\n");
        String[] env = config == null ? null : config.getEnv();
        if (env == null || env.length == 0) {
            out.append("  (none)\n");
        } else {
            for (String entry : env) {
                int eq = entry.indexOf('=');
                String name = eq < 0 ? entry : entry.substring(0, eq);
                String value = eq < 0 ? "" : entry.substring(eq + 1);
                out.append("  ").append(name).append('=').append(Secrets.maskEnv(name, value, visibleEnv)).append('\n');
            }
        }
        return out.toString();
    }

    /** Created, started, finished (with the exit code), OOM kill, error and health checks, oldest first. */
    static List<String> events(InspectContainerResponse container, int limit) {
        List<String> events = new ArrayList<>();
        if (container.getCreated() != null) {
            events.add(container.getCreated() + " Created");
        }
        InspectContainerResponse.ContainerState state = container.getState();
        if (state != null) {
            if (isSet(state.getStartedAt())) {
                events.add(state.getStartedAt() + " Started");
            }
            if (!Boolean.TRUE.equals(state.getRunning()) && isSet(state.getFinishedAt())) {
                events.add(state.getFinishedAt() + " Finished (exit code " + state.getExitCodeLong() + ")");
            }
            if (Boolean.TRUE.equals(state.getOOMKilled())) {
                events.add(blankAs(state.getFinishedAt(), "") + " OOMKilled: the container ran out of memory");
            }
            if (state.getError() != null && !state.getError().isBlank()) {
                events.add(blankAs(state.getFinishedAt(), "") + " Error: " + state.getError());
            }
            HealthState health = state.getHealth();
            if (health != null && health.getLog() != null) {
                for (HealthStateLog check : health.getLog()) {
                    events.add(check.getStart() + " Health check exit " + check.getExitCodeLong() + ": "
                        + blankAs(check.getOutput(), "").strip());
                }
            }
        }
        return events.size() <= limit ? events : events.subList(events.size() - limit, events.size());
    }

    private static boolean isSet(String time) {
        return time != null && !time.isBlank() && !time.startsWith(ZERO_TIME.substring(0, 10));
    }

    private static String strip(String name) {
        return name == null ? "" : name.startsWith("/") ? name.substring(1) : name;
    }

    private static String blankAs(String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value;
    }
}
