package dev.opensandbox.core;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Resource limits of a sandbox: the map the client sent, plus the values this project understands,
 * already parsed.
 *
 * <p>Runtimes that pass limits through (Kubernetes) use {@link #raw()}; runtimes that enforce them
 * themselves (Docker) use the parsed accessors. Use {@link dev.opensandbox.core.service.ResourceLimitsParser}
 * to build one from client input: it rejects values it cannot parse instead of ignoring them.
 *
 * @param raw         every key the client sent, in order
 * @param memoryBytes memory limit in bytes, if {@code memory} was given
 * @param cpuMillis   CPU limit in millicores, if {@code cpu} was given
 * @param gpuCount    GPU count, if {@code gpu} was given; {@link #ALL_GPUS} means every GPU
 */
public record ResourceLimits(Map<String, String> raw, OptionalLong memoryBytes, OptionalLong cpuMillis, OptionalInt gpuCount) {

    /** The GPU count that means "all GPUs". */
    public static final int ALL_GPUS = -1;

    public ResourceLimits {
        raw = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(raw, "raw")));
        Objects.requireNonNull(memoryBytes, "memoryBytes");
        Objects.requireNonNull(cpuMillis, "cpuMillis");
        Objects.requireNonNull(gpuCount, "gpuCount");
    }

    /** No limits at all. */
    public static ResourceLimits none() {
        return new ResourceLimits(Map.of(), OptionalLong.empty(), OptionalLong.empty(), OptionalInt.empty());
    }

    /** CPU limit in nano-CPUs (the unit Docker uses), if a CPU limit was given. */
    public OptionalLong nanoCpus() {
        return cpuMillis.isPresent() ? OptionalLong.of(cpuMillis.getAsLong() * 1_000_000L) : OptionalLong.empty();
    }
}
