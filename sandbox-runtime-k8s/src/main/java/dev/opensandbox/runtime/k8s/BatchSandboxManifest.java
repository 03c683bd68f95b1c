package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.Extensions;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.RegistryAuth;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.ProvisionRequest;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the bodies the runtime sends: the BatchSandbox of one sandbox (template mode) and the
 * image-pull Secret. Pure functions over plain maps, so that tests can compare exact shapes.
 */
final class BatchSandboxManifest {

    private BatchSandboxManifest() {
    }

    /**
     * The BatchSandbox for {@code request}, merged over {@code template} (may be empty) with the
     * rules of {@link TemplateMerge}; {@code spec.replicas} and {@code spec.expireTime} always come
     * from the request.
     */
    static Map<String, Object> build(ProvisionRequest request, KubernetesRuntimeConfig config,
                                     Map<String, Object> template) {
        return build(request, config, template, null);
    }

    /**
     * As {@link #build(ProvisionRequest, KubernetesRuntimeConfig, Map)}; with a {@code networkPolicy}
     * the pod gets the egress sidecar of {@link EgressPod} and the CR and pod the {@code egressToken}
     * annotation.
     */
    static Map<String, Object> build(ProvisionRequest request, KubernetesRuntimeConfig config,
                                     Map<String, Object> template, String egressToken) {
        if (request.poolRef() != null) {
            return buildFromPool(request, config);
        }
        Map<String, String> labels = labels(request, config);
        Map<String, String> annotations = new LinkedHashMap<>(annotations(request.spec()));
        boolean egress = request.spec().networkPolicy() != null && config.egress() != null && egressToken != null;
        if (egress) {
            annotations.put(dev.opensandbox.core.Labels.EGRESS_AUTH_TOKEN, egressToken);
        }
        Map<String, Object> metadata = crMetadata(request, config, labels, annotations);

        Map<String, Object> podMetadata = new LinkedHashMap<>();
        podMetadata.put("labels", labels);
        podMetadata.put("annotations", annotations);

        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("replicas", 1);
        Map<String, Object> pod = podSpec(request, config);
        if (egress) {
            EgressPod.apply(pod, config.egress(), request.spec().networkPolicy(), request.spec().credentialProxy(),
                egressToken, request.image().uri());
        }
        spec.put("template", map("metadata", podMetadata, "spec", pod));

        return mergeOver(template, BatchSandboxes.API_VERSION, BatchSandboxes.KIND, metadata, spec, "expireTime",
            request);
    }

    /**
     * The resource built by the runtime merged over the operator's {@code template}, then
     * {@code spec.replicas} and the expiry field forced back: neither may come from the template
     * (one pod per sandbox, and the expiry the client asked for).
     */
    static Map<String, Object> mergeOver(Map<String, Object> template, String apiVersion, String kind,
                                         Map<String, Object> metadata, Map<String, Object> spec, String expiryField,
                                         ProvisionRequest request) {
        Map<String, Object> runtime = new LinkedHashMap<>();
        runtime.put("apiVersion", apiVersion);
        runtime.put("kind", kind);
        runtime.put("metadata", metadata);
        runtime.put("spec", spec);

        Map<String, Object> merged = TemplateMerge.merge(template, runtime);
        @SuppressWarnings("unchecked")
        Map<String, Object> mergedSpec = (Map<String, Object>) merged.get("spec");
        mergedSpec.put("replicas", 1);
        mergedSpec.remove(expiryField);
        if (request.expiresAt() != null) {
            mergedSpec.put(expiryField, formatTime(request.expiresAt()));
        }
        return merged;
    }

