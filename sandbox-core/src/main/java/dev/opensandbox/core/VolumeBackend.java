package dev.opensandbox.core;

import java.util.List;
import java.util.Objects;

/** Where the data of a {@link VolumeSpec} lives. Exactly one backend per volume. */
public sealed interface VolumeBackend {

    /** A directory or file of the runtime's host, subject to the configured allow-list. */
    record Host(String path) implements VolumeBackend {
        public Host {
            Objects.requireNonNull(path, "path");
        }
    }

    /**
     * A named, persistent volume: a PersistentVolumeClaim on Kubernetes, a named volume on Docker.
     *
     * @param storage a quantity such as {@code 1Gi}, or null for the configured default
     */
    record Pvc(String claimName, boolean createIfNotExists, boolean deleteOnSandboxTermination,
               String storageClass, String storage, List<String> accessModes) implements VolumeBackend {
        public Pvc {
            Objects.requireNonNull(claimName, "claimName");
            accessModes = accessModes == null ? List.of() : List.copyOf(accessModes);
        }
    }

    /** An Alibaba Cloud OSS bucket mounted with ossfs. */
    record Ossfs(String bucket, String endpoint, String version, List<String> options,
                 String accessKeyId, String accessKeySecret) implements VolumeBackend {
        public Ossfs {
            Objects.requireNonNull(bucket, "bucket");
            Objects.requireNonNull(endpoint, "endpoint");
            version = version == null ? "2.0" : version;
            options = options == null ? List.of() : List.copyOf(options);
        }

        @Override
        public String toString() {
            return "Ossfs[bucket=" + bucket + ", endpoint=" + endpoint + ", version=" + version
                + ", options=" + options + ", accessKeyId=" + accessKeyId + ", accessKeySecret=***]";
        }
    }
}
