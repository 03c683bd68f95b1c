package dev.opensandbox.core;

/**
 * Upstream error code strings that are not specific to one runtime. They are part of the wire
 * contract: clients and scripts match on them.
 */
public final class ErrorCodes {

    public static final String UNKNOWN = "GENERAL::UNKNOWN_ERROR";
    /** Schema violations (HTTP 422); upstream has no code for these, this project names them. */
    public static final String VALIDATION_ERROR = "GENERAL::VALIDATION_ERROR";

    public static final String INVALID_PARAMETER = "SANDBOX::INVALID_PARAMETER";
    public static final String INVALID_METADATA_LABEL = "SANDBOX::INVALID_METADATA_LABEL";
    /** The reserved-key error of PATCH metadata, which upstream writes without a namespace. */
    public static final String PATCH_RESERVED_METADATA_LABEL = "INVALID_METADATA_LABEL";
    public static final String INVALID_METADATA_FORMAT = "INVALID_METADATA_FORMAT";
    public static final String UNSUPPORTED_POOL_REF = "SANDBOX::UNSUPPORTED_POOL_REF";
    public static final String API_NOT_SUPPORTED = "SANDBOX::API_NOT_SUPPORTED";

    /** Used by every runtime for renew errors, as upstream does. */
    public static final String INVALID_EXPIRATION = "DOCKER::INVALID_EXPIRATION";
    /** Used by every runtime for endpoint port errors, as upstream does. */
    public static final String INVALID_PORT = "DOCKER::INVALID_PORT";
    public static final String INVALID_ENTRYPOINT = "DOCKER::INVALID_ENTRYPOINT";

    public static final String VOLUME_INVALID_NAME = "VOLUME::INVALID_NAME";
    public static final String VOLUME_DUPLICATE_NAME = "VOLUME::DUPLICATE_NAME";
    public static final String VOLUME_INVALID_MOUNT_PATH = "VOLUME::INVALID_MOUNT_PATH";
    public static final String VOLUME_INVALID_SUB_PATH = "VOLUME::INVALID_SUB_PATH";
    public static final String VOLUME_INVALID_HOST_PATH = "VOLUME::INVALID_HOST_PATH";
    public static final String VOLUME_HOST_PATH_NOT_ALLOWED = "VOLUME::HOST_PATH_NOT_ALLOWED";
    public static final String VOLUME_INVALID_PVC_NAME = "VOLUME::INVALID_PVC_NAME";
    public static final String VOLUME_INVALID_BACKEND = "VOLUME::INVALID_BACKEND";
    public static final String VOLUME_INVALID_OSSFS_BUCKET = "VOLUME::INVALID_OSSFS_BUCKET";
    public static final String VOLUME_INVALID_OSSFS_ENDPOINT = "VOLUME::INVALID_OSSFS_ENDPOINT";
    public static final String VOLUME_INVALID_OSSFS_OPTION = "VOLUME::INVALID_OSSFS_OPTION";
    public static final String VOLUME_INVALID_OSSFS_CREDENTIALS = "VOLUME::INVALID_OSSFS_CREDENTIALS";
    public static final String VOLUME_INVALID_OSSFS_VERSION = "VOLUME::INVALID_OSSFS_VERSION";

    public static final String SNAPSHOT_NOT_FOUND = "SNAPSHOT::NOT_FOUND";
    public static final String SNAPSHOT_NOT_READY = "SNAPSHOT::NOT_READY";
    public static final String SNAPSHOT_INVALID_RESTORE_CONFIG = "SNAPSHOT::INVALID_RESTORE_CONFIG";
    public static final String SNAPSHOT_INVALID_SOURCE_STATE = "SNAPSHOT::INVALID_SOURCE_STATE";
    public static final String SNAPSHOT_INVALID_STATE = "SNAPSHOT::INVALID_STATE";
    public static final String SNAPSHOT_DELETE_CONFLICT = "SNAPSHOT::DELETE_CONFLICT";
    public static final String SNAPSHOT_NOT_IMPLEMENTED = "SNAPSHOT::NOT_IMPLEMENTED";

    /** The pool codes carry upstream's {@code KUBERNETES} prefix on every runtime: pools are a Kubernetes feature there. */
    public static final String POOL_NOT_FOUND = "KUBERNETES::POOL_NOT_FOUND";
    public static final String POOL_ALREADY_EXISTS = "KUBERNETES::POOL_ALREADY_EXISTS";
    public static final String POOL_API_ERROR = "KUBERNETES::POOL_API_ERROR";
    public static final String POOL_NOT_SUPPORTED = "KUBERNETES::POOL_NOT_SUPPORTED";

    private ErrorCodes() {
    }
}
