package dev.opensandbox.core;

import java.util.Objects;

/**
 * The container image of a sandbox.
 *
 * @param uri  the image reference as the client wrote it, for example {@code python:3.11}
 * @param auth registry credentials, or null to use the runtime's own
 */
public record ImageSpec(String uri, RegistryAuth auth) {

    public ImageSpec {
        Objects.requireNonNull(uri, "uri");
    }

    public static ImageSpec of(String uri) {
        return new ImageSpec(uri, null);
    }
}
