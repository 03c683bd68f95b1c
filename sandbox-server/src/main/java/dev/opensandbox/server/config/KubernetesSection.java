package dev.opensandbox.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code [kubernetes]}: settings of the Kubernetes runtime. Filled with defaults when the runtime is
 * {@code kubernetes} and the section is absent; forbidden with the Docker runtime.
 *
 * @param kubeconfigPath the kubeconfig to use, already resolved: {@code kubeconfig_path} ({@code ~}
 *     expanded), else the first entry of {@code $KUBECONFIG}, else empty for in-cluster configuration
 * @param kubeconfigOrigin where {@link #kubeconfigPath} came from
 * @param namespace namespace for workloads
 * @param serviceAccount service account (agent-sandbox provider only)
 * @param workloadProvider {@code batchsandbox} (default) or {@code agent-sandbox}, case-insensitive
 * @param batchsandboxTemplateFile base BatchSandbox manifest ({@code ~} expanded, must exist)
 * @param imagePullPolicy {@code Always}, {@code IfNotPresent} (default) or {@code Never}
 * @param sandboxCreateTimeout wait for the Pod to run with an IP (≥ 1 s, default 60 s)
 * @param sandboxCreatePollInterval poll interval (&gt; 0, default 1 s)
 * @param snapshotCreateTimeout wait for a public snapshot (≥ 1 s, default 900 s)
 * @param informerEnabled informer/watch cache for reads (default true)
 * @param informerResync full resync period (≥ 1 s, default 300 s)
 * @param informerWatchTimeout watch restart interval (≥ 1 s, default 60 s)
 * @param readQps get/list rate (≥ 0, 0 = unlimited)
 * @param readBurst get/list burst (≥ 0, 0 = qps, at least 1)
 * @param writeQps create/delete/patch rate (≥ 0, 0 = unlimited)
 * @param writeBurst create/delete/patch burst (≥ 0)
 * @param execdInitResources resources of the execd init container
 */
public record KubernetesSection(
        Optional<Path> kubeconfigPath,
        KubeconfigOrigin kubeconfigOrigin,
        Optional<String> namespace,
        Optional<String> serviceAccount,
        WorkloadProvider workloadProvider,
        Optional<Path> batchsandboxTemplateFile,
        String imagePullPolicy,
        Duration sandboxCreateTimeout,
        Duration sandboxCreatePollInterval,
        Duration snapshotCreateTimeout,
        boolean informerEnabled,
        Duration informerResync,
        Duration informerWatchTimeout,
        double readQps,
        int readBurst,
        double writeQps,
        int writeBurst,
        Optional<ResourceRequirements> execdInitResources) {

    static final List<String> PULL_POLICIES = List.of("Always", "IfNotPresent", "Never");

    /** Where the kubeconfig came from. */
    public enum KubeconfigOrigin {
        /** {@code kubernetes.kubeconfig_path}. */
        CONFIG_FILE,
        /** The {@code KUBECONFIG} environment variable (upstream ignores it). */
        KUBECONFIG_ENV,
        /** No kubeconfig: the in-cluster service account. */
        IN_CLUSTER
    }

    /** Workload CRD provider. */
    public enum WorkloadProvider {
        BATCHSANDBOX("batchsandbox"),
        AGENT_SANDBOX("agent-sandbox");

        private final String configName;

        WorkloadProvider(String configName) {
            this.configName = configName;
        }

        /** The name written in the config file. */
        public String configName() {
            return configName;
        }
    }

    /** Kubernetes resource limits and requests (quantity strings by resource name). */
    public record ResourceRequirements(Map<String, String> limits, Map<String, String> requests) {
        public ResourceRequirements {
            limits = Check.stringMap("kubernetes.execd_init_resources.limits", limits);
            requests = Check.stringMap("kubernetes.execd_init_resources.requests", requests);
        }
    }

    public KubernetesSection {
        Check.notNull("kubernetes.kubeconfig_path", kubeconfigPath);
        Check.notNull("kubernetes.kubeconfig_path", kubeconfigOrigin);
        if (kubeconfigPath.isPresent() == (kubeconfigOrigin == KubeconfigOrigin.IN_CLUSTER)) {
            throw ConfigException.at("kubernetes.kubeconfig_path",
                    "a path is needed exactly when the origin is not in-cluster (got " + kubeconfigOrigin + ")");
        }
        Check.notNull("kubernetes.namespace", namespace);
        Check.notNull("kubernetes.service_account", serviceAccount);
        Check.notNull("kubernetes.workload_provider", workloadProvider);
        Check.notNull("kubernetes.batchsandbox_template_file", batchsandboxTemplateFile);
        Check.oneOf("kubernetes.image_pull_policy", imagePullPolicy, PULL_POLICIES);
        Check.seconds("kubernetes.sandbox_create_timeout_seconds", sandboxCreateTimeout, 1);
        Check.notNull("kubernetes.sandbox_create_poll_interval_seconds", sandboxCreatePollInterval);
        if (sandboxCreatePollInterval.isZero() || sandboxCreatePollInterval.isNegative()) {
            throw ConfigException.at("kubernetes.sandbox_create_poll_interval_seconds",
                    "must be greater than 0 (got " + sandboxCreatePollInterval.toNanos() / 1e9 + ")");
        }
        Check.seconds("kubernetes.snapshot_create_timeout_seconds", snapshotCreateTimeout, 1);
        Check.seconds("kubernetes.informer_resync_seconds", informerResync, 1);
        Check.seconds("kubernetes.informer_watch_timeout_seconds", informerWatchTimeout, 1);
        Check.atLeast("kubernetes.read_qps", readQps, 0.0);
        Check.atLeast("kubernetes.read_burst", readBurst, 0);
        Check.atLeast("kubernetes.write_qps", writeQps, 0.0);
        Check.atLeast("kubernetes.write_burst", writeBurst, 0);
        Check.notNull("kubernetes.execd_init_resources", execdInitResources);
    }

    /** Defaults, with the kubeconfig resolved from {@code $KUBECONFIG} or in-cluster. */
    static KubernetesSection defaults(Optional<Path> kubeconfigFromEnv) {
        return new KubernetesSection(kubeconfigFromEnv,
                kubeconfigFromEnv.isPresent() ? KubeconfigOrigin.KUBECONFIG_ENV : KubeconfigOrigin.IN_CLUSTER,
                Optional.empty(), Optional.empty(), WorkloadProvider.BATCHSANDBOX, Optional.empty(), "IfNotPresent",
                Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofSeconds(900), true, Duration.ofSeconds(300),
                Duration.ofSeconds(60), 0.0, 0, 0.0, 0, Optional.empty());
    }
}
