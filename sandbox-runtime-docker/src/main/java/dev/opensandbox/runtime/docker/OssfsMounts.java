package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.VolumeBackend;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * OSS buckets mounted with ossfs on the Docker host (the server's host: the engine must be
 * local) and bound into sandboxes, as upstream does: one mount per path
 * {@code <ossfs_mount_root>/<bucket>/<subPath>}, shared by reference count, made with
 * {@code ossfs} (version 1.0) or {@code ossfs2} (2.0) from a temporary 0600 credentials file that
 * is deleted at once, released with {@code fusermount -u} (else {@code umount}) when the last
 * sandbox using it goes. Counts are rebuilt from the sandboxes' {@code opensandbox.io/ossfs-mounts}
 * labels at start. Commands run without a shell, each bounded.
 */
final class OssfsMounts {

    private static final Logger LOG = LoggerFactory.getLogger(OssfsMounts.class);
    static final String MOUNT_FAILED = "VOLUME::OSSFS_MOUNT_FAILED";
    static final String INVALID_MOUNT_ROOT = "VOLUME::INVALID_OSSFS_MOUNT_ROOT";
    static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(30);
    static final Duration UNMOUNT_TIMEOUT = Duration.ofSeconds(20);
    private static final Pattern UNSAFE = Pattern.compile("[\\s;&|`$<>(){}\\\\'\"]");

    private final String mountRoot;
    private final List<Path> searchPath;
    private final Map<String, Integer> counts = new HashMap<>();

    /**
     * @param mountRoot  {@code [storage] ossfs_mount_root}
     * @param searchPath where the ossfs tools are looked for (the server's {@code PATH})
     */
    OssfsMounts(String mountRoot, List<Path> searchPath) {
        this.mountRoot = mountRoot;
        this.searchPath = List.copyOf(searchPath);
    }

    static List<Path> pathOf(String pathVariable) {
        List<Path> dirs = new ArrayList<>();
        if (pathVariable != null) {
            for (String dir : pathVariable.split(java.io.File.pathSeparator)) {
                if (!dir.isBlank()) {
                    dirs.add(Path.of(dir));
                }
            }
        }
        return dirs;
    }

