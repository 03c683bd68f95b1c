package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.NetworkPolicy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The egress sidecar of a sandbox pod with a {@code networkPolicy}, as upstream builds it (§7.1):
 * an {@code egress} container of {@code [egress] image} with the policy, mode and token in its
 * environment, {@code NET_ADMIN}, its API on 18080 and a readiness probe on {@code /healthz} that
 * sends the token; the sandbox container drops {@code NET_ADMIN}; IPv6 is switched off by a
 * privileged init step (the execd installer's when there is one, upstream's way, else an init
 * container of its own running the sandbox image's shell: with the built-in execd no installer
 * exists).
 */
final class EgressPod {

    static final String CONTAINER = "egress";
    static final int API_PORT = 18080;
    static final String AUTH_HEADER = "OPENSANDBOX-EGRESS-AUTH";
    static final String TRANSPARENT_ENV = "OPENSANDBOX_EGRESS_MITMPROXY_TRANSPARENT";
    static final String DISABLE_IPV6 = "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6";
    static final String IPV6_INIT = "egress-disable-ipv6";

    private EgressPod() {
    }

    /**
     * What the sidecar needs.
     *
     * @param image       {@code [egress] image}
     * @param mode        {@code [egress] mode}: {@code dns} or {@code dns+nft}
     * @param disableIpv6 {@code [egress] disable_ipv6}
     */
    public record Settings(String image, String mode, boolean disableIpv6) {

        public Settings {
            mode = mode == null || mode.isBlank() ? "dns" : mode.strip();
            if (!mode.equals("dns") && !mode.equals("dns+nft")) {
                throw new dev.opensandbox.core.UnavailableException(KubernetesErrors.INITIALIZATION_ERROR,
                    "egress.mode must be \"dns\" or \"dns+nft\", not \"" + mode + "\".");
            }
        }
    }

    /** {@code [egress]}: null without an image (network policies are then refused). */
    static Settings settingsFrom(Map<String, Object> section) {
        Object image = section.get("image");
        if (!(image instanceof String text) || text.isBlank()) {
            return null;
        }
        Object mode = section.get("mode");
        Object disable = section.get("disable_ipv6");
        return new Settings(text.strip(), mode instanceof String m ? m : "dns", !(disable instanceof Boolean b) || b);
    }

    /** The policy for the sidecar: camelCase, nulls left out, compact. */
    static String rulesJson(NetworkPolicy policy) {
        return policy.sidecarJson(",", ":");
    }

    /**
     * Adds the sidecar to a pod spec built for the sandbox (containers[0] is the sandbox).
     *
     * @param sandboxImage the sandbox's image, whose shell switches IPv6 off when no installer exists
     */
    @SuppressWarnings("unchecked")
    static void apply(Map<String, Object> pod, Settings settings, NetworkPolicy policy, boolean credentialProxy,
                      String token, String sandboxImage) {
        List<Map<String, Object>> containers = new ArrayList<>((List<Map<String, Object>>) pod.get("containers"));
        Map<String, Object> sandbox = new LinkedHashMap<>(containers.get(0));
        sandbox.put("securityContext", Map.of("capabilities", Map.of("drop", List.of("NET_ADMIN"))));
        if (credentialProxy) {
            List<Map<String, Object>> env = new ArrayList<>(
                (List<Map<String, Object>>) sandbox.getOrDefault("env", List.of()));
            env.removeIf(entry -> TRANSPARENT_ENV.equals(entry.get("name")));
            env.add(0, entry(TRANSPARENT_ENV, "true"));
            sandbox.put("env", env);
        }
        containers.set(0, sandbox);

        List<Map<String, Object>> env = new ArrayList<>();
        env.add(entry("OPENSANDBOX_EGRESS_RULES", rulesJson(policy)));
        env.add(entry("OPENSANDBOX_EGRESS_MODE", settings.mode()));
        if (credentialProxy) {
            env.add(entry(TRANSPARENT_ENV, "true"));
        }
        env.add(entry("OPENSANDBOX_EGRESS_TOKEN", token));
        Map<String, Object> egress = new LinkedHashMap<>();
        egress.put("name", CONTAINER);
        egress.put("image", settings.image());
        egress.put("env", env);
        egress.put("securityContext", Map.of("capabilities", Map.of("add", List.of("NET_ADMIN"))));
        egress.put("ports", List.of(Map.of("name", "egress-api", "containerPort", API_PORT)));
        Map<String, Object> probe = new LinkedHashMap<>();
        probe.put("httpGet", Map.of("path", "/healthz", "port", API_PORT,
            "httpHeaders", List.of(Map.of("name", AUTH_HEADER, "value", token))));
        probe.put("periodSeconds", 1);
        probe.put("failureThreshold", 30);
        egress.put("readinessProbe", probe);
        if (credentialProxy) {
            egress.put("volumeMounts", List.of(Map.of("name", BatchSandboxes.EXECD_VOLUME, "mountPath",
                BatchSandboxes.EXECD_DIR)));
            shareInstallDirectory(pod, sandbox);
        }
        containers.add(egress);
        pod.put("containers", containers);

        if (settings.disableIpv6()) {
            disableIpv6(pod, sandboxImage);
        }
    }

    /**
     * The credential proxy's CA lands in {@code /opt/opensandbox}: without an injected execd the pod
     * has no such volume yet, so it gets the emptyDir and the sandbox mounts it too.
     */
    @SuppressWarnings("unchecked")
    private static void shareInstallDirectory(Map<String, Object> pod, Map<String, Object> sandbox) {
        List<Map<String, Object>> volumes = new ArrayList<>(
            (List<Map<String, Object>>) pod.getOrDefault("volumes", List.of()));
        if (volumes.stream().anyMatch(v -> BatchSandboxes.EXECD_VOLUME.equals(v.get("name")))) {
            return;
        }
        volumes.add(0, Map.of("name", BatchSandboxes.EXECD_VOLUME, "emptyDir", Map.of()));
        pod.put("volumes", volumes);
        List<Map<String, Object>> mounts = new ArrayList<>(
            (List<Map<String, Object>>) sandbox.getOrDefault("volumeMounts", List.of()));
        mounts.add(0, Map.of("name", BatchSandboxes.EXECD_VOLUME, "mountPath", BatchSandboxes.EXECD_DIR));
        sandbox.put("volumeMounts", mounts);
    }

    @SuppressWarnings("unchecked")
    private static void disableIpv6(Map<String, Object> pod, String sandboxImage) {
        List<Map<String, Object>> inits = new ArrayList<>(
            (List<Map<String, Object>>) pod.getOrDefault("initContainers", List.of()));
        for (int i = 0; i < inits.size(); i++) {
            if (BatchSandboxes.EXECD_INSTALLER.equals(inits.get(i).get("name"))) {
                Map<String, Object> installer = new LinkedHashMap<>(inits.get(i));
                List<String> args = (List<String>) installer.get("args");
                installer.put("args", List.of("set -e; " + DISABLE_IPV6 + " && " + args.get(0)));
                installer.put("securityContext", Map.of("privileged", true));
                inits.set(i, installer);
                pod.put("initContainers", inits);
                return;
            }
        }
        Map<String, Object> init = new LinkedHashMap<>();
        init.put("name", IPV6_INIT);
        init.put("image", sandboxImage);
        init.put("command", List.of("/bin/sh", "-c"));
        init.put("args", List.of(DISABLE_IPV6));
        init.put("securityContext", Map.of("privileged", true));
        inits.add(init);
        pod.put("initContainers", inits);
    }

    private static Map<String, Object> entry(String name, String value) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("name", name);
        entry.put("value", value);
        return entry;
    }
}
