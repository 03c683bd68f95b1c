package dev.opensandbox.server.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The whole server configuration: one immutable value, validated when built, injected where needed
 * (there is no global). Load it with {@link ConfigLoader}.
 *
 * <p>Cross-section rules: the Docker runtime forbids {@code [kubernetes]}, {@code [agent_sandbox]},
 * gateway ingress and the firecracker secure runtime; the Kubernetes runtime always has a {@code
 * [kubernetes]} section (defaults when absent); {@code [agent_sandbox]} exists exactly when the
 * Kubernetes workload provider is {@code agent-sandbox}.
 *
 * @param kubernetes present for the Kubernetes runtime; may be present for third-party runtimes
 * @param agentSandbox present exactly when {@code kubernetes.workload_provider = "agent-sandbox"}
 * @param rawTables the whole file as plain nested maps (tables are {@code Map<String, Object>} in
 *     file order, arrays are {@code List}, scalars are String, Long, Double, Boolean or a {@code
 *     java.time} value), unmodifiable, so runtime adapters can read their own sections
 * @param source the file this came from; empty for the embedded defaults
 */
public record ServerConfig(
        ServerSection server,
        LogSection log,
        RuntimeSection runtime,
        DockerSection docker,
        Optional<KubernetesSection> kubernetes,
        Optional<AgentSandboxSection> agentSandbox,
        IngressSection ingress,
        EgressSection egress,
        StorageSection storage,
        StoreSection store,
        SecureRuntimeSection secureRuntime,
        RenewIntentSection renewIntent,
        ExecdSection execd,
        DeploymentSection deployment,
        Map<String, Object> rawTables,
        Optional<Path> source) {

    public ServerConfig {
        Check.notNull("server", server);
        Check.notNull("log", log);
        Check.notNull("runtime", runtime);
        Check.notNull("docker", docker);
        Check.notNull("kubernetes", kubernetes);
        Check.notNull("agent_sandbox", agentSandbox);
        Check.notNull("ingress", ingress);
        Check.notNull("egress", egress);
        Check.notNull("storage", storage);
        Check.notNull("store", store);
        Check.notNull("secure_runtime", secureRuntime);
        Check.notNull("renew_intent", renewIntent);
        Check.notNull("execd", execd);
        Check.notNull("deployment", deployment);
        rawTables = immutableTable(Check.notNull("rawTables", rawTables));
        Check.notNull("source", source);
        checkCrossSection(runtime, kubernetes, agentSandbox, ingress, secureRuntime);
    }

    private static void checkCrossSection(RuntimeSection runtime, Optional<KubernetesSection> kubernetes,
            Optional<AgentSandboxSection> agentSandbox, IngressSection ingress, SecureRuntimeSection secureRuntime) {
        if (runtime.isDocker()) {
            if (kubernetes.isPresent()) {
                throw ConfigException.at("kubernetes", "the [kubernetes] section is not allowed with runtime.type = \"docker\"");
            }
            if (agentSandbox.isPresent()) {
                throw ConfigException.at("agent_sandbox",
                        "the [agent_sandbox] section is not allowed with runtime.type = \"docker\"");
            }
            if (ingress.isGateway()) {
                throw ConfigException.at("ingress.mode", "must be \"direct\" with runtime.type = \"docker\" (got \"gateway\")");
            }
            if (SecureRuntimeSection.FIRECRACKER.equals(secureRuntime.type())) {
                throw ConfigException.at("secure_runtime.type",
                        "\"firecracker\" is not supported with runtime.type = \"docker\"");
            }
        }
        if (runtime.isKubernetes() && kubernetes.isEmpty()) {
            throw ConfigException.at("kubernetes", "is required with runtime.type = \"kubernetes\"");
        }
        boolean agentProvider = kubernetes
                .map(k -> k.workloadProvider() == KubernetesSection.WorkloadProvider.AGENT_SANDBOX)
                .orElse(false);
        if (agentSandbox.isPresent() && !agentProvider) {
            throw ConfigException.at("agent_sandbox",
                    "the [agent_sandbox] section needs kubernetes.workload_provider = \"agent-sandbox\"");
        }
        if (agentProvider && agentSandbox.isEmpty()) {
            throw ConfigException.at("agent_sandbox", "is required with kubernetes.workload_provider = \"agent-sandbox\"");
        }
    }

    /** A copy whose {@code server.api_key} is replaced (blank or empty means no key). */
    public ServerConfig withApiKey(Optional<String> apiKey) {
        return new ServerConfig(server.withApiKey(apiKey), log, runtime, docker, kubernetes, agentSandbox, ingress,
                egress, storage, store, secureRuntime, renewIntent, execd, deployment, rawTables, source);
    }

    /** One raw section ({@code rawTables().get(name)}) as a map; empty when absent or not a table. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> rawSection(String name) {
        Object section = rawTables.get(name);
        return section instanceof Map ? (Map<String, Object>) section : Map.of();
    }

    /** Where this came from, for log lines: the file, or "embedded defaults". */
    public String describeSource() {
        return source.map(Path::toString).orElse("embedded defaults");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> immutableTable(Map<String, Object> table) {
        Map<String, Object> copy = new LinkedHashMap<>();
        table.forEach((k, v) -> copy.put(k, immutableValue(v)));
        return Collections.unmodifiableMap(copy);
    }

    @SuppressWarnings("unchecked")
    private static Object immutableValue(Object value) {
        if (value instanceof Map) {
            return immutableTable((Map<String, Object>) value);
        }
        if (value instanceof List) {
            return Collections.unmodifiableList(((List<Object>) value).stream()
                    .map(ServerConfig::immutableValue).collect(java.util.stream.Collectors.toList()));
        }
        return value;
    }
}
