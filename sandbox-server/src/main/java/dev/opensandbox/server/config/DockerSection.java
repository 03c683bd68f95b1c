package dev.opensandbox.server.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code [docker]}: settings of the Docker runtime. Always built (with defaults when absent) and
 * ignored by other runtimes.
 *
 * @param networkMode {@code bridge} (default here; upstream: {@code host}), {@code host} or a user-defined
 *     network name
 * @param apiTimeout Docker API client timeout ({@code api_timeout} seconds, default 180); empty means
 *     no timeout, written {@code 0} (TOML has no null)
 * @param hostIp host for bridge-mode endpoint URLs when the server runs in a container (blank = unset)
 * @param dropCapabilities capabilities dropped from sandbox containers; an empty list drops nothing
 * @param apparmorProfile AppArmor profile ({@code ""} = unset)
 * @param noNewPrivileges adds the {@code no-new-privileges} security option (default true)
 * @param seccompProfile seccomp profile name or absolute path ({@code ""} = unset)
 * @param pidsLimit PIDs cgroup limit (default 4096); empty means unlimited, written {@code 0} or
 *     {@code -1} (upstream cannot disable it from TOML)
 * @param portBindAddress ours: host address Docker publishes sandbox ports on (default {@code 0.0.0.0})
 */
public record DockerSection(
        String networkMode,
        Optional<Duration> apiTimeout,
        Optional<String> hostIp,
        List<String> dropCapabilities,
        Optional<String> apparmorProfile,
        boolean noNewPrivileges,
        Optional<String> seccompProfile,
        OptionalLong pidsLimit,
        String portBindAddress) {

    static final List<String> DEFAULT_DROP_CAPABILITIES = List.of("AUDIT_WRITE", "MKNOD", "NET_ADMIN", "NET_RAW",
            "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_TIME", "SYS_TTY_CONFIG");

    public DockerSection {
        Check.notBlank("docker.network_mode", networkMode);
        Check.notNull("docker.api_timeout", apiTimeout).ifPresent(d -> Check.seconds("docker.api_timeout", d, 1));
        hostIp = blankIsUnset("docker.host_ip", hostIp);
        dropCapabilities = Check.strings("docker.drop_capabilities", dropCapabilities);
        apparmorProfile = blankIsUnset("docker.apparmor_profile", apparmorProfile);
        seccompProfile = blankIsUnset("docker.seccomp_profile", seccompProfile);
        Check.notNull("docker.pids_limit", pidsLimit).ifPresent(p -> Check.atLeast("docker.pids_limit", p, 1));
        Check.notBlank("docker.port_bind_address", portBindAddress);
    }

    static DockerSection defaults() {
        return new DockerSection("bridge", Optional.of(Duration.ofSeconds(180)), Optional.empty(),
                DEFAULT_DROP_CAPABILITIES, Optional.empty(), true, Optional.empty(), OptionalLong.of(4096), "0.0.0.0");
    }

    private static Optional<String> blankIsUnset(String key, Optional<String> value) {
        return Check.notNull(key, value).map(String::strip).filter(v -> !v.isEmpty());
    }
}
