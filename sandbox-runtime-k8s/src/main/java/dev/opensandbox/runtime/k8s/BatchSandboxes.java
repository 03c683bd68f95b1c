package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.SandboxId;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

/**
 * Names of the BatchSandbox custom resource and of the keys the server, the OpenSandbox
 * controller and the ingress agree on. They are the wire contract with the controller: keep them.
 */
final class BatchSandboxes {

    static final String GROUP = "sandbox.opensandbox.io";
    static final String VERSION = "v1alpha1";
    static final String API_VERSION = GROUP + "/" + VERSION;
    static final String KIND = "BatchSandbox";
    static final String PLURAL = "batchsandboxes";

    static final ResourceDefinitionContext CONTEXT = new ResourceDefinitionContext.Builder()
        .withGroup(GROUP).withVersion(VERSION).withKind(KIND).withPlural(PLURAL).withNamespaced(true).build();

    /** Written by the controller: a JSON array of pod IPs in pod-index order ({@code ""} for none yet). */
    static final String ENDPOINTS_ANNOTATION = "sandbox.opensandbox.io/endpoints";
    /** Where {@code opensandbox.extensions.<x>} request extensions are kept as annotations. */
    static final String EXTENSION_ANNOTATION_PREFIX = "opensandbox.io/extensions.";
    /**
     * The sandbox's secure-access token, which the OpenSandbox ingress compares with the
     * {@code OpenSandbox-Secure-Access} header. On the CR only (upstream also copies it to the pod
     * template, where anyone who can read pods sees it; the ingress reads only the CR).
     */
    static final String SECURE_ACCESS_TOKEN_ANNOTATION = "opensandbox.io/secure-access-token";

    /** The main container of the pod template. */
    static final String MAIN_CONTAINER = "sandbox";

    /** execd injection (only with {@code [runtime] execd_image}), exactly as upstream. */
    static final String EXECD_INSTALLER = "execd-installer";
    static final String EXECD_VOLUME = "opensandbox-bin";
    static final String EXECD_DIR = "/opt/opensandbox";
    static final String BOOTSTRAP = EXECD_DIR + "/bootstrap.sh";
    static final String EXECD_BINARY = EXECD_DIR + "/execd";
    static final String EXECD_INSTALL_SCRIPT = "cp ./execd " + EXECD_BINARY + " && cp ./bootstrap.sh " + BOOTSTRAP
        + " && chmod +x " + EXECD_BINARY + " && chmod +x " + BOOTSTRAP;

    /** Status phases the controller writes. */
    static final String PHASE_PENDING = "Pending";
    static final String PHASE_SUCCEED = "Succeed";
    static final String PHASE_RUNNING = "Running";
    static final String PHASE_PAUSING = "Pausing";
    static final String PHASE_PAUSED = "Paused";
    static final String PHASE_RESUMING = "Resuming";
    static final String PHASE_FAILED = "Failed";

    /** Condition types the controller writes (only ever with status True: False ones are removed). */
    static final String CONDITION_POD_FAILED = "PodFailed";
    static final String CONDITION_PAUSE_FAILED = "PauseFailed";
    static final String CONDITION_RESUME_FAILED = "ResumeFailed";

    static final String GPU_RESOURCE = "nvidia.com/gpu";

    private BatchSandboxes() {
    }

    /** The BatchSandbox name of a sandbox: its id. */
    static String name(SandboxId id) {
        return id.toString();
    }

    /** The name objects created by upstream servers before the rename still carry. */
    static String legacyName(SandboxId id) {
        return "sandbox-" + id;
    }

    /** The dockerconfigjson Secret created for a request with registry credentials. */
    static String imagePullSecretName(SandboxId id) {
        return "opensandbox-image-auth-" + id;
    }
}
