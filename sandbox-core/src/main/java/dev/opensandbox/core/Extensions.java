package dev.opensandbox.core;

/** Well-known keys of {@link SandboxSpec#extensions()} and of the labels the server writes. */
public final class Extensions {

    /** Opts a sandbox into renew-on-access; a whole number of seconds in 300..86400. */
    public static final String ACCESS_RENEW_EXTEND_SECONDS = "access.renew.extend.seconds";

    /** Creates the sandbox from a pre-warmed pool (Kubernetes only). */
    public static final String POOL_REF = "poolRef";

    /** Keys with this prefix are copied to workload annotations (Kubernetes only). */
    public static final String ANNOTATION_PREFIX = "opensandbox.extensions.";

    private Extensions() {
    }
}
