package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.Extensions;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.ProvisionRequest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the agent-sandbox {@code Sandbox} of one sandbox (upstream's §2.9): the pod spec of
 * {@link BatchSandboxManifest} (execd injection, env, resources, volumes, platform, egress) without
 * {@code imagePullPolicy} and with {@code [kubernetes] service_account}, the sandbox labels on the CR
 * and the pod template, annotations (tokens, extensions) on the CR only, {@code shutdownPolicy} from
 * {@code [agent_sandbox]} and {@code shutdownTime} for the expiry. Pure functions over plain maps.
 */
final class AgentSandboxManifest {

    private AgentSandboxManifest() {
    }

    /**
     * What this provider cannot do, as 400s: registry credentials (no image pull Secret is made for a
     * Sandbox) and pool mode (upstream ignores {@code poolRef} here and then fails for want of an image).
     */
    static void validate(SandboxSpec spec) {
        if (spec.image() != null && spec.image().auth() != null) {
            throw invalid("image.auth is not supported by the agent-sandbox workload provider.");
        }
        String poolRef = spec.extensions().get(Extensions.POOL_REF);
        if (poolRef != null && !poolRef.isBlank()) {
            throw invalid("extensions.poolRef is not supported by the agent-sandbox workload provider.");
        }
    }

    /**
     * The Sandbox for {@code request}, merged over {@code template} ({@code [agent_sandbox] template_file},
     * may be empty) with the rules of {@link TemplateMerge}; {@code spec.replicas} and
     * {@code spec.shutdownTime} always come from the request. With a {@code networkPolicy} the pod gets the
     * egress sidecar and the CR the {@code egressToken} annotation.
     */
    static Map<String, Object> build(ProvisionRequest request, KubernetesRuntimeConfig config,
                                     Map<String, Object> template, String egressToken) {
        Map<String, String> labels = BatchSandboxManifest.labels(request, config);
        Map<String, String> annotations = new LinkedHashMap<>(BatchSandboxManifest.annotations(request.spec()));
        boolean egress = request.spec().networkPolicy() != null && config.egress() != null && egressToken != null;
        if (egress) {
            annotations.put(Labels.EGRESS_AUTH_TOKEN, egressToken);
        }
        if (request.accessToken() != null) {
            annotations.put(BatchSandboxes.SECURE_ACCESS_TOKEN_ANNOTATION, request.accessToken());
        }
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("name", AgentSandboxes.name(request.id()));
        metadata.put("namespace", config.namespace());
        metadata.put("labels", labels);
        if (!annotations.isEmpty()) {
            metadata.put("annotations", annotations);
        }

        Map<String, Object> pod = BatchSandboxManifest.podSpec(request, config);
        withoutPullPolicy(pod);
        String serviceAccount = config.agentSandbox().serviceAccount();
        if (serviceAccount != null && !serviceAccount.isBlank()) {
            pod.put("serviceAccountName", serviceAccount);
        }
        if (egress) {
            EgressPod.apply(pod, config.egress(), request.spec().networkPolicy(), request.spec().credentialProxy(),
                egressToken, request.image().uri());
        }
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("replicas", 1);
        spec.put("shutdownPolicy", config.agentSandbox().shutdownPolicy());
        // Labels only: upstream keeps the tokens off the pods of a Sandbox.
        spec.put("podTemplate", BatchSandboxManifest.map("metadata", BatchSandboxManifest.map("labels",
            new LinkedHashMap<>(labels)), "spec", pod));

        return BatchSandboxManifest.mergeOver(template, AgentSandboxes.API_VERSION, AgentSandboxes.KIND, metadata, spec,
            AgentSandboxes.SHUTDOWN_TIME, request);
    }

    /** Upstream's agent-sandbox pods leave the pull policy to the cluster's default. */
    @SuppressWarnings("unchecked")
    private static void withoutPullPolicy(Map<String, Object> pod) {
        List<Map<String, Object>> containers = new ArrayList<>();
        for (Map<String, Object> container : (List<Map<String, Object>>) pod.get("containers")) {
            Map<String, Object> copy = new LinkedHashMap<>(container);
            copy.remove("imagePullPolicy");
            containers.add(copy);
        }
        pod.put("containers", containers);
    }

    private static InvalidRequestException invalid(String message) {
        return new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, message);
    }
}
