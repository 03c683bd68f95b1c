package dev.opensandbox.core.service;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.MalformedRequestException;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Volume rules, split as upstream splits them: {@link #checkShape} holds what its request schema
 * rejects with 422, {@link #checkSemantics} what its service rejects with 400. Symlink-aware host
 * path checks need the host file system and belong to the Docker adapter.
 */
final class VolumeRules {

    private static final Pattern DNS_LABEL = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
    private static final Pattern HOST_PATH = Pattern.compile("^(/|[A-Za-z]:[\\\\/])");
    private static final Pattern DRIVE_PREFIX = Pattern.compile("^[A-Za-z]:");
    private static final Pattern DRIVE_ROOT = Pattern.compile("^[A-Za-z]:/");
    private static final Pattern STORAGE = Pattern.compile("^\\d+(\\.\\d+)?(Ki|Mi|Gi|Ti|Pi|Ei)?$");
    private static final int MAX_VOLUME_NAME = 63;
    private static final int MAX_CLAIM_NAME = 253;
    /** Trees where no volume may be mounted at all (the mount point itself included). */
    private static final List<String> RESERVED_MOUNT_TREES = List.of("/proc", "/sys");

    private VolumeRules() {
    }

    /** The 422 rules of upstream's {@code Volume}, {@code Host}, {@code PVC} and {@code OSSFS} schemas. */
    static void checkShape(List<VolumeSpec> volumes) {
        for (int i = 0; i < volumes.size(); i++) {
            VolumeSpec v = volumes.get(i);
            String at = "volumes[" + i + "]";
            if (v.name().length() > MAX_VOLUME_NAME || !DNS_LABEL.matcher(v.name()).matches()) {
                throw malformed(at + ".name '" + v.name() + "' is invalid: must be at most 63 characters and match "
                    + DNS_LABEL.pattern() + ".");
            }
            if (!v.mountPath().startsWith("/")) {
                throw malformed(at + ".mountPath '" + v.mountPath() + "' must be an absolute path starting with '/'.");
            }
            if (v.backend() instanceof VolumeBackend.Host host) {
                if (!HOST_PATH.matcher(host.path()).lookingAt()) {
                    throw malformed(at + ".host.path '" + host.path() + "' must be an absolute path starting with '/'"
                        + " or a Windows drive letter (e.g. 'C:\\' or 'D:/').");
                }
            } else if (v.backend() instanceof VolumeBackend.Pvc pvc) {
                if (pvc.claimName().length() > MAX_CLAIM_NAME || !DNS_LABEL.matcher(pvc.claimName()).matches()) {
                    throw malformed(at + ".pvc.claimName '" + pvc.claimName() + "' is invalid: must be at most 253"
                        + " characters and match " + DNS_LABEL.pattern() + ".");
                }
                if (pvc.storage() != null && !STORAGE.matcher(pvc.storage()).matches()) {
                    throw malformed(at + ".pvc.storage '" + pvc.storage() + "' is invalid: must match "
                        + STORAGE.pattern() + ", for example 1Gi.");
                }
            } else if (v.backend() instanceof VolumeBackend.Ossfs ossfs) {
                if (ossfs.bucket().length() < 3 || ossfs.bucket().length() > 63) {
                    throw malformed(at + ".ossfs.bucket must be between 3 and 63 characters long.");
                }
                if (ossfs.endpoint().isEmpty()) {
                    throw malformed(at + ".ossfs.endpoint must not be empty.");
                }
                if (!ossfs.version().equals("1.0") && !ossfs.version().equals("2.0")) {
                    throw malformed(at + ".ossfs.version '" + ossfs.version() + "' is invalid. Supported values: "
                        + Messages.pythonList(List.of("1.0", "2.0")) + ".");
                }
                if (ossfs.accessKeyId() == null || ossfs.accessKeyId().isEmpty()
                    || ossfs.accessKeySecret() == null || ossfs.accessKeySecret().isEmpty()) {
                    throw malformed(at + ".ossfs: OSSFS inline credentials are required: accessKeyId and accessKeySecret.");
                }
            }
        }
    }

    /** The 400 rules of upstream's {@code ensure_volumes_valid}, volume by volume as upstream. */
    static void checkSemantics(List<VolumeSpec> volumes, List<String> allowedHostPaths) {
        Set<String> seen = new HashSet<>();
        Set<String> mountPaths = new HashSet<>();
        for (VolumeSpec v : volumes) {
            if (!seen.add(v.name())) {
                throw invalid(ErrorCodes.VOLUME_DUPLICATE_NAME,
                    "Duplicate volume name '" + v.name() + "'. Each volume must have a unique name.");
            }
            checkMountPath(v.mountPath());
            if (!mountPaths.add(withoutTrailingSlash(v.mountPath()))) {
                throw invalid(ErrorCodes.VOLUME_INVALID_MOUNT_PATH, "Duplicate mountPath '" + v.mountPath()
                    + "': two volumes cannot be mounted at the same place.");
            }
            checkSubPath(v.subPath());
            if (v.backend() instanceof VolumeBackend.Host host) {
                checkHostPath(host.path(), allowedHostPaths);
            } else if (v.backend() instanceof VolumeBackend.Ossfs ossfs) {
                checkOssfs(ossfs);
            }
        }
    }

    /**
     * Where the container runtime itself mounts its kernel file systems, a volume cannot go: Docker
     * refuses {@code /} when it creates the container, and fails to start one with a mount at or
     * under {@code /proc}, under {@code /sys} or at {@code /dev} (after the volumes were made); a
     * mount over {@code /sys} itself would hide the kernel's view from the sandbox.
     * Runtimes resolve {@code .} and {@code ..} differently, so they are refused too.
     */
    /** Linux's limits (PATH_MAX less its NUL, NAME_MAX), which every filesystem a sandbox mounts shares. */
    static final int MAX_PATH_BYTES = 4095;
    static final int MAX_NAME_BYTES = 255;

    private static int utf8Length(String text) {
        return text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    static void checkMountPath(String mountPath) {
        if (mountPath.indexOf('\0') >= 0) {
            throw invalid(ErrorCodes.VOLUME_INVALID_MOUNT_PATH,
                "mountPath '" + CreateSandboxValidator.printable(mountPath) + "' contains a NUL character.");
        }
        if (utf8Length(mountPath) > MAX_PATH_BYTES) {
            throw invalid(ErrorCodes.VOLUME_INVALID_MOUNT_PATH, "mountPath is longer than " + MAX_PATH_BYTES
                + " bytes, more than any filesystem accepts.");
        }
        for (String part : mountPath.split("/", -1)) {
            if (part.equals(".") || part.equals("..")) {
                throw invalid(ErrorCodes.VOLUME_INVALID_MOUNT_PATH,
                    "mountPath '" + mountPath + "' contains a '" + part + "' component; write the path without it.");
            }
            if (utf8Length(part) > MAX_NAME_BYTES) {
                throw invalid(ErrorCodes.VOLUME_INVALID_MOUNT_PATH, "mountPath has a component longer than "
                    + MAX_NAME_BYTES + " bytes, more than any filesystem accepts in one name.");
            }
        }
        String path = withoutTrailingSlash(mountPath.replaceAll("/{2,}", "/"));
        for (String reserved : RESERVED_MOUNT_TREES) {
            if (path.equals(reserved) || path.startsWith(reserved + "/")) {
                throw reservedMountPath(mountPath);
            }
        }
        if (path.equals("/") || path.equals("/dev")) {
            throw reservedMountPath(mountPath);
        }
    }

    private static InvalidRequestException reservedMountPath(String mountPath) {
        return invalid(ErrorCodes.VOLUME_INVALID_MOUNT_PATH, "mountPath '" + mountPath + "' is reserved for the "
            + "container's own file systems (/, /dev, and /proc and /sys with everything under them); mount the "
            + "volume somewhere else.");
    }

    private static String withoutTrailingSlash(String path) {
        String p = path;
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    static void checkSubPath(String subPath) {
        if (subPath == null || subPath.isEmpty()) {
            return;
        }
        if (subPath.indexOf('\0') >= 0) {
            throw invalid(ErrorCodes.VOLUME_INVALID_SUB_PATH,
                "SubPath '" + CreateSandboxValidator.printable(subPath) + "' contains a NUL character.");
        }
        if (subPath.startsWith("/")) {
            throw invalid(ErrorCodes.VOLUME_INVALID_SUB_PATH,
                "SubPath '" + subPath + "' must be a relative path, not absolute.");
        }
        // Backslashes too: a Windows host would treat "..\\x" as traversal even though upstream does not.
        for (String part : subPath.split("[/\\\\]", -1)) {
            if (part.equals("..")) {
                throw invalid(ErrorCodes.VOLUME_INVALID_SUB_PATH,
                    "SubPath '" + subPath + "' contains path traversal '..' which is not allowed.");
            }
        }
    }

    static void checkHostPath(String path, List<String> allowedHostPaths) {
        if (path.indexOf('\0') >= 0) {
            throw invalid(ErrorCodes.VOLUME_INVALID_HOST_PATH,
                "Host path '" + CreateSandboxValidator.printable(path) + "' contains a NUL character.");
        }
        String forward = path.replace('\\', '/');
        String tail = DRIVE_ROOT.matcher(forward).lookingAt() ? forward.substring(2) : forward;
        // A whole ".." component, not the substring "/..": "/data/..cache" is a legal directory name.
        for (String part : tail.split("/", -1)) {
            if (part.equals("..")) {
                throw invalid(ErrorCodes.VOLUME_INVALID_HOST_PATH,
                    "Host path '" + path + "' contains path traversal component '..'.");
            }
        }
        if (tail.contains("//") || (tail.length() > 1 && tail.endsWith("/"))) {
            throw invalid(ErrorCodes.VOLUME_INVALID_HOST_PATH,
                "Host path '" + path + "' is not normalized. Remove redundant slashes.");
        }
        String candidate = normalizeForPrefixMatch(path);
        for (String prefix : allowedHostPaths) {
            String p = normalizeForPrefixMatch(prefix);
            // A root prefix ("/") keeps its slash after normalization; do not require a second one.
            String under = p.endsWith("/") ? p : p + "/";
            if (candidate.equals(p) || candidate.startsWith(under)) {
                return;
            }
        }
        throw invalid(ErrorCodes.VOLUME_HOST_PATH_NOT_ALLOWED,
            "Host path '" + path + "' is not under any allowed prefix ([storage] allowed_host_paths). Allowed prefixes: "
                + Messages.pythonList(allowedHostPaths));
    }

    /** Forward slashes, lower-case drive letter (drive letters are case-insensitive), no trailing slash. */
    static String normalizeForPrefixMatch(String path) {
        String p = path.replace('\\', '/');
        if (DRIVE_PREFIX.matcher(p).lookingAt()) {
            p = p.substring(0, 1).toLowerCase(Locale.ROOT) + p.substring(1);
        }
        if (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    private static void checkOssfs(VolumeBackend.Ossfs ossfs) {
        if (ossfs.bucket().isBlank()) {
            throw invalid(ErrorCodes.VOLUME_INVALID_OSSFS_BUCKET, "OSSFS bucket cannot be empty.");
        }
        if (ossfs.endpoint().isBlank()) {
            throw invalid(ErrorCodes.VOLUME_INVALID_OSSFS_ENDPOINT, "OSSFS endpoint cannot be empty.");
        }
        for (String option : ossfs.options()) {
            if (option.isBlank()) {
                throw invalid(ErrorCodes.VOLUME_INVALID_OSSFS_OPTION, "OSSFS options must be non-empty strings.");
            }
            // The runtime adds the "-o"/"--" itself; a leading dash would smuggle in arbitrary ossfs flags.
            if (option.strip().startsWith("-")) {
                throw invalid(ErrorCodes.VOLUME_INVALID_OSSFS_OPTION, "OSSFS option '" + option
                    + "' is invalid: options must be raw option payloads without '-' prefix (e.g. 'allow_other', 'uid=1000').");
            }
        }
    }

    private static MalformedRequestException malformed(String message) {
        return new MalformedRequestException(ErrorCodes.VALIDATION_ERROR, message);
    }

    private static InvalidRequestException invalid(String code, String message) {
        return new InvalidRequestException(code, message);
    }
}
