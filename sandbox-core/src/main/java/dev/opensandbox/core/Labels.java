package dev.opensandbox.core;

/**
 * Label keys the upstream server writes on runtime objects. They are part of the contract: a
 * sandbox created by the upstream server carries them and must be adopted unchanged.
 */
public final class Labels {

    /** Reserved prefix: user metadata may not use it. */
    public static final String RESERVED_PREFIX = "opensandbox.io/";

    public static final String ID = "opensandbox.io/id";
    public static final String EXPIRES_AT = "opensandbox.io/expires-at";
    public static final String MANUAL_CLEANUP = "opensandbox.io/manual-cleanup";
    public static final String PLATFORM_OS = "opensandbox.io/platform-os";
    public static final String PLATFORM_ARCH = "opensandbox.io/platform-arch";
    public static final String SNAPSHOT_ID = "opensandbox.io/snapshot-id";
    public static final String ACCESS_RENEW_EXTEND_SECONDS = "opensandbox.io/access-renew-extend-seconds";
    public static final String VOLUME_MANAGED_BY = "opensandbox.io/volume-managed-by";
    public static final String OSSFS_MOUNTS = "opensandbox.io/ossfs-mounts";
    public static final String EGRESS_AUTH_TOKEN = "opensandbox.io/egress-auth-token";
    public static final String EMBEDDING_PROXY_PORT = "opensandbox.io/embedding-proxy-port";
    public static final String HTTP_PORT = "opensandbox.io/http-port";
    public static final String EGRESS_SIDECAR_FOR = "opensandbox.io/egress-sidecar-for";
    /**
     * Ours, not upstream's: the deployment (one server, or the replicas sharing one store) that
     * created an object. A runtime only sees, adopts, expires and reaps objects of its own
     * deployment; see {@link dev.opensandbox.core.spi.Deployment}.
     */
    public static final String DEPLOYMENT = "opensandbox.io/deployment";

    private Labels() {
    }

    /** True when {@code key} uses the reserved {@code opensandbox.io/} prefix. */
    public static boolean isReserved(String key) {
        return key.startsWith(RESERVED_PREFIX);
    }
}
