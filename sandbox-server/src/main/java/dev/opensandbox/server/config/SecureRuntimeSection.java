package dev.opensandbox.server.config;

import java.util.List;
import java.util.Optional;

/**
 * {@code [secure_runtime]}: an isolating OCI runtime for sandboxes. "Omitted" and {@code ""} differ
 * for the two name keys: with {@code type = ""} both must be left out, while for gVisor and Kata a
 * present-but-empty name falls back to the default name.
 *
 * @param type {@code ""} (plain runc, default), {@code gvisor}, {@code kata} or {@code firecracker}
 * @param dockerRuntime Docker OCI runtime name
 * @param k8sRuntimeClass Pod {@code runtimeClassName}
 */
public record SecureRuntimeSection(String type, Optional<String> dockerRuntime, Optional<String> k8sRuntimeClass) {

    public static final String NONE = "";
    public static final String GVISOR = "gvisor";
    public static final String KATA = "kata";
    public static final String FIRECRACKER = "firecracker";
    static final List<String> TYPES = List.of(NONE, GVISOR, KATA, FIRECRACKER);

    public SecureRuntimeSection {
        Check.oneOf("secure_runtime.type", type, TYPES);
        Check.notNull("secure_runtime.docker_runtime", dockerRuntime);
        Check.notNull("secure_runtime.k8s_runtime_class", k8sRuntimeClass);
        switch (type) {
            case NONE:
                if (dockerRuntime.isPresent()) {
                    throw ConfigException.at("secure_runtime.docker_runtime",
                            "must be left out when secure_runtime.type is \"\" (even an empty string is an error)");
                }
                if (k8sRuntimeClass.isPresent()) {
                    throw ConfigException.at("secure_runtime.k8s_runtime_class",
                            "must be left out when secure_runtime.type is \"\" (even an empty string is an error)");
                }
                break;
            case FIRECRACKER:
                if (k8sRuntimeClass.isEmpty()) {
                    throw ConfigException.at("secure_runtime.k8s_runtime_class",
                            "is required when secure_runtime.type = \"firecracker\"");
                }
                break;
            default:
                if (dockerRuntime.isEmpty() && k8sRuntimeClass.isEmpty()) {
                    throw ConfigException.at("secure_runtime", "type \"" + type
                            + "\" needs docker_runtime or k8s_runtime_class (or both)");
                }
        }
    }

    static SecureRuntimeSection defaults() {
        return new SecureRuntimeSection(NONE, Optional.empty(), Optional.empty());
    }

    public boolean enabled() {
        return !NONE.equals(type);
    }

    /** The Docker runtime name to use: the configured one, or runsc / kata-runtime when empty. */
    public Optional<String> effectiveDockerRuntime() {
        Optional<String> configured = dockerRuntime.filter(n -> !n.isBlank());
        if (configured.isPresent()) {
            return configured;
        }
        switch (type) {
            case GVISOR:
                return Optional.of("runsc");
            case KATA:
                return Optional.of("kata-runtime");
            default:
                return Optional.empty();
        }
    }

    /** The RuntimeClass to use: the configured one, or gvisor / kata-qemu / kata-fc when empty. */
    public Optional<String> effectiveK8sRuntimeClass() {
        Optional<String> configured = k8sRuntimeClass.filter(n -> !n.isBlank());
        if (configured.isPresent()) {
            return configured;
        }
        switch (type) {
            case GVISOR:
                return Optional.of("gvisor");
            case KATA:
                return Optional.of("kata-qemu");
            case FIRECRACKER:
                return Optional.of("kata-fc");
            default:
                return Optional.empty();
        }
    }
}
