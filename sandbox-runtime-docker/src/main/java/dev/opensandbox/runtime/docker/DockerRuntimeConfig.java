package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.Secrets;
import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.spi.Deployment;
import dev.opensandbox.core.spi.RuntimeContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The configuration of the Docker runtime, read from the {@code [docker]}, {@code [server]},
 * {@code [secure_runtime]} and {@code [egress]} sections with upstream's defaults.
 *
 * @param networkMode      {@code bridge} (default; upstream's is {@code host}), {@code host}, or the name of a
 *                         user-defined network
 * @param apiTimeout       bound of every wait for the engine: connect, a free connection, the answer's
 *                         head and each read of its body (default 180 s, upstream's)
 * @param hostIp           the Docker host's address as clients reach it, or null
 * @param dropCapabilities capabilities removed from every sandbox
 * @param apparmorProfile  an AppArmor profile name, or null
 * @param noNewPrivileges  whether {@code no-new-privileges:true} is set (default true)
 * @param seccompProfile   the seccomp profile <em>content</em> (JSON, read from the configured
 *                         file) or {@code unconfined}, or null
 * @param pidsLimit        the process limit per sandbox; 0 means unlimited (default 4096)
 * @param portBindAddress  the host address published ports bind to in bridge mode (default {@code 0.0.0.0})
 * @param serverHost       {@code [server] host}, or null
 * @param serverEip        {@code [server] eip}, the advertised host, or null
 * @param ociRuntime       the OCI runtime name from {@code [secure_runtime]}, or null for Docker's default
 * @param egressImage      {@code [egress] image}, or null
 * @param allowedHostPaths {@code [storage] allowed_host_paths}: host directories under which {@code host}
 *                         volumes may be mounted; empty denies every host path
 * @param execdImage       {@code [runtime] execd_image}: the image whose execd is injected into every
 *                         sandbox, or null when the server answers the execd API itself
 * @param egressMode       {@code [egress] mode}: {@code dns} (default) or {@code dns+nft}
 * @param egressDisableIpv6 {@code [egress] disable_ipv6} (default true): IPv6 off in a sidecar's namespace
 * @param ossfsMountRoot   {@code [storage] ossfs_mount_root} (default {@code /mnt/ossfs}): where OSS buckets
 *                         are mounted on the host
 * @param diagnosticsVisibleEnv {@code [server] diagnostics_visible_env}: environment variables whose values
 *                         the diagnostics show (default {@link Secrets#DEFAULT_VISIBLE_ENV}); others are masked
 * @param deployment       which containers, volumes and images are this server's (from the
 *                         {@link RuntimeContext}; unscoped by default)
 */
public record DockerRuntimeConfig(
        String networkMode,
        Duration apiTimeout,
        String hostIp,
        List<String> dropCapabilities,
        String apparmorProfile,
        boolean noNewPrivileges,
        String seccompProfile,
        long pidsLimit,
        String portBindAddress,
        String serverHost,
        String serverEip,
        String ociRuntime,
        String egressImage,
        List<String> allowedHostPaths,
        String execdImage,
        String egressMode,
        boolean egressDisableIpv6,
        String ossfsMountRoot,
        List<String> diagnosticsVisibleEnv,
        Deployment deployment) {

    /** Upstream's default {@code drop_capabilities}. */
    public static final List<String> DEFAULT_DROP_CAPABILITIES = List.of("AUDIT_WRITE", "MKNOD", "NET_ADMIN",
        "NET_RAW", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_TIME", "SYS_TTY_CONFIG");

    static final String INITIALIZATION_ERROR = "DOCKER::INITIALIZATION_ERROR";
    /** Ours; upstream's is {@code host}. */
    static final String DEFAULT_NETWORK_MODE = "bridge";

    public DockerRuntimeConfig {
        Objects.requireNonNull(networkMode, "networkMode");
        if (networkMode.isBlank()) {
            throw invalid("docker.network_mode must not be empty.");
        }
        Objects.requireNonNull(apiTimeout, "apiTimeout");
        if (apiTimeout.compareTo(Duration.ofSeconds(1)) < 0) {
            throw invalid("docker.api_timeout must be at least 1 second.");
        }
        dropCapabilities = List.copyOf(Objects.requireNonNull(dropCapabilities, "dropCapabilities"));
        if (pidsLimit < 0) {
            throw invalid("docker.pids_limit must be 0 (unlimited) or positive.");
        }
        Objects.requireNonNull(portBindAddress, "portBindAddress");
        allowedHostPaths = allowedHostPaths == null ? List.of() : List.copyOf(allowedHostPaths);
        ossfsMountRoot = ossfsMountRoot == null || ossfsMountRoot.isBlank() ? "/mnt/ossfs" : ossfsMountRoot.strip();
        egressMode = egressMode == null || egressMode.isBlank() ? "dns" : egressMode.strip();
        if (!egressMode.equals("dns") && !egressMode.equals("dns+nft")) {
            throw invalid("egress.mode must be \"dns\" or \"dns+nft\", got \"" + egressMode + "\".");
        }
        diagnosticsVisibleEnv = diagnosticsVisibleEnv == null ? Secrets.DEFAULT_VISIBLE_ENV
            : List.copyOf(diagnosticsVisibleEnv);
        deployment = deployment == null ? Deployment.unscoped() : deployment;
    }

    /**
     * Upstream's defaults with no configuration at all, except the network mode: bridge, not host
     * (a host-mode sandbox shares the host's network namespace, loopback services included).
     */
    public static DockerRuntimeConfig defaults() {
        return new DockerRuntimeConfig(DEFAULT_NETWORK_MODE, Duration.ofSeconds(180), null, DEFAULT_DROP_CAPABILITIES,
            null, true, null, 4096, "0.0.0.0", null, null, null, null, List.of(), null, "dns", true, "/mnt/ossfs",
            Secrets.DEFAULT_VISIBLE_ENV, Deployment.unscoped());
    }

    /** Reads the configuration from the sections of {@code context}, for the context's deployment. */
    public static DockerRuntimeConfig from(RuntimeContext context) {
        DockerRuntimeConfig config = from(context.section("docker"), context.section("server"),
            context.section("secure_runtime"), context.section("egress"), context.section("storage"));
        return config.withExecdImage(string(context.section("runtime"), "execd_image", null))
            .withDeployment(context.deployment());
    }

    /** A copy that injects the execd of {@code image} (null: none). */
    public DockerRuntimeConfig withExecdImage(String image) {
        return new DockerRuntimeConfig(networkMode, apiTimeout, hostIp, dropCapabilities, apparmorProfile, noNewPrivileges,
            seccompProfile, pidsLimit, portBindAddress, serverHost, serverEip, ociRuntime, egressImage, allowedHostPaths,
            image == null || image.isBlank() ? null : image.strip(), egressMode, egressDisableIpv6, ossfsMountRoot,
            diagnosticsVisibleEnv, deployment);
    }

    /** A copy for another deployment: what it creates carries that deployment's label, and it sees only what it owns. */
    public DockerRuntimeConfig withDeployment(Deployment owner) {
        return new DockerRuntimeConfig(networkMode, apiTimeout, hostIp, dropCapabilities, apparmorProfile, noNewPrivileges,
            seccompProfile, pidsLimit, portBindAddress, serverHost, serverEip, ociRuntime, egressImage, allowedHostPaths,
            execdImage, egressMode, egressDisableIpv6, ossfsMountRoot, diagnosticsVisibleEnv, owner);
    }

    static DockerRuntimeConfig from(Map<String, Object> docker, Map<String, Object> server,
                                    Map<String, Object> secureRuntime, Map<String, Object> egress) {
        return from(docker, server, secureRuntime, egress, Map.of());
    }

    static DockerRuntimeConfig from(Map<String, Object> docker, Map<String, Object> server,
                                    Map<String, Object> secureRuntime, Map<String, Object> egress,
                                    Map<String, Object> storage) {
        String networkMode = string(docker, "network_mode", DEFAULT_NETWORK_MODE);
        long apiTimeoutSeconds = number(docker, "api_timeout", 180);
        String hostIp = string(docker, "host_ip", null);
        List<String> drop = stringList(docker, "drop_capabilities", DEFAULT_DROP_CAPABILITIES);
        String apparmor = string(docker, "apparmor_profile", null);
        boolean noNewPrivileges = bool(docker, "no_new_privileges", true);
        String seccomp = readSeccomp(string(docker, "seccomp_profile", null));
        long pidsLimit = number(docker, "pids_limit", 4096);
        String bindAddress = string(docker, "port_bind_address", "0.0.0.0");
        return new DockerRuntimeConfig(networkMode, Duration.ofSeconds(apiTimeoutSeconds), hostIp, drop, apparmor,
            noNewPrivileges, seccomp, pidsLimit, bindAddress, string(server, "host", null), string(server, "eip", null),
            ociRuntime(secureRuntime), string(egress, "image", null),
            hostPaths(storage), null, string(egress, "mode", "dns"), bool(egress, "disable_ipv6", true),
            string(storage, "ossfs_mount_root", "/mnt/ossfs"),
            server.containsKey("diagnostics_visible_env") ? stringsAsWritten(server, "diagnostics_visible_env")
                : Secrets.DEFAULT_VISIBLE_ENV, Deployment.unscoped());
    }

    /** Whether sandboxes share the host's network namespace (nothing is published). */
    boolean hostNetwork() {
        return "host".equalsIgnoreCase(networkMode);
    }

    /** Whether the network mode names a user-defined network that must exist. */
    boolean userDefinedNetwork() {
        return isUserDefinedNetwork(networkMode);
    }

    static boolean isUserDefinedNetwork(String mode) {
        String lower = mode.toLowerCase(Locale.ROOT);
        return !Set.of("host", "bridge", "none", "default").contains(lower) && !lower.startsWith("container:");
    }

    private static String ociRuntime(Map<String, Object> secureRuntime) {
        String explicit = string(secureRuntime, "docker_runtime", null);
        if (explicit != null) {
            return explicit;
        }
        String type = string(secureRuntime, "type", null);
        if (type == null) {
            return null;
        }
        switch (type.toLowerCase(Locale.ROOT)) {
            case "gvisor":
                return "runsc";
            case "kata":
                return "kata-runtime";
            case "firecracker":
                throw invalid("secure_runtime.type 'firecracker' is not supported by the Docker runtime; "
                    + "use gvisor or kata, or set secure_runtime.docker_runtime.");
            default:
                throw invalid("secure_runtime.type '" + type + "' is unknown; use gvisor or kata.");
        }
    }

    /**
     * The Engine API wants the profile content, not a path (the docker CLI reads the file, W17):
     * a path is read here so that a bad path fails at start-up, not at the first create.
     */
    private static String readSeccomp(String configured) {
        if (configured == null || configured.equalsIgnoreCase("unconfined") || configured.trim().startsWith("{")) {
            return configured;
        }
        try {
            return Files.readString(Path.of(configured));
        } catch (IOException | RuntimeException e) {
            throw invalid("docker.seccomp_profile '" + configured + "' cannot be read: " + e.getMessage());
        }
    }

    private static String string(Map<String, Object> section, String key, String fallback) {
        Object value = section.get(key);
        if (value == null) {
            return fallback;
        }
        String text = value.toString().trim();
        return text.isEmpty() ? fallback : text;
    }

    private static long number(Map<String, Object> section, String key, long fallback) {
        Object value = section.get(key);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Number n) {
            return n.longValue();
        }
        try {
            return Long.parseLong(value.toString().trim());
        } catch (NumberFormatException e) {
            throw invalid("docker." + key + " must be an integer, got '" + value + "'.");
        }
    }

    private static boolean bool(Map<String, Object> section, String key, boolean fallback) {
        Object value = section.get(key);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Boolean b) {
            return b;
        }
        String text = value.toString().trim().toLowerCase(Locale.ROOT);
        if (text.equals("true") || text.equals("false")) {
            return Boolean.parseBoolean(text);
        }
        throw invalid("docker." + key + " must be true or false, got '" + value + "'.");
    }

    private static List<String> stringList(Map<String, Object> section, String key, List<String> fallback) {
        Object value = section.get(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof List<?> list)) {
            throw invalid("docker." + key + " must be a list of strings.");
        }
        List<String> result = new ArrayList<>();
        for (Object item : list) {
            result.add(String.valueOf(item).trim().toUpperCase(Locale.ROOT));
        }
        return result;
    }

    /** {@code [storage] allowed_host_paths} as written (the server's configuration already checked it). */
    private static List<String> hostPaths(Map<String, Object> storage) {
        return storage.containsKey("allowed_host_paths") ? stringsAsWritten(storage, "allowed_host_paths") : List.of();
    }

    private static List<String> stringsAsWritten(Map<String, Object> section, String key) {
        if (!(section.get(key) instanceof List<?> list)) {
            throw invalid(key + " must be a list of strings.");
        }
        List<String> result = new ArrayList<>();
        for (Object item : list) {
            result.add(String.valueOf(item).trim());
        }
        return result;
    }

    private static UnavailableException invalid(String message) {
        return new UnavailableException(INITIALIZATION_ERROR, "Invalid Docker runtime configuration: " + message);
    }
}
