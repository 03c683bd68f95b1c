package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectVolumeResponse;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ContainerMount;
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
import java.util.function.Supplier;

/**
 * The {@code volumes} of a create request as Docker bind strings: host paths (behind
 * {@code [storage] allowed_host_paths}, symlink-aware) and named volumes for the {@code pvc}
 * backend (auto-created with the managed-by label, optionally deleted with the sandbox, subPath on
 * the {@code local} driver). Everything it creates for a request is returned so that a failed
 * create, a delete and an expiry can remove it (upstream leaked auto-created volumes when a later
 * step failed, and on expiry).
 *
 * <p>A bind source on the host is never strictly inside a directory that some container mounts
 * read-write: that container could swap it for a symlink between the check and the mount (see
 * {@link #refuseSwappableSources}).
 *
 * <p>The host-path checks run on the server's filesystem, which is the engine's only when the
 * engine is local (a unix socket). With a remote engine the lexical allowlist check still applies
 * and Docker creates a missing directory itself; symlinks cannot be resolved from here.
 */
final class DockerVolumes {

    private static final Logger LOG = LoggerFactory.getLogger(DockerVolumes.class);
    static final String MANAGED_BY_SERVER = "server";
    /**
     * Ours: on a volume the server created to go with one sandbox (deleteOnSandboxTermination, the
     * credential proxy's), that sandbox's id. The sandbox's own label lists such volumes too, but a
     * crash can leave a volume whose container was never made, or already removed: this label lets
     * remove and the orphan reaper find it from the sandbox id alone.
     */
    static final String DELETE_WITH_SANDBOX = "opensandbox.io/delete-with-sandbox";
    /** Ours: beside {@link #DELETE_WITH_SANDBOX}, when the sandbox was created (epoch seconds), for the reaper's grace. */
    static final String CREATED_AT = "opensandbox.io/created-at";

    /** The sandbox a volume is made for: its id, and when the core created it. */
    record Owner(dev.opensandbox.core.SandboxId id, java.time.Instant createdAt) {
    }
    static final String VOLUME_PVC_NOT_FOUND = "VOLUME::PVC_NOT_FOUND";
    static final String VOLUME_PVC_INSPECT_FAILED = "VOLUME::PVC_INSPECT_FAILED";
    static final String VOLUME_PVC_SUBPATH_UNSUPPORTED_DRIVER = "VOLUME::PVC_SUBPATH_UNSUPPORTED_DRIVER";
    static final String VOLUME_HOST_PATH_CREATE_FAILED = "VOLUME::HOST_PATH_CREATE_FAILED";
    static final String VOLUME_OSSFS_UNAVAILABLE = "VOLUME::OSSFS_UNAVAILABLE";
    /** Ours: a host path below a directory that some container can write, so it could be swapped before the mount. */
    static final String VOLUME_HOST_PATH_UNDER_WRITABLE_MOUNT = "VOLUME::HOST_PATH_UNDER_WRITABLE_MOUNT";

    private final DockerClient docker;
    private final List<String> allowedHostPaths;
    private final boolean localEngine;
    private final OssfsMounts ossfs;
    private final Ownership ownership;

    DockerVolumes(DockerClient docker, List<String> allowedHostPaths, boolean localEngine, OssfsMounts ossfs,
                  Ownership ownership) {
        this.docker = docker;
        this.allowedHostPaths = List.copyOf(allowedHostPaths);
        this.localEngine = localEngine;
        this.ossfs = ossfs;
        this.ownership = ownership;
    }

    /**
     * What a create needs: the binds, the volumes created for this request (removed again if the
     * create fails), those to delete with the sandbox (recorded in its label), and the host
     * directories the binds name, as checked (see {@link #refuseSwappableSources}).
     */
    record Prepared(List<String> binds, List<String> created, List<String> deleteWithSandbox, List<String> ossfsMounts,
                    List<CheckedSource> hostSources) {
    }

