package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectVolumeResponse;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code volumes} of a create request as Docker bind strings: host paths (behind
 * {@code [storage] allowed_host_paths}, symlink-aware) and named volumes for the {@code pvc}
 * backend (auto-created with the managed-by label, optionally deleted with the sandbox, subPath on
 * the {@code local} driver). Everything it creates for a request is returned so that a failed
 * create, a delete and an expiry can remove it (upstream leaked auto-created volumes when a later
 * step failed, and on expiry).
 *
 * <p>The host-path checks run on the server's filesystem, which is the engine's only when the
 * engine is local (a unix socket). With a remote engine the lexical allowlist check still applies
 * and Docker creates a missing directory itself; symlinks cannot be resolved from here.
 */
final class DockerVolumes {

    private static final Logger LOG = LoggerFactory.getLogger(DockerVolumes.class);
    static final String MANAGED_BY_SERVER = "server";
    static final String VOLUME_PVC_NOT_FOUND = "VOLUME::PVC_NOT_FOUND";
    static final String VOLUME_PVC_INSPECT_FAILED = "VOLUME::PVC_INSPECT_FAILED";
    static final String VOLUME_PVC_SUBPATH_UNSUPPORTED_DRIVER = "VOLUME::PVC_SUBPATH_UNSUPPORTED_DRIVER";
    static final String VOLUME_HOST_PATH_CREATE_FAILED = "VOLUME::HOST_PATH_CREATE_FAILED";
    static final String VOLUME_OSSFS_UNAVAILABLE = "VOLUME::OSSFS_UNAVAILABLE";

    private final DockerClient docker;
    private final List<String> allowedHostPaths;
    private final boolean localEngine;
    private final OssfsMounts ossfs;

    DockerVolumes(DockerClient docker, List<String> allowedHostPaths, boolean localEngine, OssfsMounts ossfs) {
        this.docker = docker;
        this.allowedHostPaths = List.copyOf(allowedHostPaths);
        this.localEngine = localEngine;
        this.ossfs = ossfs;
    }

    /**
     * What a create needs: the binds, the volumes created for this request (removed again if the
     * create fails), and those to delete with the sandbox (recorded in its label).
     */
    record Prepared(List<String> binds, List<String> created, List<String> deleteWithSandbox, List<String> ossfsMounts) {
    }

    /**
     * Refuses, before anything is created, an ossfs volume this server cannot mount: the engine
     * must share the server's host and the ossfs tool of the requested version must be installed.
     */
    void checkMountable(VolumeSpec volume) {
        if (!(volume.backend() instanceof VolumeBackend.Ossfs oss)) {
            return;
        }
        if (!localEngine) {
            throw new InvalidRequestException(VOLUME_OSSFS_UNAVAILABLE, "Volume '" + volume.name()
                + "': ossfs volumes are mounted on the server's host, which is not the Docker engine's (DOCKER_HOST "
                + "is remote).");
        }
        if (ossfs.tool(OssfsMounts.toolFor(oss)).isEmpty()) {
            throw new InvalidRequestException(VOLUME_OSSFS_UNAVAILABLE, "Volume '" + volume.name() + "': ossfs "
                + oss.version() + " volumes need the '" + OssfsMounts.toolFor(oss) + "' tool on the server's PATH.");
        }
    }

    /** Undoes {@link #prepare} for a create that failed later. */
    void release(Prepared prepared, List<String> alsoCreated) {
        List<String> volumes = new ArrayList<>(prepared.created());
        volumes.addAll(alsoCreated);
        removeManaged(volumes);
        releaseOssfs(prepared.ossfsMounts());
    }

    void releaseOssfs(List<String> mountPaths) {
        for (String path : mountPaths) {
            ossfs.release(path);
        }
    }

    void adoptOssfs(List<String> mountPaths) {
        ossfs.adopt(mountPaths);
    }

