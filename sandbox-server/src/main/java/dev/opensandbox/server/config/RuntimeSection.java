package dev.opensandbox.server.config;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * {@code [runtime]} (required): which sandbox runtime runs sandboxes.
 *
 * @param type {@code "docker"}, {@code "kubernetes"}, {@code "in-memory"}, or the id of a third-party
 *     runtime provider found with {@link java.util.ServiceLoader}. Written in lowercase, as upstream
 *     ({@code "Docker"} is rejected). An id that no provider serves is rejected later, at startup.
 * @param execdImage image carrying the execd binary that is injected into sandboxes. Optional here
 *     (upstream requires it): when absent, the server's built-in execd answers the execd API.
 */
public record RuntimeSection(String type, Optional<String> execdImage) {

    public static final String DOCKER = "docker";
    public static final String KUBERNETES = "kubernetes";
    public static final String IN_MEMORY = "in-memory";

    private static final Pattern RUNTIME_ID = Pattern.compile("[a-z0-9][a-z0-9._-]*");

    public RuntimeSection {
        Check.notBlank("runtime.type", type);
        if (!RUNTIME_ID.matcher(type).matches()) {
            throw ConfigException.at("runtime.type", "must be \"docker\", \"kubernetes\", \"in-memory\" or a runtime"
                    + " provider id in lowercase letters, digits, '.', '_' and '-' (got \"" + type + "\")");
        }
        Check.notNull("runtime.execd_image", execdImage).ifPresent(i -> Check.notBlank("runtime.execd_image", i));
    }

    public boolean isDocker() {
        return DOCKER.equals(type);
    }

    public boolean isKubernetes() {
        return KUBERNETES.equals(type);
    }
}
