package dev.opensandbox.core.service;

import dev.opensandbox.core.InvalidRequestException;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Operator settings that restrict what a create request may ask for.
 *
 * @param maxTimeout       the longest {@code timeout} a client may request
 *                         ({@code server.max_sandbox_timeout_seconds}), or null for no cap
 * @param allowedHostPaths host directories under which {@code host} volumes may be mounted
 *                         ({@code [storage] allowed_host_paths}); empty denies every host path
 * @param requireSecureAccess every sandbox gets a secure-access token, as if each request said
 *                         {@code secureAccess: true} ({@code [server] require_secure_access})
 * @param defaultResourceLimits {@code cpu} and {@code memory} given to a sandbox whose request names
 *                         none ({@code [server] default_resource_limits}); empty for none
 * @param maxResourceLimits the largest {@code cpu} and {@code memory} a request may name
 *                         ({@code [server] max_resource_limits}); a request naming none of a key
 *                         that has a maximum and no default gets the maximum; empty for no cap
 */
public record ServicePolicy(Duration maxTimeout, List<String> allowedHostPaths, boolean requireSecureAccess,
                            Map<String, String> defaultResourceLimits, Map<String, String> maxResourceLimits) {

    /** The keys of {@code resourceLimits} that defaults and maxima may name. */
    public static final Set<String> BOUNDED_RESOURCES = Set.of(ResourceLimitsParser.CPU, ResourceLimitsParser.MEMORY);

    public ServicePolicy {
        if (maxTimeout != null && (maxTimeout.isNegative() || maxTimeout.isZero())) {
            throw new IllegalArgumentException("maxTimeout must be positive, or null for no cap: " + maxTimeout);
        }
        allowedHostPaths = allowedHostPaths == null ? List.of() : List.copyOf(allowedHostPaths);
        defaultResourceLimits = checkedLimits("default_resource_limits", defaultResourceLimits);
        maxResourceLimits = checkedLimits("max_resource_limits", maxResourceLimits);
        for (Map.Entry<String, String> entry : defaultResourceLimits.entrySet()) {
            String max = maxResourceLimits.get(entry.getKey());
            if (max != null && amount(entry.getKey(), entry.getValue()) > amount(entry.getKey(), max)) {
                throw new IllegalArgumentException("default_resource_limits." + entry.getKey() + " '" + entry.getValue()
                    + "' is above max_resource_limits." + entry.getKey() + " '" + max + "'");
            }
        }
    }

    /** A policy without resource defaults or maxima. */
    public ServicePolicy(Duration maxTimeout, List<String> allowedHostPaths, boolean requireSecureAccess) {
        this(maxTimeout, allowedHostPaths, requireSecureAccess, Map.of(), Map.of());
    }

    /** A policy that leaves secure access to each request's {@code secureAccess} flag. */
    public ServicePolicy(Duration maxTimeout, List<String> allowedHostPaths) {
        this(maxTimeout, allowedHostPaths, false);
    }

    /** Upstream's defaults: no timeout cap, no host path may be mounted, secure access per request, no resource bounds. */
    public static ServicePolicy defaults() {
        return new ServicePolicy(null, List.of(), false);
    }

    /** A copy with these resource defaults and maxima ({@code cpu}/{@code memory} to values as a request writes them). */
    public ServicePolicy withResourceLimits(Map<String, String> defaults, Map<String, String> maxima) {
        return new ServicePolicy(maxTimeout, allowedHostPaths, requireSecureAccess, defaults, maxima);
    }

    private static Map<String, String> checkedLimits(String name, Map<String, String> limits) {
        if (limits == null || limits.isEmpty()) {
            return Map.of();
        }
        Map<String, String> copy = new LinkedHashMap<>();
        limits.forEach((key, value) -> {
            if (!BOUNDED_RESOURCES.contains(key)) {
                throw new IllegalArgumentException(name + " may name cpu and memory only, not '" + key + "'");
            }
            try {
                amount(key, value);
            } catch (InvalidRequestException e) {
                throw new IllegalArgumentException(name + "." + key + ": " + e.getMessage(), e);
            }
            copy.put(key, value);
        });
        return Collections.unmodifiableMap(copy);
    }

    /** Millicores for cpu, bytes for memory, parsed as a request's value is. */
    static long amount(String key, String value) {
        return key.equals(ResourceLimitsParser.CPU) ? ResourceLimitsParser.parseCpuMillis(value)
            : ResourceLimitsParser.parseMemory(value);
    }
}