    /** The tool a version needs, if installed. */
    Optional<Path> tool(String name) {
        for (Path dir : searchPath) {
            Path candidate = dir.resolve(name);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    static String toolFor(VolumeBackend.Ossfs ossfs) {
        return "1.0".equals(ossfs.version()) ? "ossfs" : "ossfs2";
    }

    /** The host directory a bucket (and subPath) is mounted on; checked to stay under the bucket's root. */
    String mountPath(VolumeBackend.Ossfs ossfs, String subPath) {
        if (!mountRoot.startsWith("/")) {
            throw new RuntimeFailureException(INVALID_MOUNT_ROOT,
                "[storage] ossfs_mount_root must be an absolute path, got '" + mountRoot + "'.");
        }
        String bucketRoot = DockerVolumes.normalize(mountRoot + "/" + ossfs.bucket());
        String path = subPath == null || subPath.isEmpty() ? bucketRoot : DockerVolumes.normalize(bucketRoot + "/" + subPath);
        if (!path.equals(bucketRoot) && !path.startsWith(bucketRoot + "/")) {
            throw new InvalidRequestException(ErrorCodes.VOLUME_INVALID_SUB_PATH,
                "SubPath '" + subPath + "' leaves bucket '" + ossfs.bucket() + "'.");
        }
        return path;
    }

    /** Takes one reference on the mount of {@code path}, mounting the bucket first when nobody holds it. */
    synchronized void acquire(String path, VolumeBackend.Ossfs ossfs, String subPath) {
        Integer count = counts.get(path);
        if (count != null && count > 0) {
            counts.put(path, count + 1);
            return;
        }
        if (isMountPoint(path)) {
            LOG.info("ossfs: {} is already mounted; adopting it", path);
            counts.put(path, 1);
            return;
        }
        for (String value : new String[] {ossfs.bucket(), ossfs.endpoint()}) {
            if (UNSAFE.matcher(value).find()) {
                throw new InvalidRequestException(ErrorCodes.VOLUME_INVALID_OSSFS_BUCKET,
                    "OSSFS bucket and endpoint must not contain spaces, quotes or shell characters.");
            }
        }
        Path tool = tool(toolFor(ossfs)).orElseThrow(() -> new InvalidRequestException(DockerVolumes.VOLUME_OSSFS_UNAVAILABLE,
            "ossfs " + ossfs.version() + " volumes need the '" + toolFor(ossfs) + "' tool on the server's PATH."));
        Path credentials = null;
        try {
            Files.createDirectories(Path.of(path));
            credentials = Files.createFile(Path.of(System.getProperty("java.io.tmpdir"),
                "opensandbox-ossfs-" + UUID.randomUUID()), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rw-------")));
            String endpoint = ossfs.endpoint().contains("://") ? ossfs.endpoint() : "https://" + ossfs.endpoint();
            List<String> command = new ArrayList<>();
            command.add(tool.toString());
            String prefix = subPath == null || subPath.isEmpty() ? null : subPath.replaceAll("/+$", "");
            if (toolFor(ossfs).equals("ossfs")) {
                Files.writeString(credentials, ossfs.bucket() + ":" + ossfs.accessKeyId() + ":" + ossfs.accessKeySecret(),
                    StandardCharsets.UTF_8);
                command.add(prefix == null ? ossfs.bucket() : ossfs.bucket() + ":/" + prefix);
                command.add(path);
                command.add("-o");
                command.add("url=" + endpoint);
                command.add("-o");
                command.add("passwd_file=" + credentials);
                for (String option : ossfs.options()) {
                    command.add("-o");
                    command.add(option.strip());
                }
            } else {
                StringBuilder conf = new StringBuilder()
                    .append("--oss_endpoint=").append(endpoint).append('\n')
                    .append("--oss_bucket=").append(ossfs.bucket()).append('\n')
                    .append("--oss_access_key_id=").append(ossfs.accessKeyId()).append('\n')
                    .append("--oss_access_key_secret=").append(ossfs.accessKeySecret()).append('\n');
                if (prefix != null) {
                    conf.append("--oss_bucket_prefix=").append(prefix).append("/\n");
                }
                for (String option : ossfs.options()) {
                    conf.append("--").append(option.strip()).append('\n');
                }
                Files.writeString(credentials, conf, StandardCharsets.UTF_8);
                command.addAll(List.of("mount", path, "-c", credentials.toString()));
            }
            String failure = run(command, MOUNT_TIMEOUT);
            if (failure != null) {
                throw new RuntimeFailureException(MOUNT_FAILED, "Failed to mount OSS bucket '" + ossfs.bucket() + "' at "
                    + path + ": " + failure);
            }
            counts.put(path, 1);
            LOG.info("ossfs: mounted bucket {} at {}", ossfs.bucket(), path);
        } catch (IOException e) {
            throw new RuntimeFailureException(MOUNT_FAILED, "Failed to prepare the OSS mount at " + path + ": "
                + e.getMessage(), e);
        } finally {
            if (credentials != null) {
                try {
                    Files.deleteIfExists(credentials);
                } catch (IOException e) {
                    LOG.warn("ossfs: could not delete the credentials file {}", credentials);
                }
            }
        }
    }

    /** Drops one reference; the last one unmounts. An untracked path is never unmounted. */
    synchronized void release(String path) {
        Integer count = counts.get(path);
        if (count == null) {
            return;
        }
        if (count > 1) {
            counts.put(path, count - 1);
            return;
        }
        counts.remove(path);
        Optional<Path> fusermount = tool("fusermount");
        String failure = fusermount.isPresent() ? run(List.of(fusermount.get().toString(), "-u", path), UNMOUNT_TIMEOUT)
            : "fusermount not found";
        if (failure != null) {
            Optional<Path> umount = tool("umount");
            failure = umount.isPresent() ? run(List.of(umount.get().toString(), path), UNMOUNT_TIMEOUT) : failure;
        }
        if (failure != null) {
            LOG.warn("ossfs: could not unmount {}: {}", path, failure);
        } else {
            LOG.info("ossfs: unmounted {}", path);
        }
    }

    /** Counts one reference per sandbox label entry (at start, before any release). */
    synchronized void adopt(List<String> paths) {
        for (String path : paths) {
            counts.merge(path, 1, Integer::sum);
        }
    }

    synchronized int references(String path) {
        return counts.getOrDefault(path, 0);
    }

    private static boolean isMountPoint(String path) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] fields = line.split(" ");
                if (fields.length > 1 && fields[1].replace("\\040", " ").equals(path)) {
                    return true;
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }

    /** Runs a command without a shell; null on success, else what went wrong. */
    private static String run(List<String> command, Duration timeout) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                return "no answer within " + timeout.toSeconds() + " s";
            }
            String output = new String(process.getInputStream().readNBytes(4096), StandardCharsets.UTF_8).strip();
            return process.exitValue() == 0 ? null : "exit " + process.exitValue() + (output.isEmpty() ? "" : ": " + output);
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