    /**
     * Pool mode: a BatchSandbox that names the pool and carries no pod template (the Pool
     * reconciler ignores BatchSandboxes with one), so neither the template file nor the image,
     * resources or registry credentials of the request apply. {@code spec.taskTemplate} is added
     * only when there is something to run in the allocated pod: env, or an entrypoint other than
     * the pool pods' default {@code tail -f /dev/null}. The task-executor in the pool's pods runs
     * it in the background behind execd's bootstrap, exactly as upstream sends it.
     */
    static Map<String, Object> buildFromPool(ProvisionRequest request, KubernetesRuntimeConfig config) {
        Map<String, Object> metadata = crMetadata(request, config, labels(request, config), annotations(request.spec()));
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("replicas", 1);
        spec.put("poolRef", request.poolRef());
        if (request.expiresAt() != null) {
            spec.put("expireTime", formatTime(request.expiresAt()));
        }
        List<String> entrypoint = request.entrypoint() == null ? POOL_DEFAULT_ENTRYPOINT : request.entrypoint();
        if (!request.spec().env().isEmpty() || !entrypoint.equals(POOL_DEFAULT_ENTRYPOINT)) {
            StringBuilder script = new StringBuilder(BatchSandboxes.BOOTSTRAP);
            entrypoint.forEach(arg -> script.append(' ').append(shellQuote(arg)));
            script.append(" &");
            Map<String, Object> process = new LinkedHashMap<>();
            process.put("command", List.of("/bin/sh", "-c", script.toString()));
            process.put("env", env(request));
            spec.put("taskTemplate", map("spec", map("process", process)));
        }
        Map<String, Object> cr = new LinkedHashMap<>();
        cr.put("apiVersion", BatchSandboxes.API_VERSION);
        cr.put("kind", BatchSandboxes.KIND);
        cr.put("metadata", metadata);
        cr.put("spec", spec);
        return cr;
    }

    /** What pool pods run when the request names no entrypoint; no task is sent for it. */
    static final List<String> POOL_DEFAULT_ENTRYPOINT = List.of("tail", "-f", "/dev/null");

    /** Name, namespace, labels and (when any) the annotations of the CR, the secure-access token included. */
    private static Map<String, Object> crMetadata(ProvisionRequest request, KubernetesRuntimeConfig config,
                                                  Map<String, String> labels, Map<String, String> annotations) {
        Map<String, String> crAnnotations = new LinkedHashMap<>(annotations);
        if (request.accessToken() != null) {
            crAnnotations.put(BatchSandboxes.SECURE_ACCESS_TOKEN_ANNOTATION, request.accessToken());
        }
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("name", BatchSandboxes.name(request.id()));
        metadata.put("namespace", config.namespace());
        metadata.put("labels", labels);
        if (!crAnnotations.isEmpty()) {
            metadata.put("annotations", crAnnotations);
        }
        return metadata;
    }

    /** The request env as {@code [{name, value}]} in insertion order. */
    private static List<Map<String, Object>> env(ProvisionRequest request) {
        List<Map<String, Object>> env = new ArrayList<>();
        request.spec().env().forEach((name, value) -> env.add(map("name", name, "value", value)));
        return env;
    }

    /** POSIX shell quoting as Python's {@code shlex.quote}: safe words as they are, else single-quoted. */
    static String shellQuote(String word) {
        if (word.isEmpty()) {
            return "''";
        }
        if (word.chars().allMatch(c -> c < 128 && (Character.isLetterOrDigit(c) || "@%+=:,./-_".indexOf(c) >= 0))) {
            return word;
        }
        return "'" + word.replace("'", "'\"'\"'") + "'";
    }

