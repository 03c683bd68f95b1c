package dev.opensandbox.core.spi;

import java.time.Clock;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the server hands a {@link SandboxRuntimeProvider}: the clock and the whole configuration
 * file as plain nested maps (tables are {@code Map<String, Object>}, arrays are {@code List},
 * scalars are {@code String}, {@code Long}, {@code Double} or {@code Boolean}), so that a runtime
 * reads its own sections without depending on the server's TOML library.
 *
 * @param clock    the only source of time a runtime may use
 * @param settings the configuration, keyed by section name
 * @param environment the process environment, passed in so runtimes never read it themselves
 * @param deployment  which runtime objects belong to this server (see {@link Deployment})
 */
public record RuntimeContext(Clock clock, Map<String, Object> settings, Map<String, String> environment,
                             Deployment deployment) {

    public RuntimeContext {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(deployment, "deployment");
        settings = settings == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        environment = environment == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(environment));
    }

    /** A context of an {@linkplain Deployment#unscoped() unscoped} deployment, for embedders and tests. */
    public RuntimeContext(Clock clock, Map<String, Object> settings, Map<String, String> environment) {
        this(clock, settings, environment, Deployment.unscoped());
    }

    /** One table of the configuration, empty when absent. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> section(String name) {
        Object value = settings.get(name);
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }
}
