package dev.opensandbox.core.spi;

import dev.opensandbox.core.Extensions;
import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Everything a runtime needs to create one sandbox, after the core validated the request.
 *
 * @param id         the id the core chose; the runtime labels every object it creates with it
 * @param spec       the validated client request
 * @param image      the image to run: the requested one, or the image of the restored snapshot; null only
 *                   in pool mode ({@link #poolRef()}) when the pool's template supplies it
 * @param entrypoint the effective command (a snapshot restore without one gets a default); null only in
 *                   pool mode when the pool's template supplies it
 * @param limits     parsed resource limits
 * @param createdAt  creation time as the core's clock saw it
 * @param expiresAt  initial expiry to record on the runtime objects, or null for manual cleanup
 * @param accessToken the sandbox's secure-access token (the core made it, for {@code secureAccess}
 *                   or {@code require_secure_access}), or null. A runtime whose gateway checks the
 *                   {@code OpenSandbox-Secure-Access} header itself records it where that gateway
 *                   reads it (Kubernetes: an annotation of the custom resource); others ignore it,
 *                   the core keeps it and the server's proxy checks it. A secret: never logged.
 */
public record ProvisionRequest(SandboxId id, SandboxSpec spec, ImageSpec image, List<String> entrypoint,
                               ResourceLimits limits, Instant createdAt, Instant expiresAt, String accessToken) {

    public ProvisionRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(spec, "spec");
        String pool = spec.extensions().get(Extensions.POOL_REF);
        if (pool == null || pool.isBlank()) {
            Objects.requireNonNull(image, "image");
            Objects.requireNonNull(entrypoint, "entrypoint");
        }
        entrypoint = entrypoint == null ? null : List.copyOf(entrypoint);
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /** A request without a secure-access token. */
    public ProvisionRequest(SandboxId id, SandboxSpec spec, ImageSpec image, List<String> entrypoint,
                            ResourceLimits limits, Instant createdAt, Instant expiresAt) {
        this(id, spec, image, entrypoint, limits, createdAt, expiresAt, null);
    }

    /**
     * The pool the sandbox is taken from ({@code extensions.poolRef}, trimmed), or null when it is
     * created from its own image. Only runtimes declaring {@link RuntimeCapabilities#pools()} see one.
     */
    public String poolRef() {
        String pool = spec.extensions().get(Extensions.POOL_REF);
        return pool == null || pool.isBlank() ? null : pool.strip();
    }

    @Override
    public String toString() {
        return "ProvisionRequest[id=" + id + ", spec=" + spec + ", image=" + image + ", entrypoint=" + entrypoint
            + ", limits=" + limits + ", createdAt=" + createdAt + ", expiresAt=" + expiresAt
            + ", accessToken=" + (accessToken == null ? "null" : "***") + "]";
    }
}
