package dev.opensandbox.core;

import java.util.Objects;

/**
 * A volume mounted into a sandbox.
 *
 * @param name      a DNS label, unique within the sandbox
 * @param mountPath absolute path inside the sandbox
 * @param readOnly  whether the sandbox may write
 * @param subPath   a relative path inside the backend, or null
 * @param backend   where the data lives
 */
public record VolumeSpec(String name, String mountPath, boolean readOnly, String subPath, VolumeBackend backend) {

    public VolumeSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(mountPath, "mountPath");
        Objects.requireNonNull(backend, "backend");
    }
}