    /** RFC 3339 in UTC with {@code Z}, at most microseconds (what the controller's metav1.Time keeps). */
    static String formatTime(Instant instant) {
        return DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.MICROS));
    }

    /**
     * The labels of the workload and of its pods: the sandbox id, the deployment's label when scoped
     * (so that each server lists, watches and selects only its own), upstream's markers, user metadata.
     */
    static Map<String, String> labels(ProvisionRequest request, KubernetesRuntimeConfig config) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Labels.ID, request.id().toString());
        labels.putAll(config.deployment().labels());
        if (request.expiresAt() == null) {
            labels.put(Labels.MANUAL_CLEANUP, "true");
        }
        String snapshotId = request.spec().snapshotId();
        if (snapshotId != null && !snapshotId.isBlank()) {
            labels.put(Labels.SNAPSHOT_ID, snapshotId);
        }
        labels.putAll(request.spec().metadata());
        return labels;
    }

    static Map<String, String> annotations(SandboxSpec spec) {
        Map<String, String> annotations = new LinkedHashMap<>();
        String extend = spec.extensions().get(Extensions.ACCESS_RENEW_EXTEND_SECONDS);
        if (extend != null && !extend.isBlank()) {
            annotations.put(Labels.ACCESS_RENEW_EXTEND_SECONDS, extend.trim());
        }
        spec.extensions().forEach((key, value) -> {
            if (key.startsWith(Extensions.ANNOTATION_PREFIX) && value != null) {
                annotations.put(BatchSandboxes.EXTENSION_ANNOTATION_PREFIX
                    + key.substring(Extensions.ANNOTATION_PREFIX.length()), value);
            }
        });
        return annotations;
    }

    static Map<String, Object> podSpec(ProvisionRequest request, KubernetesRuntimeConfig config) {
        boolean injectExecd = config.execdImage() != null;
        Map<String, Object> container = new LinkedHashMap<>();
        container.put("name", BatchSandboxes.MAIN_CONTAINER);
        container.put("image", request.image().uri());
        container.put("imagePullPolicy", config.imagePullPolicy());
        List<String> command = new ArrayList<>();
        if (injectExecd) {
            command.add(BatchSandboxes.BOOTSTRAP);
        }
        command.addAll(request.entrypoint());
        container.put("command", command);
        List<Map<String, Object>> env = env(request);
        if (injectExecd) {
            env.add(map("name", "EXECD", "value", BatchSandboxes.EXECD_BINARY));
        }
        if (!env.isEmpty()) {
            container.put("env", env);
        }
        Map<String, String> resources = resources(request.limits().raw());
        if (!resources.isEmpty()) {
            container.put("resources", map("limits", resources, "requests", new LinkedHashMap<>(resources)));
        }

        Map<String, Object> pod = new LinkedHashMap<>();
        List<Map<String, Object>> mounts = new ArrayList<>();
        List<Map<String, Object>> volumes = new ArrayList<>();
        if (injectExecd) {
            Map<String, Object> mount = map("name", BatchSandboxes.EXECD_VOLUME, "mountPath", BatchSandboxes.EXECD_DIR);
            mounts.add(mount);
            volumes.add(map("name", BatchSandboxes.EXECD_VOLUME, "emptyDir", new LinkedHashMap<>()));
            Map<String, Object> installer = new LinkedHashMap<>();
            installer.put("name", BatchSandboxes.EXECD_INSTALLER);
            installer.put("image", config.execdImage());
            installer.put("command", List.of("/bin/sh", "-c"));
            installer.put("args", List.of(BatchSandboxes.EXECD_INSTALL_SCRIPT));
            installer.put("volumeMounts", List.of(new LinkedHashMap<>(mount)));
            pod.put("initContainers", List.of(installer));
        }
        mounts.addAll(Pvcs.mounts(request.spec().volumes()));
        volumes.addAll(Pvcs.podVolumes(request.spec().volumes()));
        if (!mounts.isEmpty()) {
            container.put("volumeMounts", mounts);
        }
        pod.put("containers", List.of(container));
        if (!volumes.isEmpty()) {
            pod.put("volumes", volumes);
        }
        if (request.image().auth() != null) {
            pod.put("imagePullSecrets", List.of(map("name", BatchSandboxes.imagePullSecretName(request.id()))));
        }
        Platform platform = request.spec().platform();
        if (platform != null) {
            Map<String, String> selector = new LinkedHashMap<>();
            selector.put("kubernetes.io/os", platform.os());
            selector.put("kubernetes.io/arch", platform.arch());
            pod.put("nodeSelector", selector);
        }
        return pod;
    }

    /**
     * The limits map as Kubernetes resources, used for both limits and requests: {@code gpu}
     * becomes {@code nvidia.com/gpu}, other keys pass through.
     *
     * @throws InvalidRequestException for {@code gpu = "all"} or a GPU count that is not positive
     */
    static Map<String, String> resources(Map<String, String> raw) {
        Map<String, String> resources = new LinkedHashMap<>();
        raw.forEach((key, value) -> {
            if (key.equals("gpu")) {
                resources.put(BatchSandboxes.GPU_RESOURCE, String.valueOf(gpuCount(value)));
            } else {
                resources.put(key, value);
            }
        });
        return resources;
    }

    private static int gpuCount(String value) {
        String trimmed = value == null ? "" : value.trim();
        if (trimmed.equalsIgnoreCase("all")) {
            throw new InvalidRequestException(ErrorCodes.INVALID_PARAMETER,
                "resourceLimits.gpu 'all' is not supported on Kubernetes: request a number of GPUs.");
        }
        try {
            int count = Integer.parseInt(trimmed);
            if (count > 0) {
                return count;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InvalidRequestException(ErrorCodes.INVALID_PARAMETER,
            "resourceLimits.gpu must be a positive number of GPUs, not '" + value + "'.");
    }

    // ---------------------------------------------------------------- image pull secret

    /** The Secret of an unscoped deployment: labelled with the sandbox id alone. */
    static Map<String, Object> imagePullSecret(SandboxId id, String namespace, String imageUri, RegistryAuth auth,
                                               java.util.function.Function<Object, String> toJson) {
        return imagePullSecret(id, namespace, imageUri, auth, Map.of(), toJson);
    }

    /**
     * The dockerconfigjson Secret for {@code auth}, labelled with the sandbox id (and {@code ownerLabels}, the
     * deployment's) so that it can be found and reaped by the server that made it.
     */
    static Map<String, Object> imagePullSecret(SandboxId id, String namespace, String imageUri, RegistryAuth auth,
                                               Map<String, String> ownerLabels,
                                               java.util.function.Function<Object, String> toJson) {
        String basic = Base64.getEncoder().encodeToString(
            (auth.username() + ":" + auth.password()).getBytes(StandardCharsets.UTF_8));
        Map<String, Object> credentials = new LinkedHashMap<>();
        credentials.put("username", auth.username());
        credentials.put("password", auth.password());
        credentials.put("auth", basic);
        String dockerConfig = toJson.apply(map("auths", map(registry(imageUri), credentials)));

        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("name", BatchSandboxes.imagePullSecretName(id));
        metadata.put("namespace", namespace);
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Labels.ID, id.toString());
        labels.putAll(ownerLabels);
        metadata.put("labels", labels);
        Map<String, Object> secret = new LinkedHashMap<>();
        secret.put("apiVersion", "v1");
        secret.put("kind", "Secret");
        secret.put("metadata", metadata);
        secret.put("type", "kubernetes.io/dockerconfigjson");
        secret.put("data", Map.of(".dockerconfigjson",
            Base64.getEncoder().encodeToString(dockerConfig.getBytes(StandardCharsets.UTF_8))));
        return secret;
    }

    /**
     * The registry of an image reference, upstream's rule: the first path segment when there are
     * at least two and it contains {@code .} or {@code :}; otherwise Docker Hub.
     */
    static String registry(String imageUri) {
        int slash = imageUri.indexOf('/');
        if (slash > 0) {
            String first = imageUri.substring(0, slash);
            if (first.contains(".") || first.contains(":")) {
                return first;
            }
        }
        return "https://index.docker.io/v1/";
    }

    static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }
}
