package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.spi.RuntimeContext;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntimeProvider;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * Provides the Kubernetes runtime for {@code [runtime] type = "kubernetes"}, with the
 * BatchSandbox (default) or the agent-sandbox workload provider ({@code workload_provider}). Reads {@code [kubernetes]} (see {@link KubernetesRuntimeConfig})
 * and connects with, in order: {@code kubernetes.kubeconfig_path}, the first file of
 * {@code KUBECONFIG} from the context's environment, the in-cluster service account (when
 * {@code KUBERNETES_SERVICE_HOST} is set). One client is shared by every call of the runtime.
 * Configuration errors fail with {@code KUBERNETES::INITIALIZATION_ERROR} before anything is
 * contacted.
 */
public final class KubernetesRuntimeProvider implements SandboxRuntimeProvider {

    /** The value of {@code [runtime] type} that selects this provider. */
    public static final String TYPE = KubernetesSandboxRuntime.TYPE;

    static final Logger LOG = LoggerFactory.getLogger(KubernetesRuntimeProvider.class);

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public SandboxRuntime create(RuntimeContext context) {
        KubernetesRuntimeConfig config = KubernetesRuntimeConfig.from(context);
        Map<String, Object> template = loadTemplate(config);
        ApiRateLimits limits = ApiRateLimits.from(context.section("kubernetes"));
        KubernetesClient client = connect(config, context.environment(), limits);
        return new KubernetesSandboxRuntime(config, client, true, template, context.clock());
    }

    /**
     * Builds the runtime on a client the caller made and keeps (the runtime never closes it), for
     * embedders with their own client configuration and for tests against a mock API server. The
     * deployment is the config's ({@link KubernetesRuntimeConfig#withDeployment}; unscoped by default).
     */
    public SandboxRuntime create(KubernetesRuntimeConfig config, KubernetesClient client, Clock clock) {
        return new KubernetesSandboxRuntime(config, client, false, loadTemplate(config), clock);
    }

    /**
     * The operator's skeleton of the workload: a YAML (or JSON) mapping, loaded once, from
     * {@code [kubernetes] batchsandbox_template_file} or, with the agent-sandbox provider,
     * {@code [agent_sandbox] template_file}.
     */
    static Map<String, Object> loadTemplate(KubernetesRuntimeConfig config) {
        boolean agent = config.agentSandboxProvider();
        String file = agent ? config.agentSandbox().templateFile() : config.templateFile();
        String key = agent ? "agent_sandbox.template_file" : "kubernetes.batchsandbox_template_file";
        String kind = agent ? "Sandbox" : "BatchSandbox";
        if (file == null) {
            return Map.of();
        }
        Path path = Path.of(file);
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            throw KubernetesRuntimeConfig.invalid(key + " " + path
                + " cannot be read: " + e.getMessage());
        }
        Object parsed;
        try {
            parsed = new KubernetesSerialization().unmarshal(text, Object.class);
        } catch (RuntimeException e) {
            throw KubernetesRuntimeConfig.invalid(key + " " + path
                + " is not valid YAML: " + KubernetesErrors.describe(e));
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw KubernetesRuntimeConfig.invalid(key + " " + path
                + " must hold a YAML mapping (a " + kind + " skeleton).");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> template = (Map<String, Object>) map;
        return template;
    }

    static KubernetesClient connect(KubernetesRuntimeConfig config, Map<String, String> environment) {
        return connect(config, environment, null);
    }

    /** @param limits upstream's client-side rate limits, or null for none */
    static KubernetesClient connect(KubernetesRuntimeConfig config, Map<String, String> environment,
                                    ApiRateLimits limits) {
        Config clientConfig = clientConfig(config, environment);
        try {
            KubernetesClientBuilder builder = new KubernetesClientBuilder().withConfig(clientConfig);
            if (limits != null) {
                builder.withHttpClientBuilderConsumer(http -> http.addOrReplaceInterceptor(ApiRateLimits.NAME, limits));
            }
            return builder.build();
        } catch (RuntimeException e) {
            throw new UnavailableException(KubernetesErrors.INITIALIZATION_ERROR,
                "Failed to initialize the Kubernetes client: " + KubernetesErrors.describe(e), e);
        }
    }

    static Config clientConfig(KubernetesRuntimeConfig config, Map<String, String> environment) {
        String kubeconfig = config.kubeconfigPath();
        String source = "kubernetes.kubeconfig_path";
        if (kubeconfig == null) {
            kubeconfig = firstExisting(environment.get("KUBECONFIG"));
            source = "KUBECONFIG";
        }
        if (kubeconfig != null) {
            File file = new File(kubeconfig);
            if (!file.isFile()) {
                throw KubernetesRuntimeConfig.invalid(source + " names " + kubeconfig + ", which is not a readable file.");
            }
            try {
                return Config.fromKubeconfig(null, file);
            } catch (RuntimeException e) {
                throw KubernetesRuntimeConfig.invalid("the kubeconfig " + kubeconfig + " cannot be used: "
                    + KubernetesErrors.describe(e));
            }
        }
        String serviceHost = environment.get("KUBERNETES_SERVICE_HOST");
        if (serviceHost == null || serviceHost.isBlank()) {
            throw KubernetesRuntimeConfig.invalid("no kubernetes.kubeconfig_path, no KUBECONFIG, and not running in a "
                + "cluster (KUBERNETES_SERVICE_HOST is not set).");
        }
        // In a pod: fabric8 reads the service account token and CA (and refreshes the token).
        return Config.autoConfigure(null);
    }

    private static String firstExisting(String kubeconfigVariable) {
        if (kubeconfigVariable == null || kubeconfigVariable.isBlank()) {
            return null;
        }
        for (String candidate : kubeconfigVariable.split(File.pathSeparator)) {
            if (!candidate.isBlank() && new File(candidate).isFile()) {
                return candidate;
            }
        }
        return kubeconfigVariable.split(File.pathSeparator)[0];
    }
}