    /** Checks and prepares every volume; on any failure removes what it created and throws. */
    Prepared prepare(List<VolumeSpec> volumes) {
        List<String> binds = new ArrayList<>();
        List<String> created = new ArrayList<>();
        List<String> deleteWithSandbox = new ArrayList<>();
        List<String> mounted = new ArrayList<>();
        try {
            for (VolumeSpec volume : volumes) {
                String mode = volume.readOnly() ? "ro" : "rw";
                if (volume.backend() instanceof VolumeBackend.Host host) {
                    binds.add(hostSource(host.path(), volume.subPath()) + ":" + volume.mountPath() + ":" + mode);
                } else if (volume.backend() instanceof VolumeBackend.Pvc pvc) {
                    binds.add(namedSource(pvc, volume.subPath(), created, deleteWithSandbox) + ":" + volume.mountPath()
                        + ":" + mode);
                } else if (volume.backend() instanceof VolumeBackend.Ossfs oss) {
                    checkMountable(volume);
                    String path = ossfs.mountPath(oss, volume.subPath());
                    if (!mounted.contains(path)) { // one reference per request and path
                        ossfs.acquire(path, oss, volume.subPath());
                        mounted.add(path);
                    }
                    binds.add(path + ":" + volume.mountPath() + ":" + mode);
                }
            }
        } catch (RuntimeException e) {
            removeQuietly(created);
            releaseOssfs(mounted);
            throw e;
        }
        return new Prepared(List.copyOf(binds), List.copyOf(created), List.copyOf(deleteWithSandbox), List.copyOf(mounted));
    }

    // ---------------------------------------------------------------- host paths

    String hostSource(String path, String subPath) {
        String resolved = subPath == null || subPath.isEmpty() ? path : normalize(path + "/" + subPath);
        requireAllowed(resolved, path);
        if (!localEngine) {
            return resolved;
        }
        Path target = Path.of(resolved);
        Path real = realPathOfExistingPart(target);
        boolean underARealPrefix = false;
        for (String prefix : allowedHostPaths) {
            Path realPrefix = realPathOfExistingPart(Path.of(prefix));
            if (real.equals(realPrefix) || real.startsWith(realPrefix)) {
                underARealPrefix = true;
                break;
            }
        }
        if (!underARealPrefix) {
            throw new InvalidRequestException(ErrorCodes.VOLUME_HOST_PATH_NOT_ALLOWED,
                "Host path '" + resolved + "' resolves through a symlink to '" + real + "', which is not under any "
                    + "allowed prefix ([storage] allowed_host_paths).");
        }
        if (Files.isRegularFile(target)) {
            return resolved;
        }
        try {
            Files.createDirectories(target);
        } catch (IOException | RuntimeException e) {
            throw new RuntimeFailureException(VOLUME_HOST_PATH_CREATE_FAILED,
                "Failed to create host path '" + resolved + "': " + e.getMessage(), e);
        }
        return resolved;
    }

    private void requireAllowed(String resolved, String requested) {
        String candidate = normalize(resolved);
        for (String prefix : allowedHostPaths) {
            String p = normalize(prefix);
            String under = p.endsWith("/") ? p : p + "/";
            if (candidate.equals(p) || candidate.startsWith(under)) {
                return;
            }
        }
        throw new InvalidRequestException(ErrorCodes.VOLUME_HOST_PATH_NOT_ALLOWED,
            "Host path '" + requested + "' is not under any allowed prefix ([storage] allowed_host_paths).");
    }

