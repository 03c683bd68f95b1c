package dev.opensandbox.core.service;

import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.SandboxSpec;

import java.util.List;
import java.util.Objects;

/**
 * A create request that passed {@link CreateSandboxValidator}, with what the runtime needs resolved.
 *
 * @param spec               the request, normalized: blank {@code image}/{@code snapshotId} dropped,
 *                           {@code platform} trimmed and lower-cased, network actions lower-cased
 * @param image              the image to run: the requested one or the restored snapshot's; null only
 *                           in pool mode when the pool template supplies it
 * @param entrypoint         the effective command ({@code ["tail","-f","/dev/null"]} for a restore
 *                           without one); null only in pool mode when the pool template supplies it
 * @param limits             the parsed resource limits ({@link ResourceLimits#none()} in pool mode
 *                           without limits)
 * @param renewExtendSeconds the {@code access.renew.extend.seconds} extension, or null when not set
 * @param poolMode           whether {@code extensions.poolRef} selects a pre-warmed pool
 */
public record ValidatedSpec(SandboxSpec spec, ImageSpec image, List<String> entrypoint, ResourceLimits limits,
                            Integer renewExtendSeconds, boolean poolMode) {

    public ValidatedSpec {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(limits, "limits");
        if (!poolMode) {
            Objects.requireNonNull(image, "image");
            Objects.requireNonNull(entrypoint, "entrypoint");
        }
        entrypoint = entrypoint == null ? null : List.copyOf(entrypoint);
    }
}
