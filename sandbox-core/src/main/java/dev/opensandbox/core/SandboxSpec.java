package dev.opensandbox.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a client asks for when it creates a sandbox.
 *
 * <p>The record only normalizes (null collections become empty, copies become immutable); the
 * rules of the lifecycle API are checked by {@link dev.opensandbox.core.service.CreateSandboxValidator},
 * so that a client gets every upstream error code in the upstream order.
 *
 * @param image          the image to run, or null when restoring {@code snapshotId} or using a pool
 * @param snapshotId     a snapshot to restore, or null
 * @param entrypoint     the command to run; required with {@code image}
 * @param env            environment variables
 * @param metadata       user labels (Kubernetes label rules)
 * @param resourceLimits limits as sent by the client, or null in pool mode
 * @param timeout        time to live, or null for manual cleanup
 * @param platform       an os/arch constraint, or null
 * @param volumes        volumes to mount
 * @param networkPolicy  egress rules, or null for unrestricted egress
 * @param credentialProxy whether the egress sidecar also runs the credential proxy
 * @param secureAccess   whether endpoints require a per-sandbox access token
 * @param extensions     free-form options; see {@link Extensions}
 */
public record SandboxSpec(
        ImageSpec image,
        String snapshotId,
        List<String> entrypoint,
        Map<String, String> env,
        Map<String, String> metadata,
        Map<String, String> resourceLimits,
        Duration timeout,
        Platform platform,
        List<VolumeSpec> volumes,
        NetworkPolicy networkPolicy,
        boolean credentialProxy,
        boolean secureAccess,
        Map<String, String> extensions) {

    public SandboxSpec {
        entrypoint = entrypoint == null ? null : List.copyOf(entrypoint);
        env = immutableCopy(env);
        metadata = immutableCopy(metadata);
        resourceLimits = resourceLimits == null ? null : immutableCopy(resourceLimits);
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
        extensions = immutableCopy(extensions);
    }

    private static Map<String, String> immutableCopy(Map<String, String> map) {
        return map == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.image = image;
        b.snapshotId = snapshotId;
        b.entrypoint = entrypoint == null ? null : new ArrayList<>(entrypoint);
        b.env = new LinkedHashMap<>(env);
        b.metadata = new LinkedHashMap<>(metadata);
        b.resourceLimits = resourceLimits == null ? null : new LinkedHashMap<>(resourceLimits);
        b.timeout = timeout;
        b.platform = platform;
        b.volumes = new ArrayList<>(volumes);
        b.networkPolicy = networkPolicy;
        b.credentialProxy = credentialProxy;
        b.secureAccess = secureAccess;
        b.extensions = new LinkedHashMap<>(extensions);
        return b;
    }

    /** Builds a {@link SandboxSpec}; every field starts empty or null. */
    public static final class Builder {
        private ImageSpec image;
        private String snapshotId;
        private List<String> entrypoint;
        private Map<String, String> env = new LinkedHashMap<>();
        private Map<String, String> metadata = new LinkedHashMap<>();
        private Map<String, String> resourceLimits;
        private Duration timeout;
        private Platform platform;
        private List<VolumeSpec> volumes = new ArrayList<>();
        private NetworkPolicy networkPolicy;
        private boolean credentialProxy;
        private boolean secureAccess;
        private Map<String, String> extensions = new LinkedHashMap<>();

        private Builder() {
        }

        public Builder image(String uri) {
            this.image = uri == null ? null : ImageSpec.of(uri);
            return this;
        }

        public Builder image(ImageSpec image) {
            this.image = image;
            return this;
        }

        public Builder snapshotId(String snapshotId) {
            this.snapshotId = snapshotId;
            return this;
        }

        public Builder entrypoint(String... command) {
            this.entrypoint = command == null ? null : List.of(command);
            return this;
        }

        public Builder entrypoint(List<String> command) {
            this.entrypoint = command;
            return this;
        }

        public Builder env(Map<String, String> env) {
            this.env = env == null ? new LinkedHashMap<>() : new LinkedHashMap<>(env);
            return this;
        }

        public Builder env(String key, String value) {
            this.env.put(key, value);
            return this;
        }

        public Builder metadata(Map<String, String> metadata) {
            this.metadata = metadata == null ? new LinkedHashMap<>() : new LinkedHashMap<>(metadata);
            return this;
        }

        public Builder metadata(String key, String value) {
            this.metadata.put(key, value);
            return this;
        }

        public Builder resourceLimits(Map<String, String> limits) {
            this.resourceLimits = limits == null ? null : new LinkedHashMap<>(limits);
            return this;
        }

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public Builder platform(Platform platform) {
            this.platform = platform;
            return this;
        }

        public Builder volumes(List<VolumeSpec> volumes) {
            this.volumes = volumes == null ? new ArrayList<>() : new ArrayList<>(volumes);
            return this;
        }

        public Builder volume(VolumeSpec volume) {
            this.volumes.add(volume);
            return this;
        }

        public Builder networkPolicy(NetworkPolicy policy) {
            this.networkPolicy = policy;
            return this;
        }

        public Builder credentialProxy(boolean enabled) {
            this.credentialProxy = enabled;
            return this;
        }

        public Builder secureAccess(boolean secureAccess) {
            this.secureAccess = secureAccess;
            return this;
        }

        public Builder extensions(Map<String, String> extensions) {
            this.extensions = extensions == null ? new LinkedHashMap<>() : new LinkedHashMap<>(extensions);
            return this;
        }

        public Builder extension(String key, String value) {
            this.extensions.put(key, value);
            return this;
        }

        public SandboxSpec build() {
            return new SandboxSpec(image, snapshotId, entrypoint, env, metadata, resourceLimits, timeout, platform,
                volumes, networkPolicy, credentialProxy, secureAccess, extensions);
        }
    }
}