    /** The real path of the longest existing ancestor, with the rest appended (a missing path has no links yet). */
    static Path realPathOfExistingPart(Path path) {
        Path absolute = path.toAbsolutePath().normalize();
        Path existing = absolute;
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return absolute;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(absolute)).normalize();
        } catch (IOException e) {
            return absolute;
        }
    }

    static String normalize(String path) {
        String normalized = Path.of(path).normalize().toString();
        return normalized.isEmpty() ? "/" : normalized;
    }

    // ---------------------------------------------------------------- named volumes

    private String namedSource(VolumeBackend.Pvc pvc, String subPath, List<String> created, List<String> deleteWithSandbox) {
        String name = pvc.claimName();
        InspectVolumeResponse volume = inspect(name);
        if (volume == null) {
            if (!pvc.createIfNotExists()) {
                throw new InvalidRequestException(VOLUME_PVC_NOT_FOUND,
                    "Volume '" + name + "' does not exist and createIfNotExists is false.");
            }
            try {
                docker.createVolumeCmd().withName(name).withLabels(Map.of(Labels.VOLUME_MANAGED_BY, MANAGED_BY_SERVER))
                    .exec();
            } catch (RuntimeException e) {
                throw new RuntimeFailureException(VOLUME_PVC_INSPECT_FAILED,
                    "Failed to create volume '" + name + "': " + DockerErrors.describe(e), e);
            }
            created.add(name);
            if (pvc.deleteOnSandboxTermination()) {
                deleteWithSandbox.add(name);
            }
            volume = inspect(name);
            if (volume == null) {
                throw new RuntimeFailureException(VOLUME_PVC_INSPECT_FAILED, "Volume '" + name + "' vanished after creation.");
            }
        }
        if (subPath == null || subPath.isEmpty()) {
            return name;
        }
        String mountpoint = volume.getMountpoint();
        if (!"local".equals(volume.getDriver()) || mountpoint == null || mountpoint.isBlank()) {
            throw new InvalidRequestException(VOLUME_PVC_SUBPATH_UNSUPPORTED_DRIVER,
                "Volume '" + name + "' uses driver '" + volume.getDriver() + "': subPath needs the local driver.");
        }
        String source = normalize(mountpoint + "/" + subPath);
        String root = normalize(mountpoint);
        if (!source.startsWith(root + "/")) {
            throw new InvalidRequestException(ErrorCodes.VOLUME_INVALID_SUB_PATH,
                "SubPath '" + subPath + "' leaves volume '" + name + "'.");
        }
        if (localEngine && Files.isReadable(Path.of(root))) {
            Path real = realPathOfExistingPart(Path.of(source));
            if (!real.startsWith(realPathOfExistingPart(Path.of(root)))) {
                throw new InvalidRequestException(ErrorCodes.VOLUME_INVALID_SUB_PATH,
                    "SubPath '" + subPath + "' of volume '" + name + "' escapes it through a symlink.");
            }
        }
        return source;
    }

    private InspectVolumeResponse inspect(String name) {
        try {
            return docker.inspectVolumeCmd(name).exec();
        } catch (com.github.dockerjava.api.exception.NotFoundException e) {
            return null;
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(VOLUME_PVC_INSPECT_FAILED,
                "Failed to inspect volume '" + name + "': " + DockerErrors.describe(e), e);
        }
    }

    /** Creates a volume the server owns (for example the credential proxy's shared one). */
    void createManaged(String name) {
        try {
            docker.createVolumeCmd().withName(name).withLabels(Map.of(Labels.VOLUME_MANAGED_BY, MANAGED_BY_SERVER)).exec();
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(VOLUME_PVC_INSPECT_FAILED,
                "Failed to create volume '" + name + "': " + DockerErrors.describe(e), e);
        }
    }

    // ---------------------------------------------------------------- cleanup

    /**
     * Removes the named volumes (a sandbox's {@code opensandbox.io/volume-managed-by} list), but
     * only those whose own label says the server created them; errors are logged, never thrown.
     */
    void removeManaged(List<String> names) {
        for (String name : names) {
            try {
                InspectVolumeResponse volume = inspect(name);
                if (volume == null) {
                    continue;
                }
                Map<String, String> labels = volume.getLabels();
                if (labels == null || !MANAGED_BY_SERVER.equals(labels.get(Labels.VOLUME_MANAGED_BY))) {
                    LOG.info("Volume {} is not managed by the server; left in place", name);
                    continue;
                }
                docker.removeVolumeCmd(name).exec();
                LOG.info("Removed volume {}", name);
            } catch (SandboxException | com.github.dockerjava.api.exception.DockerException e) {
                LOG.warn("Failed to remove volume {}: {}", name, DockerErrors.describe(e));
            } catch (RuntimeException e) {
                LOG.warn("Failed to remove volume {}: {}", name, DockerErrors.describe(e));
            }
        }
    }

    private void removeQuietly(List<String> created) {
        removeManaged(created);
    }
}