    /**
     * A bind source on the host: the path as requested (with its subPath) and what it resolved to
     * when it was checked, which is what the bind names.
     */
    record CheckedSource(String requested, String checked) {
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
    Prepared prepare(List<VolumeSpec> volumes, Owner owner) {
        List<String> binds = new ArrayList<>();
        List<String> created = new ArrayList<>();
        List<String> deleteWithSandbox = new ArrayList<>();
        List<String> mounted = new ArrayList<>();
        List<CheckedSource> hostSources = new ArrayList<>();
        // Listed once per request, and only when a volume binds a host directory.
        Supplier<List<WritableMount>> writableOnce = new Supplier<>() {
            private List<WritableMount> listed;

            @Override
            public List<WritableMount> get() {
                if (listed == null) {
                    listed = writableMounts();
                }
                return listed;
            }
        };
        try {
            for (VolumeSpec volume : volumes) {
                String mode = volume.readOnly() ? "ro" : "rw";
                if (volume.backend() instanceof VolumeBackend.Host host) {
                    CheckedSource source = hostSource(host.path(), volume.subPath(), writableOnce);
                    hostSources.add(source);
                    binds.add(source.checked() + ":" + volume.mountPath() + ":" + mode);
                } else if (volume.backend() instanceof VolumeBackend.Pvc pvc) {
                    String source = namedSource(pvc, volume.subPath(), owner, created, deleteWithSandbox);
                    if (source.startsWith("/")) {
                        // A subPath of a local volume: a host directory that containers with the volume can change.
                        refuseUnderWritableMount(source, Path.of(source), writableOnce.get());
                        hostSources.add(new CheckedSource(source, source));
                    }
                    binds.add(source + ":" + volume.mountPath() + ":" + mode);
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
        return new Prepared(List.copyOf(binds), List.copyOf(created), List.copyOf(deleteWithSandbox), List.copyOf(mounted),
            List.copyOf(hostSources));
    }

    // ---------------------------------------------------------------- host paths

    /**
     * Checks a host path (with its subPath): under an allowed prefix, also through symlinks, and
     * not inside a directory some container can write (before anything is created there); creates
     * the directory when missing and says what to bind: the resolved path, checked again after the
     * creation, so that no symlink is followed again when the container starts.
     */
    CheckedSource hostSource(String path, String subPath, Supplier<List<WritableMount>> writable) {
        String resolved = subPath == null || subPath.isEmpty() ? path : normalize(path + "/" + subPath);
        requireAllowed(resolved, path);
        if (!localEngine) {
            refuseUnderWritableMount(resolved, Path.of(resolved), writable.get());
            return new CheckedSource(resolved, resolved);
        }
        Path target = Path.of(resolved);
        refuseUnderWritableMount(resolved, requireUnderRealPrefix(target, resolved), writable.get());
        if (!Files.isRegularFile(target)) {
            try {
                Files.createDirectories(target);
            } catch (IOException | RuntimeException e) {
                throw new RuntimeFailureException(VOLUME_HOST_PATH_CREATE_FAILED,
                    "Failed to create host path '" + resolved + "': " + e.getMessage(), e);
            }
        }
        return new CheckedSource(resolved, requireUnderRealPrefix(target, resolved).toString());
    }

    private Path requireUnderRealPrefix(Path target, String resolved) {
        Path real = realPathOfExistingPart(target);
        for (String prefix : allowedHostPaths) {
            Path realPrefix = realPathOfExistingPart(Path.of(prefix));
            if (real.equals(realPrefix) || real.startsWith(realPrefix)) {
                return real;
            }
        }
        throw new InvalidRequestException(ErrorCodes.VOLUME_HOST_PATH_NOT_ALLOWED,
            "Host path '" + resolved + "' resolves through a symlink to '" + real + "', which is not under any "
                + "allowed prefix ([storage] allowed_host_paths).");
    }

    /**
     * Refuses bind sources that a running or stopped container could have swapped, or still could
     * swap, between the check and the mount: Docker resolves a bind source when the container
     * starts, so a sandbox that writes a directory could replace a subdirectory of it with a
     * symlink to {@code /} after the check (the host-path race). Refused:
     * <ul>
     *   <li>a source that now resolves elsewhere than when it was checked;</li>
     *   <li>a source strictly below a directory that any container on the engine mounts
     *       read-write (real paths compared). The directory itself stays allowed: a container
     *       cannot replace the root of its own mount.</li>
     * </ul>
     * The caller holds the runtime's host-mount lock from this check until the container has
     * started, so that no create of this server mounts a writable parent in between. Not covered:
     * host processes (and other servers or Docker clients) that write under the allowed prefixes,
     * and containers restarted outside the server, which resolve their binds again.
     *
     * @throws InvalidRequestException {@value #VOLUME_HOST_PATH_UNDER_WRITABLE_MOUNT} or
     *                                 {@code VOLUME::HOST_PATH_NOT_ALLOWED}
     */
    void refuseSwappableSources(Prepared prepared) {
        if (prepared.hostSources().isEmpty()) {
            return;
        }
        List<WritableMount> writable = writableMounts();
        for (CheckedSource source : prepared.hostSources()) {
            Path now = resolvedNow(source.requested());
            if (!now.toString().equals(source.checked())) {
                throw new InvalidRequestException(ErrorCodes.VOLUME_HOST_PATH_NOT_ALLOWED, "Host path '"
                    + source.requested() + "' changed while it was checked (it resolved to '" + source.checked()
                    + "', now to '" + now + "').");
            }
            refuseUnderWritableMount(source.requested(), now, writable);
        }
    }

    private static void refuseUnderWritableMount(String requested, Path real, List<WritableMount> writable) {
        for (WritableMount mount : writable) {
            if (real.startsWith(mount.source()) && !real.equals(mount.source())) {
                throw new InvalidRequestException(VOLUME_HOST_PATH_UNDER_WRITABLE_MOUNT, "Host path '" + requested
                    + "' lies inside '" + mount.source() + "', which container " + mount.container() + " mounts "
                    + "read-write: it could replace the path with a symlink before the mount. Mount '" + mount.source()
                    + "' itself, or a directory no container can write.");
            }
        }
    }

    /** A directory some container can write: its real path, and the container's name for messages. */
    record WritableMount(Path source, String container) {
    }

    private List<WritableMount> writableMounts() {
        List<WritableMount> writable = new ArrayList<>();
        for (Container container : docker.listContainersCmd().withShowAll(true).exec()) {
            if (container.getMounts() == null) {
                continue;
            }
            for (ContainerMount mount : container.getMounts()) {
                String source = mount.getSource();
                if (Boolean.TRUE.equals(mount.getRw()) && source != null && source.startsWith("/")) {
                    String name = container.getNames() == null || container.getNames().length == 0 ? container.getId()
                        : container.getNames()[0].replaceFirst("^/", "");
                    writable.add(new WritableMount(resolvedNow(source), name));
                }
            }
        }
        return writable;
    }

    private Path resolvedNow(String path) {
        return localEngine ? realPathOfExistingPart(Path.of(path)) : Path.of(normalize(path));
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

    private String namedSource(VolumeBackend.Pvc pvc, String subPath, Owner owner,
                               List<String> created, List<String> deleteWithSandbox) {
        String name = pvc.claimName();
        InspectVolumeResponse volume = inspect(name);
        if (volume == null) {
            if (!pvc.createIfNotExists()) {
                throw new InvalidRequestException(VOLUME_PVC_NOT_FOUND,
                    "Volume '" + name + "' does not exist and createIfNotExists is false.");
            }
            try {
                docker.createVolumeCmd().withName(name)
                    .withLabels(managedLabels(pvc.deleteOnSandboxTermination() ? owner : null)).exec();
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
            return real.toString();
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

    /** Creates a volume the server owns that goes with a sandbox (for example the credential proxy's shared one). */
    void createManaged(String name, Owner deleteWith) {
        try {
            docker.createVolumeCmd().withName(name).withLabels(managedLabels(deleteWith)).exec();
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(VOLUME_PVC_INSPECT_FAILED,
                "Failed to create volume '" + name + "': " + DockerErrors.describe(e), e);
        }
    }

    private Map<String, String> managedLabels(Owner deleteWith) {
        return ownership.stamp(deleteWith == null ? Map.of(Labels.VOLUME_MANAGED_BY, MANAGED_BY_SERVER)
            : Map.of(Labels.VOLUME_MANAGED_BY, MANAGED_BY_SERVER, DELETE_WITH_SANDBOX, deleteWith.id().toString(),
                CREATED_AT, Long.toString(deleteWith.createdAt().getEpochSecond())));
    }

    /** The names of this deployment's volumes that go with {@code id} (one engine call). */
    List<String> deletedWith(dev.opensandbox.core.SandboxId id) {
        List<String> names = new ArrayList<>();
        for (InspectVolumeResponse volume : volumesLabelled(DELETE_WITH_SANDBOX + "=" + id)) {
            if (ownership.owns(volume.getLabels())) {
                names.add(volume.getName());
            }
        }
        return names;
    }

    /**
     * Removes this deployment's volumes that go with a sandbox which no longer exists: not among
     * {@code liveSandboxes}, not in {@code inFlight}, and made more than {@code grace} ago (a create
     * of another process may not have made its container yet). Failures are logged.
     */
    void reapOrphans(java.util.Set<String> liveSandboxes, java.util.Set<dev.opensandbox.core.SandboxId> inFlight,
                     java.time.Duration grace, java.time.Instant now) {
        List<String> orphans = new ArrayList<>();
        for (InspectVolumeResponse volume : volumesLabelled(DELETE_WITH_SANDBOX)) {
            Map<String, String> labels = volume.getLabels();
            String owner = labels == null ? null : labels.get(DELETE_WITH_SANDBOX);
            if (owner == null || !ownership.owns(labels) || liveSandboxes.contains(owner)
                || dev.opensandbox.core.SandboxId.tryParse(owner).map(inFlight::contains).orElse(false)
                || youngerThan(volume, grace, now)) {
                continue;
            }
            orphans.add(volume.getName());
        }
        if (!orphans.isEmpty()) {
            LOG.info("Removing volumes of vanished sandboxes: {}", orphans);
            removeManaged(orphans);
        }
    }

    private List<InspectVolumeResponse> volumesLabelled(String filter) {
        List<InspectVolumeResponse> volumes = docker.listVolumesCmd().withFilter("label", List.of(filter)).exec().getVolumes();
        return volumes == null ? List.of() : volumes;
    }

    /** Whether the sandbox the volume goes with was created less than {@code grace} before {@code now}; unknown: young. */
    static boolean youngerThan(InspectVolumeResponse volume, java.time.Duration grace, java.time.Instant now) {
        String created = volume.getLabels() == null ? null : volume.getLabels().get(CREATED_AT);
        try {
            return created == null || java.time.Instant.ofEpochSecond(Long.parseLong(created)).plus(grace).isAfter(now);
        } catch (NumberFormatException e) {
            return true;
        }
    }

    // ---------------------------------------------------------------- cleanup

    /**
     * Removes the named volumes (a sandbox's {@code opensandbox.io/volume-managed-by} list), but
     * only those whose own labels say this server's deployment created them; errors are logged,
     * never thrown.
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
                if (!ownership.owns(labels)) {
                    LOG.info("Volume {} belongs to another deployment; left in place", name);
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
