package dev.opensandbox.core.service;

import java.time.Duration;
import java.util.List;

/**
 * Operator settings that restrict what a create request may ask for.
 *
 * @param maxTimeout       the longest {@code timeout} a client may request
 *                         ({@code server.max_sandbox_timeout_seconds}), or null for no cap
 * @param allowedHostPaths host directories under which {@code host} volumes may be mounted
 *                         ({@code [storage] allowed_host_paths}); empty denies every host path
 * @param requireSecureAccess every sandbox gets a secure-access token, as if each request said
 *                         {@code secureAccess: true} ({@code [server] require_secure_access})
 */
public record ServicePolicy(Duration maxTimeout, List<String> allowedHostPaths, boolean requireSecureAccess) {

    public ServicePolicy {
        if (maxTimeout != null && (maxTimeout.isNegative() || maxTimeout.isZero())) {
            throw new IllegalArgumentException("maxTimeout must be positive, or null for no cap: " + maxTimeout);
        }
        allowedHostPaths = allowedHostPaths == null ? List.of() : List.copyOf(allowedHostPaths);
    }

    /** A policy that leaves secure access to each request's {@code secureAccess} flag. */
    public ServicePolicy(Duration maxTimeout, List<String> allowedHostPaths) {
        this(maxTimeout, allowedHostPaths, false);
    }

    /** Upstream's defaults: no timeout cap, no host path may be mounted, secure access per request. */
    public static ServicePolicy defaults() {
        return new ServicePolicy(null, List.of(), false);
    }
}
