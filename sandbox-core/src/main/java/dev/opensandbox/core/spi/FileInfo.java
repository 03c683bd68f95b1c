package dev.opensandbox.core.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * What a runtime knows about a file inside a sandbox.
 *
 * @param path       absolute path
 * @param size       size in bytes
 * @param mode       permission bits, for example {@code 0644}
 * @param directory  whether it is a directory
 * @param modifiedAt last modification time, or null
 */
public record FileInfo(String path, long size, int mode, boolean directory, Instant modifiedAt) {

    public FileInfo {
        Objects.requireNonNull(path, "path");
    }
}
