package dev.opensandbox.server.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * {@code [agent_sandbox]}: only with {@code kubernetes.workload_provider = "agent-sandbox"}, and then
 * filled with defaults when absent.
 *
 * @param templateFile Sandbox CR YAML template ({@code ~} expanded, must exist)
 * @param shutdownPolicy {@code Delete} (default) or {@code Retain}, written to the CR
 * @param ingressEnabled accepted for compatibility; upstream declares it and never reads it
 */
public record AgentSandboxSection(Optional<Path> templateFile, String shutdownPolicy, boolean ingressEnabled) {

    static final List<String> SHUTDOWN_POLICIES = List.of("Delete", "Retain");

    public AgentSandboxSection {
        Check.notNull("agent_sandbox.template_file", templateFile);
        Check.oneOf("agent_sandbox.shutdown_policy", shutdownPolicy, SHUTDOWN_POLICIES);
    }

    static AgentSandboxSection defaults() {
        return new AgentSandboxSection(Optional.empty(), "Delete", true);
    }
}
