package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.spi.Deployment;
import dev.opensandbox.core.spi.RuntimeContext;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The configuration of the Kubernetes runtime, read from {@code [kubernetes]} (plus
 * {@code [runtime] execd_image}, {@code [ingress]} and the context's deployment) with upstream's defaults.
 *
 * @param namespace            where every sandbox object lives; required (upstream has no default
 *                             and breaks later, this runtime refuses to start instead)
 * @param kubeconfigPath       {@code kubeconfig_path}, {@code ~} expanded; null to try {@code KUBECONFIG},
 *                             then the in-cluster service account
 * @param workloadProvider     {@code batchsandbox} (default) or {@code agent-sandbox}
 * @param templateFile         {@code batchsandbox_template_file}, {@code ~} expanded, or null
 * @param imagePullPolicy      of the main container (default {@code IfNotPresent})
 * @param createTimeout        how long create waits for the sandbox to run with a pod IP (default 60 s)
 * @param watchTimeout         the client-side lifetime of one watch of the cache (default 60 s); the
 *                             server is asked to end it at the same time
 * @param resyncPeriod         how often the cache relists everything (default 300 s), so that an
 *                             event lost by a watch is recovered
 * @param execdImage           {@code [runtime] execd_image}: when set, execd is injected by an init
 *                             container as upstream does; when null, the command runs as given
 * @param ingress              {@code [ingress]}: direct (the default; null means direct) or through the
 *                             OpenSandbox ingress gateway, with the key that signs routes
 * @param snapshotCreateTimeout {@code snapshot_create_timeout_seconds}: how long a snapshot commit waits for
 *                             the controller to report its SandboxSnapshot ready or failed (default 900 s)
 * @param volumeDefaultSize    {@code [storage] volume_default_size}: the size of an auto-created PVC whose
 *                             request names none (default {@code 1Gi})
 * @param agentSandbox         {@code [agent_sandbox]} and {@code [kubernetes] service_account}, used only by
 *                             the agent-sandbox provider
 * @param egress               {@code [egress]}: the sidecar of sandboxes with a network policy, or null (refused)
 * @param deployment           {@code [deployment]}, from the runtime context: the label stamped on every object
 *                             created and which objects this server sees ({@link Deployment}; null: unscoped)
 */
public record KubernetesRuntimeConfig(
        String namespace,
        String kubeconfigPath,
        String workloadProvider,
        String templateFile,
        String imagePullPolicy,
        Duration createTimeout,
        Duration watchTimeout,
        Duration resyncPeriod,
        String execdImage,
        IngressConfig ingress,
        Duration snapshotCreateTimeout,
        String volumeDefaultSize,
        AgentSandboxConfig agentSandbox,
        EgressPod.Settings egress,
        Deployment deployment) {

    /** The default workload provider: the OpenSandbox controller's BatchSandbox. */
    public static final String BATCHSANDBOX = "batchsandbox";
    /** kubernetes-sigs/agent-sandbox's {@code Sandbox} ({@code agents.x-k8s.io/v1alpha1}). */
    public static final String AGENT_SANDBOX = "agent-sandbox";

    public KubernetesRuntimeConfig {
        if (namespace == null || namespace.isBlank()) {
            throw invalid("kubernetes.namespace must be set: every sandbox object is created in that namespace.");
        }
        workloadProvider = workloadProvider == null ? BATCHSANDBOX : workloadProvider.toLowerCase(Locale.ROOT);
        if (!workloadProvider.equals(BATCHSANDBOX) && !workloadProvider.equals(AGENT_SANDBOX)) {
            throw invalid("kubernetes.workload_provider must be 'batchsandbox' or 'agent-sandbox', not '"
                + workloadProvider + "'.");
        }
        imagePullPolicy = imagePullPolicy == null || imagePullPolicy.isBlank() ? "IfNotPresent" : imagePullPolicy;
        requirePositive(createTimeout, "kubernetes.sandbox_create_timeout_seconds");
        requirePositive(watchTimeout, "kubernetes.informer_watch_timeout_seconds");
        requirePositive(resyncPeriod, "kubernetes.informer_resync_seconds");
        requirePositive(snapshotCreateTimeout, "kubernetes.snapshot_create_timeout_seconds");
        ingress = ingress == null ? IngressConfig.direct() : ingress;
        volumeDefaultSize = volumeDefaultSize == null || volumeDefaultSize.isBlank() ? "1Gi" : volumeDefaultSize;
        agentSandbox = agentSandbox == null ? AgentSandboxConfig.defaults() : agentSandbox;
        deployment = deployment == null ? Deployment.unscoped() : deployment;
    }

    /** Whether sandboxes are agent-sandbox {@code Sandbox} resources rather than BatchSandboxes. */
    public boolean agentSandboxProvider() {
        return workloadProvider.equals(AGENT_SANDBOX);
    }

    public KubernetesRuntimeConfig withWorkloadProvider(String provider) {
        return new KubernetesRuntimeConfig(namespace, kubeconfigPath, provider, templateFile, imagePullPolicy,
            createTimeout, watchTimeout, resyncPeriod, execdImage, ingress, snapshotCreateTimeout,
            volumeDefaultSize, agentSandbox, egress, deployment);
    }

    public KubernetesRuntimeConfig withAgentSandbox(AgentSandboxConfig settings) {
        return new KubernetesRuntimeConfig(namespace, kubeconfigPath, AGENT_SANDBOX, templateFile, imagePullPolicy,
            createTimeout, watchTimeout, resyncPeriod, execdImage, ingress, snapshotCreateTimeout,
            volumeDefaultSize, settings, egress, deployment);
    }

    /**
     * {@code [agent_sandbox]}: the Sandbox skeleton merged under every Sandbox, what the agent-sandbox
     * controller does at {@code shutdownTime}, and the pods' service account.
     *
     * @param templateFile   {@code template_file}, {@code ~} expanded, or null
     * @param shutdownPolicy {@code shutdown_policy}: {@code Delete} (default: the Sandbox goes at expiry) or
     *                       {@code Retain} (kept, reported Terminated)
     * @param serviceAccount {@code [kubernetes] service_account} for the sandbox pods, or null
     */
    public record AgentSandboxConfig(String templateFile, String shutdownPolicy, String serviceAccount) {

        public AgentSandboxConfig {
            shutdownPolicy = shutdownPolicy == null || shutdownPolicy.isBlank() ? "Delete" : shutdownPolicy;
            if (!shutdownPolicy.equals("Delete") && !shutdownPolicy.equals("Retain")) {
                throw invalid("agent_sandbox.shutdown_policy must be 'Delete' or 'Retain', not '" + shutdownPolicy
                    + "'.");
            }
        }

        public static AgentSandboxConfig defaults() {
            return new AgentSandboxConfig(null, "Delete", null);
        }

        static AgentSandboxConfig from(Map<String, Object> section, String serviceAccount, String home) {
            return new AgentSandboxConfig(expandHome(string(section, "template_file", null), home),
                string(section, "shutdown_policy", "Delete"), serviceAccount);
        }
    }

    /** A configuration with upstream's defaults for {@code namespace}, for embedders and tests. */
    public static KubernetesRuntimeConfig defaults(String namespace) {
        return new KubernetesRuntimeConfig(namespace, null, BATCHSANDBOX, null, null, Duration.ofSeconds(60),
            Duration.ofSeconds(60), Duration.ofSeconds(300), null, IngressConfig.direct(), Duration.ofSeconds(900),
            "1Gi", AgentSandboxConfig.defaults(), null, Deployment.unscoped());
    }

    /** A copy whose sandboxes with a {@code networkPolicy} get the egress sidecar {@code settings} (null: refused). */
    public KubernetesRuntimeConfig withEgress(EgressPod.Settings settings) {
        return new KubernetesRuntimeConfig(namespace, kubeconfigPath, workloadProvider, templateFile, imagePullPolicy,
            createTimeout, watchTimeout, resyncPeriod, execdImage, ingress, snapshotCreateTimeout, volumeDefaultSize,
            agentSandbox, settings, deployment);
    }

    /**
     * A copy whose runtime labels what it creates with {@code newDeployment}'s id and sees only the
     * objects it owns (see {@link Deployment}).
     */
    public KubernetesRuntimeConfig withDeployment(Deployment newDeployment) {
        return new KubernetesRuntimeConfig(namespace, kubeconfigPath, workloadProvider, templateFile, imagePullPolicy,
            createTimeout, watchTimeout, resyncPeriod, execdImage, ingress, snapshotCreateTimeout, volumeDefaultSize,
            agentSandbox, egress, newDeployment);
    }

    public KubernetesRuntimeConfig withCreateTimeout(Duration timeout) {
        return new KubernetesRuntimeConfig(namespace, kubeconfigPath, workloadProvider, templateFile, imagePullPolicy,
            timeout, watchTimeout, resyncPeriod, execdImage, ingress, snapshotCreateTimeout,
            volumeDefaultSize, agentSandbox, egress, deployment);
    }

    public KubernetesRuntimeConfig withWatch(Duration newWatchTimeout, Duration newResyncPeriod) {
        return new KubernetesRuntimeConfig(namespace, kubeconfigPath, workloadProvider, templateFile, imagePullPolicy,
            createTimeout, newWatchTimeout, newResyncPeriod, execdImage, ingress, snapshotCreateTimeout,
            volumeDefaultSize, agentSandbox, egress, deployment);
    }

    public KubernetesRuntimeConfig withExecdImage(String image) {
        return new KubernetesRuntimeConfig(namespace, kubeconfigPath, workloadProvider, templateFile, imagePullPolicy,
            createTimeout, watchTimeout, resyncPeriod, image, ingress, snapshotCreateTimeout,
            volumeDefaultSize, agentSandbox, egress, deployment);
    }

    public KubernetesRuntimeConfig withTemplateFile(String path) {
        return new KubernetesRuntimeConfig(namespace, kubeconfigPath, workloadProvider, path, imagePullPolicy,
            createTimeout, watchTimeout, resyncPeriod, execdImage, ingress, snapshotCreateTimeout,
            volumeDefaultSize, agentSandbox, egress, deployment);
    }

    public KubernetesRuntimeConfig withSnapshotCreateTimeout(Duration timeout) {
        return new KubernetesRuntimeConfig(namespace, kubeconfigPath, workloadProvider, templateFile, imagePullPolicy,
            createTimeout, watchTimeout, resyncPeriod, execdImage, ingress, timeout,
            volumeDefaultSize, agentSandbox, egress, deployment);
    }

    public KubernetesRuntimeConfig withIngress(IngressConfig newIngress) {
        return new KubernetesRuntimeConfig(namespace, kubeconfigPath, workloadProvider, templateFile, imagePullPolicy,
            createTimeout, watchTimeout, resyncPeriod, execdImage, newIngress, snapshotCreateTimeout,
            volumeDefaultSize, agentSandbox, egress, deployment);
    }

    /**
     * Reads {@code [kubernetes]}, {@code [runtime]} and {@code [ingress]} (direct or gateway mode,
     * with {@code [ingress.secure_access]}'s active key). Refuses what it cannot use rather than
     * ignoring it.
     */
    static KubernetesRuntimeConfig from(RuntimeContext context) {
        Map<String, Object> k8s = context.section("kubernetes");
        String home = context.environment().get("HOME");
        if (!bool(k8s, "informer_enabled", true)) {
            // Reads, and the create wait, are driven by the watch cache; turning it off is not offered.
            KubernetesRuntimeProvider.LOG.warn("kubernetes.informer_enabled = false is ignored: this runtime always "
                + "reads through its watch cache");
        }
        return new KubernetesRuntimeConfig(
            string(k8s, "namespace", null),
            expandHome(string(k8s, "kubeconfig_path", null), home),
            string(k8s, "workload_provider", BATCHSANDBOX),
            expandHome(string(k8s, "batchsandbox_template_file", null), home),
            string(k8s, "image_pull_policy", "IfNotPresent"),
            seconds(k8s, "sandbox_create_timeout_seconds", 60),
            seconds(k8s, "informer_watch_timeout_seconds", 60),
            seconds(k8s, "informer_resync_seconds", 300),
            string(context.section("runtime"), "execd_image", null),
            IngressConfig.from(context.section("ingress")),
            seconds(k8s, "snapshot_create_timeout_seconds", 900),
            string(context.section("storage"), "volume_default_size", "1Gi"),
            AgentSandboxConfig.from(context.section("agent_sandbox"), string(k8s, "service_account", null), home),
            EgressPod.settingsFrom(context.section("egress")),
            context.deployment());
    }

    static String expandHome(String path, String home) {
        if (path == null || home == null) {
            return path;
        }
        if (path.equals("~")) {
            return home;
        }
        return path.startsWith("~/") ? home + path.substring(1) : path;
    }

    private static String string(Map<String, Object> section, String key, String fallback) {
        Object value = section.get(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof String text)) {
            throw invalid(key + " must be a string.");
        }
        return text.isBlank() ? fallback : text;
    }

    private static Boolean bool(Map<String, Object> section, String key, boolean fallback) {
        Object value = section.get(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Boolean flag)) {
            throw invalid("kubernetes." + key + " must be true or false.");
        }
        return flag;
    }

    private static Duration seconds(Map<String, Object> section, String key, long fallback) {
        Object value = section.get(key);
        if (value == null) {
            return Duration.ofSeconds(fallback);
        }
        if (value instanceof Long whole) {
            return Duration.ofSeconds(whole);
        }
        if (value instanceof Double fraction) {
            return Duration.ofMillis(Math.round(fraction * 1000));
        }
        throw invalid("kubernetes." + key + " must be a number of seconds.");
    }

    private static void requirePositive(Duration value, String key) {
        Objects.requireNonNull(value, key);
        if (value.isZero() || value.isNegative()) {
            throw invalid(key + " must be at least 1.");
        }
    }

    static UnavailableException invalid(String message) {
        return new UnavailableException(KubernetesErrors.INITIALIZATION_ERROR,
            "Invalid Kubernetes runtime configuration: " + message);
    }
}
