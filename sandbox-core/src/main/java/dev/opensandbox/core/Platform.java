package dev.opensandbox.core;

import java.util.Objects;

/** An os/arch constraint, lower-cased, for example {@code linux}/{@code amd64}. */
public record Platform(String os, String arch) {

    public Platform {
        Objects.requireNonNull(os, "os");
        Objects.requireNonNull(arch, "arch");
    }

    @Override
    public String toString() {
        return os + "/" + arch;
    }
}
