package dev.opensandbox.server.config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code [storage]}: volumes.
 *
 * @param allowedHostPaths allow-list of host path prefixes for {@code host} volumes; the default
 *     empty list denies every host bind mount
 * @param volumeDefaultSize size of auto-created PVCs when a request gives none (default {@code 1Gi})
 * @param ossfsMountRoot host root for OSSFS mounts (default {@code /mnt/ossfs})
 */
public record StorageSection(List<String> allowedHostPaths, String volumeDefaultSize, String ossfsMountRoot) {

    private static final Pattern QUANTITY = Pattern.compile("[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?");

    public StorageSection {
        allowedHostPaths = Check.strings("storage.allowed_host_paths", allowedHostPaths);
        for (String prefix : allowedHostPaths) {
            Check.notBlank("storage.allowed_host_paths", prefix);
        }
        Check.notNull("storage.volume_default_size", volumeDefaultSize);
        if (!QUANTITY.matcher(volumeDefaultSize).matches()) {
            throw ConfigException.at("storage.volume_default_size",
                    "must be a Kubernetes quantity such as \"1Gi\" or \"500Mi\" (got \"" + volumeDefaultSize + "\")");
        }
        Check.notBlank("storage.ossfs_mount_root", ossfsMountRoot);
    }

    static StorageSection defaults() {
        return new StorageSection(List.of(), "1Gi", "/mnt/ossfs");
    }
}
