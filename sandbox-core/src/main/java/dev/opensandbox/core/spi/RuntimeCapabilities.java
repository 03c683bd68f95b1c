package dev.opensandbox.core.spi;

import java.util.Objects;

/**
 * What a runtime can do beyond the mandatory verbs, declared as data so that the core (and the
 * compatibility kit) can check before calling. A runtime whose flag is false throws
 * {@link dev.opensandbox.core.UnsupportedCapabilityException} from the matching methods.
 *
 * @param errorNamespace the prefix of this runtime's error codes, for example {@code DOCKER} in
 *                       {@code DOCKER::SANDBOX_NOT_FOUND}
 * @param pause          {@link SandboxRuntime#pause} and {@link SandboxRuntime#resume}
 * @param exec           {@link SandboxRuntime#exec}
 * @param files          {@link SandboxRuntime#writeFile} and {@link SandboxRuntime#readFile}
 * @param logs           {@link SandboxRuntime#logs}
 * @param snapshots      {@link SandboxRuntime#commitSnapshot} and the other snapshot verbs
 * @param pools          pre-warmed pools: {@link SandboxRuntime#pools()} is present, and the core accepts
 *                       {@code extensions.poolRef} (a runtime may still refuse it in
 *                       {@link SandboxRuntime#validate} while it cannot create from pools)
 */
public record RuntimeCapabilities(String errorNamespace, boolean pause, boolean exec, boolean files,
                                  boolean logs, boolean snapshots, boolean pools) {

    public RuntimeCapabilities {
        Objects.requireNonNull(errorNamespace, "errorNamespace");
    }
}
