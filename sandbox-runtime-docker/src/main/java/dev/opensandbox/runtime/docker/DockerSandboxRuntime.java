package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.command.LogContainerCmd;
import com.github.dockerjava.api.command.PullImageCmd;
import com.github.dockerjava.api.command.PullImageResultCallback;
import com.github.dockerjava.api.model.AuthConfig;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.DeviceRequest;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.NetworkSettings;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.model.Statistics;
import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.DeadlineExceededException;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.LabelJson;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.RegistryAuth;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.SandboxStatus;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;
import dev.opensandbox.core.service.ResourceLimitsParser;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.FileInfo;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.ResourceUsage;
import dev.opensandbox.core.spi.RuntimeCapabilities;
import dev.opensandbox.core.spi.SandboxRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link SandboxRuntime} on a Docker Engine through docker-java. One container per sandbox,
 * named {@code sandbox-<id>} and labelled with upstream's keys, so that containers created by
 * the upstream server are adopted unchanged.
 */
final class DockerSandboxRuntime implements SandboxRuntime {

    static final String TYPE = "docker";
    static final int EXECD_PORT = 44772;
    static final int HTTP_PORT = 8080;

    private static final Logger LOG = LoggerFactory.getLogger(DockerSandboxRuntime.class);

    private static final RuntimeCapabilities CAPABILITIES =
        new RuntimeCapabilities(DockerErrors.NAMESPACE, true, true, true, true, true, false);

    private final DockerRuntimeConfig config;
    private final DockerVolumes volumes;
    private final ExecdInjection injection;
    private final EgressSidecar egress;
    private final DockerSnapshots snapshots;
    static final String EXECD_PORT_IN_USE = "DOCKER::EXECD_PORT_IN_USE";
    /** Ours: the proxy does not relay sandboxes in host network mode (it would reach the host's loopback). */
    static final String PROXY_UNAVAILABLE_IN_HOST_MODE = "DOCKER::PROXY_UNAVAILABLE_IN_HOST_MODE";
    /** The engine's minimum memory limit (6 MiB): below it the engine refuses the container. */
    static final long MIN_MEMORY_BYTES = 6L << 20;
    /** The engine's smallest CPU limit (0.01 CPU): below it the container fails to start. */
    static final long MIN_CPU_MILLIS = 10;
    private final DockerClient docker;
    /** For exec attach, logs, statistics, pulls and file transfers: their own connections, never the control calls'. */
    private final DockerClient streams;
    private volatile Platform daemonPlatform;
    private final Clock clock;
    private final List<Capability> dropCapabilities;
    /** Image labels by image id; images are immutable by id, so entries never go stale. */
    private final Map<String, Map<String, String>> imageLabelsById = new ConcurrentHashMap<>();
    private volatile String publicHost;
    private volatile Integer engineCpus;
    private final Ownership ownership;
    private final Set<String> visibleEnv;
    /** Sandboxes being created or removed right now: reconcile leaves their objects alone. */
    private final Set<SandboxId> busy = ConcurrentHashMap.newKeySet();
    /**
     * Held by a create with volumes from the last check of its host-directory binds until its
     * container has started, so that no create of this runtime starts a container that could swap
     * them meanwhile (see {@link DockerVolumes#refuseSwappableSources}).
     */
    private final java.util.concurrent.locks.ReentrantLock hostMountLock = new java.util.concurrent.locks.ReentrantLock();

    /** A runtime on an engine that shares the server's filesystem (a local socket), without ossfs tools. */
    DockerSandboxRuntime(DockerRuntimeConfig config, DockerClient docker, Clock clock) {
        this(config, docker, clock, true, List.of());
    }

    /**
     * @param localEngine whether the engine shares the server's filesystem, so host-path volumes
     *                    can be resolved (symlinks) and created, and OSS buckets mounted, from here
     * @param toolPath    where host tools (ossfs, ossfs2, fusermount, umount) are looked for
     */
    DockerSandboxRuntime(DockerRuntimeConfig config, DockerClient docker, Clock clock, boolean localEngine,
                         List<java.nio.file.Path> toolPath) {
        this(config, docker, docker, clock, localEngine, toolPath);
    }

    /** @param streams the client for long streams, on connections of its own (see {@link DockerEngine}) */
    DockerSandboxRuntime(DockerRuntimeConfig config, DockerClient docker, DockerClient streams, Clock clock,
                         boolean localEngine, List<java.nio.file.Path> toolPath) {
        this.config = config;
        this.docker = docker;
        this.streams = streams;
        this.clock = clock;
        this.dropCapabilities = capabilities(config.dropCapabilities());
        this.ownership = new Ownership(config.deployment());
        this.visibleEnv = Set.copyOf(config.diagnosticsVisibleEnv());
        this.volumes = new DockerVolumes(docker, config.allowedHostPaths(), localEngine,
            new OssfsMounts(config.ossfsMountRoot(), toolPath), ownership);
        adoptOssfsMounts();
        this.injection = new ExecdInjection(docker, config.execdImage(),
            (image, platform) -> ensureImage(image, null, platform), clock, ownership);
        this.egress = new EgressSidecar(docker, config, (image, platform) -> ensureImage(image, null, platform),
            ownership);
        this.snapshots = new DockerSnapshots(docker, EngineTransport.longAnswerWithin(config.apiTimeout()),
            this::sandboxNotFound, ownership);
    }

    private static List<Capability> capabilities(List<String> names) {
        List<Capability> result = new ArrayList<>();
        for (String name : names) {
            String bare = name.toUpperCase(Locale.ROOT).startsWith("CAP_") ? name.substring(4) : name;
            try {
                result.add(Capability.valueOf(bare.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new dev.opensandbox.core.UnavailableException(DockerErrors.INITIALIZATION_ERROR,
                    "Invalid Docker runtime configuration: docker.drop_capabilities contains unknown capability '"
                        + name + "'.");
            }
        }
        return List.copyOf(result);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public RuntimeCapabilities capabilities() {
        return CAPABILITIES;
    }

    // ---------------------------------------------------------------- validate and create

    @Override
    public void validate(SandboxSpec spec) {
        if (spec.networkPolicy() != null) {
            if (config.egressImage() == null) {
                throw invalid("egress.image must be configured when networkPolicy is provided.");
            }
            if (config.hostNetwork() || config.userDefinedNetwork()) {
                throw invalid("networkPolicy needs docker.network_mode = \"bridge\" (it is \"" + config.networkMode()
                    + "\"): the egress sidecar owns the sandbox's network namespace on the default bridge.");
            }
        }
        if (config.execdImage() != null && spec.entrypoint() != null && spec.entrypoint().size() == 1) {
            try {
                ExecdInjection.command(spec.entrypoint());
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, "entrypoint: " + e.getMessage());
            }
        }
        for (VolumeSpec volume : spec.volumes()) {
            refuseColons(volume);
            volumes.checkMountable(volume);
        }
        if (spec.platform() != null && "windows".equalsIgnoreCase(spec.platform().os())) {
            throw invalid("platform.os 'windows' is not supported by this server's Docker runtime.");
        }
        if (spec.resourceLimits() != null) {
            checkLimitsTheEngineAccepts(ResourceLimitsParser.parse(spec.resourceLimits()), spec.resourceLimits());
        }
    }

    /** A bind is written {@code source:target:mode}: a colon in either path would split it elsewhere. */
    private static void refuseColons(VolumeSpec volume) {
        if (volume.mountPath().indexOf(':') >= 0) {
            throw new InvalidRequestException(ErrorCodes.VOLUME_INVALID_MOUNT_PATH, "Volume '" + volume.name()
                + "': mountPath '" + volume.mountPath() + "' contains ':', which Docker's bind syntax cannot carry.");
        }
        if (volume.subPath() != null && volume.subPath().indexOf(':') >= 0) {
            throw new InvalidRequestException(ErrorCodes.VOLUME_INVALID_SUB_PATH, "Volume '" + volume.name()
                + "': subPath '" + volume.subPath() + "' contains ':', which Docker's bind syntax cannot carry.");
        }
        if (volume.backend() instanceof VolumeBackend.Host host && host.path().indexOf(':') >= 0) {
            throw new InvalidRequestException(ErrorCodes.VOLUME_INVALID_HOST_PATH, "Volume '" + volume.name()
                + "': host path '" + host.path() + "' contains ':', which Docker's bind syntax cannot carry.");
        }
    }

    /** The engine refuses a memory limit under 6 MiB, and CPU limits under 0.01 or above its own CPU count. */
    private void checkLimitsTheEngineAccepts(ResourceLimits limits, Map<String, String> requested) {
        if (limits.memoryBytes().isPresent() && limits.memoryBytes().getAsLong() < MIN_MEMORY_BYTES) {
            throw invalid("Invalid resourceLimits.memory '" + requested.get("memory") + "': Docker needs at least 6Mi.");
        }
        if (limits.cpuMillis().isPresent()) {
            long millis = limits.cpuMillis().getAsLong();
            if (millis < MIN_CPU_MILLIS) {
                throw invalid("Invalid resourceLimits.cpu '" + requested.get("cpu") + "': Docker needs at least 10m "
                    + "(0.01 CPU).");
            }
            Integer cpus = engineCpus();
            if (cpus != null && millis > cpus * 1000L) {
                throw invalid("Invalid resourceLimits.cpu '" + requested.get("cpu") + "': the Docker engine has " + cpus
                    + " CPU" + (cpus == 1 ? "" : "s") + ".");
            }
        }
    }

    /** The engine's CPU count, asked once; null when the engine does not say. */
    private Integer engineCpus() {
        Integer known = engineCpus;
        if (known == null) {
            try {
                Integer reported = docker.infoCmd().exec().getNCPU();
                if (reported != null && reported > 0) {
                    known = reported;
                    engineCpus = known;
                }
            } catch (RuntimeException e) {
                LOG.debug("Engine CPU count unknown: {}", DockerErrors.describe(e));
            }
        }
        return known;
    }

    /**
     * Creates and starts the sandbox's objects. While it runs, {@link #reapOrphans} leaves the
     * sandbox's sidecar alone: it exists before the sandbox container does.
     */
    @Override
    public Sandbox create(ProvisionRequest request) {
        boolean marked = busy.add(request.id());
        try {
            return provision(request);
        } finally {
            if (marked) {
                busy.remove(request.id());
            }
        }
    }

    private Sandbox provision(ProvisionRequest request) {
        SandboxSpec spec = request.spec();
        validate(spec);
        SandboxId id = request.id();
        String image = request.image().uri();
        ensureImage(image, request.image().auth(), spec.platform());
        String networkMode = config.networkMode();
        if (config.userDefinedNetwork()) {
            ensureNetworkExists(networkMode);
        }
        ExecdInjection.Archives execd = null;
        if (config.execdImage() != null) {
            refuseASecondHostModeDaemon(networkMode);
            execd = injection.archives(spec.platform() == null ? "default"
                : spec.platform().os() + "/" + spec.platform().arch(), spec.platform());
        }
        // Last of the preparations: what they create is removed again if anything after them fails.
        DockerVolumes.Owner volumeOwner = new DockerVolumes.Owner(id, request.createdAt());
        DockerVolumes.Prepared mounts = volumes.prepare(spec.volumes(), volumeOwner);
        List<String> createdVolumes = new ArrayList<>(mounts.created());
        List<String> deleteWithSandbox = new ArrayList<>(mounts.deleteWithSandbox());
        List<String> binds = new ArrayList<>(mounts.binds());
        Map<String, String> envVars = new LinkedHashMap<>(spec.env());
        EgressSidecar.Started sidecar = null;
        if (spec.networkPolicy() != null) {
            try {
                String runtimeVolume = null;
                if (spec.credentialProxy()) {
                    runtimeVolume = "opensandbox-runtime-" + id;
                    volumes.createManaged(runtimeVolume, volumeOwner);
                    createdVolumes.add(runtimeVolume);
                    deleteWithSandbox.add(runtimeVolume);
                    binds.add(runtimeVolume + ":" + ExecdInjection.INSTALL_DIR + ":rw");
                    envVars.put(EgressSidecar.TRANSPARENT_ENV, "true");
                }
                sidecar = egress.start(id, spec.networkPolicy(), spec.credentialProxy(), runtimeVolume);
            } catch (RuntimeException e) {
                volumes.release(mounts, createdVolumes);
                throw e;
            }
            networkMode = "container:" + sidecar.containerId();
        }
        Map<String, String> labels = labels(request, networkMode);
        if (!deleteWithSandbox.isEmpty()) {
            labels.put(Labels.VOLUME_MANAGED_BY, LabelJson.encode(deleteWithSandbox));
        }
        if (!mounts.ossfsMounts().isEmpty()) {
            labels.put(Labels.OSSFS_MOUNTS, LabelJson.encode(mounts.ossfsMounts()));
        }
        HostConfig hostConfig = hostConfig(request.limits(), networkMode);
        if (sidecar != null) {
            labels.put(Labels.EGRESS_AUTH_TOKEN, sidecar.token());
            labels.put(Labels.EMBEDDING_PROXY_PORT, Integer.toString(sidecar.execdHostPort()));
            labels.put(Labels.HTTP_PORT, Integer.toString(sidecar.httpHostPort()));
            // The namespace is the sidecar's: only it may change the firewall.
            List<Capability> drop = new ArrayList<>(dropCapabilities);
            if (!drop.contains(Capability.NET_ADMIN)) {
                drop.add(Capability.NET_ADMIN);
            }
            hostConfig.withCapDrop(drop.toArray(new Capability[0]));
        }
        if (!binds.isEmpty()) {
            hostConfig.withBinds(binds.stream().map(Bind::parse).toList());
        }

        CreateContainerCmd create = docker.createContainerCmd(image)
            .withName(containerName(id))
            .withLabels(labels)
            .withEnv(env(envVars))
            // The requested argv exactly: the image's ENTRYPOINT never wraps it, its CMD is not appended.
            .withEntrypoint(execd == null ? request.entrypoint() : ExecdInjection.entrypoint())
            .withHostConfig(hostConfig);
        if (execd != null) {
            create.withCmd(ExecdInjection.command(request.entrypoint()));
        }
        if (publishesPorts(networkMode)) {
            create.withExposedPorts(ExposedPort.tcp(EXECD_PORT), ExposedPort.tcp(HTTP_PORT));
        }
        if (spec.platform() != null) {
            create.withPlatform(spec.platform().os() + "/" + spec.platform().arch());
        }

        String containerId;
        boolean mountsVolumes = !spec.volumes().isEmpty();
        if (mountsVolumes) {
            hostMountLock.lock();
        }
        try {
            try {
                volumes.refuseSwappableSources(mounts);
                containerId = create.exec().getId();
            } catch (RuntimeException e) {
                if (!(e instanceof SandboxException) && !(e instanceof com.github.dockerjava.api.exception.ConflictException)) {
                    // A timed-out create may still have made the container: reap whatever carries this id.
                    removeQuietly(id);
                }
                if (sidecar != null) {
                    egress.remove(id);
                }
                volumes.release(mounts, createdVolumes);
                throw e instanceof SandboxException known ? known : startFailed(id, e);
            }
            try {
                if (execd != null) {
                    injection.install(containerId, execd);
                }
                docker.startContainerCmd(containerId).exec();
            } catch (RuntimeException e) {
                removeContainerQuietly(id, containerId);
                if (sidecar != null) {
                    egress.remove(id);
                }
                volumes.release(mounts, createdVolumes);
                throw e instanceof SandboxException known ? known : startRefused(id, request, e);
            }
        } finally {
            if (mountsVolumes) {
                hostMountLock.unlock();
            }
        }
        LOG.info("Sandbox {} started in container {} ({} network)", id, shortId(containerId), networkMode);

        Instant expiresAt = request.expiresAt() == null ? null : request.expiresAt().truncatedTo(ChronoUnit.MICROS);
        String snapshotId = blankToNull(spec.snapshotId());
        SandboxStatus status = new SandboxStatus(SandboxState.RUNNING, "CONTAINER_RUNNING",
            "Sandbox container started successfully.", request.createdAt());
        return new Sandbox(id, snapshotId == null ? image : null, snapshotId, spec.platform(), status, spec.metadata(),
            request.entrypoint(), expiresAt, request.createdAt());
    }

    /**
     * An injected daemon listens on 44772 of the network namespace it runs in: in host mode every
     * sandbox shares the host's, so a second one could not bind it and its clients would reach the
     * first sandbox (upstream routes them there silently). Refused instead.
     */
    private void refuseASecondHostModeDaemon(String networkMode) {
        if (!networkMode.equalsIgnoreCase("host")) {
            return;
        }
        List<Container> existing = docker.listContainersCmd()
            .withLabelFilter(Map.of(ContainerMapper.NETWORK_MODE_LABEL, "host")).exec();
        for (Container container : existing) {
            Map<String, String> labels = container.getLabels();
            if (labels != null && labels.containsKey(Labels.ID) && !labels.containsKey(Labels.EGRESS_SIDECAR_FOR)) {
                throw new ConflictException(EXECD_PORT_IN_USE, "Sandbox " + labels.get(Labels.ID) + " already runs an "
                    + "injected execd on port " + EXECD_PORT + " of the host network: with [runtime] execd_image, host "
                    + "network mode runs one sandbox at a time. Use docker.network_mode = \"bridge\" for more.");
            }
        }
    }

    /** A GPU request on an engine without a GPU device driver is the request's fault, told as such. */
    private SandboxException startRefused(SandboxId id, ProvisionRequest request, RuntimeException cause) {
        String engineSays = DockerErrors.describe(cause);
        if (request.limits().gpuCount().isPresent() && engineSays.contains("could not select device driver")) {
            return new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, "Invalid resourceLimits.gpu: this Docker "
                + "engine has no GPU device driver (" + engineSays + ").", cause);
        }
        if (programMissingFromImage(request.entrypoint(), engineSays)) {
            return new InvalidRequestException(ErrorCodes.INVALID_ENTRYPOINT, "entrypoint[0] '" + request.entrypoint().get(0)
                + "' cannot be started in image " + request.image().uri() + " (" + engineSays + ").", cause);
        }
        return startFailed(id, cause);
    }

    /**
     * Whether the engine refused to start the requested program itself (runc: {@code exec: "prog": ...}):
     * not in the image, not executable, a directory. The request's mistake, not the server's; only the
     * requested program counts, so a failure of a wrapper the server put around it stays a 500.
     */
    static boolean programMissingFromImage(List<String> entrypoint, String engineSays) {
        if (entrypoint == null || entrypoint.isEmpty()) {
            return false;
        }
        String program = "exec: \"" + entrypoint.get(0) + "\": ";
        String unquoted = engineSays.replace("\\\"", "\""); // the engine's JSON escapes may still be there
        int at = unquoted.indexOf(program);
        if (at < 0) {
            return false;
        }
        String reason = unquoted.substring(at + program.length()).toLowerCase(Locale.ROOT);
        return reason.contains("executable file not found") || reason.contains("no such file or directory")
            || reason.contains("permission denied") || reason.contains("is a directory")
            || reason.contains("exec format error");
    }

    private RuntimeFailureException startFailed(SandboxId id, RuntimeException cause) {
        LOG.warn("Sandbox {} failed to start: {}", id, DockerErrors.describe(cause));
        return new RuntimeFailureException(DockerErrors.START_FAILED,
            "Failed to start sandbox container: " + DockerErrors.describe(cause), cause);
    }

    /** Upstream's label contract (Appendix A) plus ours: requested image, entrypoint and network mode. */
    Map<String, String> labels(ProvisionRequest request, String networkMode) {
        SandboxSpec spec = request.spec();
        Map<String, String> labels = new LinkedHashMap<>(spec.metadata());
        labels.put(Labels.ID, request.id().toString());
        if (request.expiresAt() != null) {
            labels.put(Labels.EXPIRES_AT, PythonTime.isoformat(request.expiresAt()));
        } else {
            labels.put(Labels.MANUAL_CLEANUP, "true");
        }
        Platform platform = spec.platform();
        if (platform != null) {
            labels.put(Labels.PLATFORM_OS, platform.os().toLowerCase(Locale.ROOT));
            labels.put(Labels.PLATFORM_ARCH, platform.arch().toLowerCase(Locale.ROOT));
        }
        if (blankToNull(spec.snapshotId()) != null) {
            labels.put(Labels.SNAPSHOT_ID, spec.snapshotId());
        }
        String extend = spec.extensions().get("access.renew.extend.seconds");
        if (extend != null && !extend.isBlank()) {
            labels.put(Labels.ACCESS_RENEW_EXTEND_SECONDS, extend.trim());
        }
        labels.put(ContainerMapper.IMAGE_LABEL, request.image().uri());
        labels.put(ContainerMapper.ENTRYPOINT_LABEL, LabelJson.encode(request.entrypoint()));
        labels.put(ContainerMapper.NETWORK_MODE_LABEL, networkMode);
        return ownership.stamp(labels);
    }

    private static List<String> env(Map<String, String> env) {
        List<String> entries = new ArrayList<>();
        env.forEach((key, value) -> {
            if (value != null) {
                entries.add(key + "=" + value);
            }
        });
        return entries;
    }

    HostConfig hostConfig(ResourceLimits limits, String networkMode) {
        HostConfig host = HostConfig.newHostConfig().withNetworkMode(networkMode);
        limits.memoryBytes().ifPresent(bytes -> host.withMemory(bytes));
        limits.nanoCpus().ifPresent(nanos -> host.withNanoCPUs(nanos));
        limits.gpuCount().ifPresent(count -> host.withDeviceRequests(List.of(new DeviceRequest()
            .withCount(count == ResourceLimits.ALL_GPUS ? -1 : count)
            .withCapabilities(List.of(List.of("gpu"))))));
        List<String> securityOpts = new ArrayList<>();
        if (config.noNewPrivileges()) {
            securityOpts.add("no-new-privileges:true");
        }
        if (config.apparmorProfile() != null) {
            securityOpts.add("apparmor=" + config.apparmorProfile());
        }
        if (config.seccompProfile() != null) {
            securityOpts.add("seccomp=" + config.seccompProfile());
        }
        if (!securityOpts.isEmpty()) {
            host.withSecurityOpts(securityOpts);
        }
        if (!dropCapabilities.isEmpty()) {
            host.withCapDrop(dropCapabilities.toArray(new Capability[0]));
        }
        if (config.pidsLimit() > 0) {
            host.withPidsLimit(config.pidsLimit());
        }
        if (config.ociRuntime() != null) {
            host.withRuntime(config.ociRuntime());
        }
        if (publishesPorts(networkMode)) {
            // An empty host port lets Docker choose a free one in its own namespace (W7).
            Ports ports = new Ports();
            ports.bind(ExposedPort.tcp(EXECD_PORT), Ports.Binding.bindIp(config.portBindAddress()));
            ports.bind(ExposedPort.tcp(HTTP_PORT), Ports.Binding.bindIp(config.portBindAddress()));
            host.withPortBindings(ports);
        }
        return host;
    }

    private static boolean publishesPorts(String networkMode) {
        String mode = networkMode.toLowerCase(Locale.ROOT);
        return !mode.equals("host") && !mode.equals("none") && !mode.startsWith("container:");
    }

    private void ensureNetworkExists(String network) {
        try {
            docker.inspectNetworkCmd().withNetworkId(network).exec();
        } catch (com.github.dockerjava.api.exception.NotFoundException e) {
            throw invalid("Docker network '" + network + "' (docker.network_mode) does not exist. Create it with "
                + "`docker network create " + network + "` or change docker.network_mode.");
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(DockerErrors.START_FAILED,
                "Failed to inspect Docker network '" + network + "': " + DockerErrors.describe(e), e);
        }
    }

    /** Inspect; pull only when absent or of another platform (never re-pull a present, matching image). */
    private void ensureImage(String image, RegistryAuth auth, Platform platform) {
        try {
            try {
                InspectImageResponse present = docker.inspectImageCmd(image).exec();
                rememberImageLabels(present);
                // Without a requested platform the image must suit the engine itself (as upstream).
                Platform wanted = platform != null ? platform : daemonPlatform();
                if (wanted == null || matchesPlatform(present, wanted)) {
                    return;
                }
                LOG.info("Image {} is {}/{}, not {}: pulling the matching variant", image, present.getOs(),
                    present.getArch(), wanted);
                platform = wanted;
            } catch (com.github.dockerjava.api.exception.NotFoundException absent) {
                // pull below
            }
            pull(image, auth, platform);
            rememberImageLabels(docker.inspectImageCmd(image).exec());
        } catch (SandboxException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(DockerErrors.IMAGE_PULL_FAILED,
                "Failed to pull image " + image + ": " + DockerErrors.describe(e), e);
        }
    }

    private void pull(String image, RegistryAuth auth, Platform platform) {
        DockerSnapshots.refusePull(image, platform);
        LOG.info("Pulling image {}", image);
        PullImageCmd pull = pullCommand(image);
        if (auth != null) {
            pull.withAuthConfig(new AuthConfig().withUsername(auth.username()).withPassword(auth.password()));
        }
        if (platform != null) {
            pull.withPlatform(platform.os() + "/" + platform.arch());
        }
        Duration limit = config.apiTimeout().compareTo(Duration.ofMinutes(10)) > 0 ? config.apiTimeout()
            : Duration.ofMinutes(10);
        try {
            QuietPull callback = pull.exec(new QuietPull());
            if (!callback.awaitCompletion(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new RuntimeFailureException(DockerErrors.IMAGE_PULL_FAILED,
                    "Failed to pull image " + image + ": not complete after " + limit.toSeconds() + " s.");
            }
            callback.throwIfFailed();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeFailureException(DockerErrors.IMAGE_PULL_FAILED,
                "Failed to pull image " + image + ": interrupted.", e);
        }
    }

    /**
     * A pull whose failure is reported to the caller (who turns it into the upstream error code)
     * instead of being logged at ERROR with a stack trace by the callback template.
     */
    private static final class QuietPull extends PullImageResultCallback {
        private volatile Throwable failure;

        @Override
        public void onError(Throwable error) {
            failure = error;
            try {
                close();
            } catch (java.io.IOException closeFailed) {
                LOG.debug("pull stream did not close cleanly", closeFailed);
            }
        }

        void throwIfFailed() {
            Throwable error = failure;
            if (error instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (error != null) {
                throw new RuntimeFailureException(DockerErrors.IMAGE_PULL_FAILED, "Failed to pull image: " + error, error);
            }
        }
    }

    /** Without a tag the Engine pulls every tag of a repository: name {@code latest} explicitly. */
    private PullImageCmd pullCommand(String image) {
        int slash = image.lastIndexOf('/');
        if (image.indexOf('@') >= 0) {
            return streams.pullImageCmd(image);
        }
        int colon = image.lastIndexOf(':');
        if (colon > slash) {
            return streams.pullImageCmd(image.substring(0, colon)).withTag(image.substring(colon + 1));
        }
        return streams.pullImageCmd(image).withTag("latest");
    }

    /** The engine's own os/arch, asked once; null when the engine does not say. */
    private Platform daemonPlatform() {
        Platform known = daemonPlatform;
        if (known == null) {
            try {
                com.github.dockerjava.api.model.Info info = docker.infoCmd().exec();
                if (info.getOsType() != null && info.getArchitecture() != null) {
                    known = new Platform(info.getOsType().toLowerCase(Locale.ROOT), normalizeArch(info.getArchitecture()));
                    daemonPlatform = known;
                }
            } catch (RuntimeException e) {
                LOG.debug("Engine platform unknown: {}", DockerErrors.describe(e));
            }
        }
        return known;
    }

    static boolean matchesPlatform(InspectImageResponse image, Platform platform) {
        String os = image.getOs();
        String arch = normalizeArch(image.getArch());
        return (os == null || os.equalsIgnoreCase(platform.os()))
            && (arch == null || arch.equals(normalizeArch(platform.arch())));
    }

    private static String normalizeArch(String arch) {
        if (arch == null) {
            return null;
        }
        String lower = arch.toLowerCase(Locale.ROOT);
        return switch (lower) {
            case "x86_64", "x86-64" -> "amd64";
            case "aarch64", "arm64/v8", "arm64v8" -> "arm64";
            default -> lower;
        };
    }

    private void rememberImageLabels(InspectImageResponse image) {
        if (image.getId() != null) {
            Map<String, String> labels = image.getConfig() == null || image.getConfig().getLabels() == null
                ? Map.of() : Map.copyOf(image.getConfig().getLabels());
            imageLabelsById.put(image.getId(), labels);
        }
    }

    /** Labels an image brought; one image inspect per image id for the life of the runtime. */
    private Map<String, String> imageLabels(String imageId) {
        if (imageId == null) {
            return Map.of();
        }
        Map<String, String> known = imageLabelsById.get(imageId);
        if (known != null) {
            return known;
        }
        try {
            InspectImageResponse image = docker.inspectImageCmd(imageId).exec();
            rememberImageLabels(image);
            return imageLabelsById.getOrDefault(imageId, Map.of());
        } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
            imageLabelsById.put(imageId, Map.of());
            return Map.of();
        } catch (RuntimeException e) {
            LOG.debug("Cannot read labels of image {}: {}", imageId, DockerErrors.describe(e));
            return Map.of();
        }
    }

    // ---------------------------------------------------------------- inspect and list

    @Override
    public Optional<Sandbox> inspect(SandboxId id) {
        return findContainer(id).flatMap(container -> ContainerMapper.fromInspect(container, imageLabels(container.getImageId())));
    }

    /** This deployment's sandboxes, from one list call. */
    @Override
    public List<Sandbox> list() {
        List<Container> containers;
        try {
            containers = ownership.containers(docker, Labels.ID, "");
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(DockerErrors.QUERY_FAILED,
                "Failed to list sandboxes: " + DockerErrors.describe(e), e);
        }
        List<Sandbox> sandboxes = new ArrayList<>(containers.size());
        for (Container container : containers) {
            try {
                ContainerMapper.fromSummary(container, imageLabels(container.getImageId())).ifPresent(sandboxes::add);
            } catch (RuntimeException e) {
                LOG.warn("Skipping container {} in list: {}", shortId(container.getId()), e.toString());
            }
        }
        return sandboxes;
    }

    /**
     * The container of a sandbox: by its name first (one call), else by its id label; a
     * container that vanishes meanwhile is simply absent (W18), and one of another deployment too.
     */
    private Optional<InspectContainerResponse> findContainer(SandboxId id) {
        try {
            try {
                InspectContainerResponse byName = docker.inspectContainerCmd(containerName(id)).exec();
                if (isSandbox(byName, id) && ownership.owns(byName.getConfig().getLabels())) {
                    return Optional.of(byName);
                }
            } catch (com.github.dockerjava.api.exception.NotFoundException absent) {
                // fall back to the label
            }
            for (Container candidate : ownership.containers(docker, Labels.ID, id.toString())) {
                if (candidate.getLabels() != null && candidate.getLabels().containsKey(Labels.EGRESS_SIDECAR_FOR)) {
                    continue;
                }
                try {
                    return Optional.of(docker.inspectContainerCmd(candidate.getId()).exec());
                } catch (com.github.dockerjava.api.exception.NotFoundException removedMeanwhile) {
                    // try the next one
                }
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(DockerErrors.QUERY_FAILED,
                "Failed to query sandbox " + id + ": " + DockerErrors.describe(e), e);
        }
    }

    private static boolean isSandbox(InspectContainerResponse container, SandboxId id) {
        Map<String, String> labels = container.getConfig() == null ? null : container.getConfig().getLabels();
        return labels != null && id.toString().equals(labels.get(Labels.ID))
            && !labels.containsKey(Labels.EGRESS_SIDECAR_FOR);
    }

    private InspectContainerResponse requireContainer(SandboxId id) {
        return findContainer(id).orElseThrow(() -> sandboxNotFound(id));
    }

    /** Docker reports Running=true for a paused container: only both flags tell a running one. */
    private static boolean runningAndNotPaused(InspectContainerResponse.ContainerState state) {
        return state != null && Boolean.TRUE.equals(state.getRunning()) && !Boolean.TRUE.equals(state.getPaused());
    }

    // ---------------------------------------------------------------- remove, pause, resume

    /**
     * Force-removal kills (SIGKILL) and removes in one daemon call; sidecars go after the sandbox.
     * Only this deployment's containers are removed; while it runs, {@link #reapOrphans} leaves the
     * sandbox's sidecar alone.
     */
    @Override
    public void remove(SandboxId id) {
        boolean marked = busy.add(id);
        try {
            removeOwned(id);
        } finally {
            if (marked) {
                busy.remove(id);
            }
        }
    }

    private void removeOwned(SandboxId id) {
        List<Container> targets = new ArrayList<>();
        try {
            targets.addAll(ownership.containers(docker, Labels.ID, id.toString()));
            targets.addAll(ownership.containers(docker, Labels.EGRESS_SIDECAR_FOR, id.toString()));
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(DockerErrors.DELETE_FAILED,
                "Failed to delete sandbox " + id + ": " + DockerErrors.describe(e), e);
        }
        List<String> managedVolumes = new ArrayList<>();
        try {
            // Also when no container lists them: a create or delete cut short by a crash.
            managedVolumes.addAll(volumes.deletedWith(id));
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(DockerErrors.DELETE_FAILED,
                "Failed to delete sandbox " + id + ": " + DockerErrors.describe(e), e);
        }
        List<String> ossfsMounts = new ArrayList<>();
        for (Container container : targets) {
            Map<String, String> containerLabels = container.getLabels() == null ? Map.of() : container.getLabels();
            LabelJson.decode(containerLabels.get(Labels.VOLUME_MANAGED_BY)).ifPresent(names -> names.stream()
                .filter(name -> !managedVolumes.contains(name)).forEach(managedVolumes::add));
            if (containerLabels.containsKey(Labels.ID)) {
                LabelJson.decode(containerLabels.get(Labels.OSSFS_MOUNTS)).ifPresent(ossfsMounts::addAll);
            }
        }
        try {
            for (Container container : targets) {
                try {
                    docker.removeContainerCmd(container.getId()).withForce(true).withRemoveVolumes(true).exec();
                } catch (com.github.dockerjava.api.exception.NotFoundException alreadyGone) {
                    // idempotent
                } catch (com.github.dockerjava.api.exception.ConflictException e) {
                    if (!DockerErrors.describe(e).contains("already in progress")) {
                        throw new RuntimeFailureException(DockerErrors.DELETE_FAILED,
                            "Failed to delete sandbox " + id + ": " + DockerErrors.describe(e), e);
                    }
                } catch (RuntimeException e) {
                    throw new RuntimeFailureException(DockerErrors.DELETE_FAILED,
                        "Failed to delete sandbox " + id + ": " + DockerErrors.describe(e), e);
                }
            }
        } finally {
            // Even after a failed removal (upstream kept volumes only then, W5, and always on expiry).
            volumes.removeManaged(managedVolumes);
            volumes.releaseOssfs(ossfsMounts);
        }
        if (!targets.isEmpty()) {
            LOG.info("Sandbox {} removed ({} container(s))", id, targets.size());
        }
    }

    /**
     * Removes this deployment's egress sidecars whose sandbox container is gone (for example after
     * a crash between the two removals), and leftover execd helpers. Never touched: the objects of
     * a create or a remove in flight in this runtime (a sidecar exists before its sandbox
     * container does), and objects younger than {@link #orphanGrace()}, which may be those of a
     * create in another server process of the same deployment. Three list calls whatever the
     * number of sandboxes; one failed removal is logged and the pass goes on.
     */
    @Override
    public void reapOrphans() {
        Duration grace = orphanGrace();
        injection.reapHelpers(grace);
        // Sidecars first, then the creates in flight, then the sandboxes: a sidecar listed here whose
        // create is not in flight any more either has its sandbox container by the last listing or
        // was already removed by its failed create.
        List<Container> sidecars = ownership.containers(docker, Labels.EGRESS_SIDECAR_FOR, "");
        Set<SandboxId> inFlight = Set.copyOf(busy);
        Set<String> sandboxes = new HashSet<>();
        // Every deployment's: a sidecar whose sandbox exists anywhere is not an orphan.
        for (Container container : docker.listContainersCmd().withShowAll(true).withLabelFilter(List.of(Labels.ID)).exec()) {
            sandboxes.add(container.getLabels().get(Labels.ID));
        }
        Instant now = clock.instant();
        volumes.reapOrphans(sandboxes, inFlight, grace, now);
        for (Container sidecar : sidecars) {
            String owner = sidecar.getLabels().get(Labels.EGRESS_SIDECAR_FOR);
            if (sandboxes.contains(owner) || SandboxId.tryParse(owner).map(inFlight::contains).orElse(false)
                || youngerThan(sidecar, grace, now)) {
                continue;
            }
            try {
                docker.removeContainerCmd(sidecar.getId()).withForce(true).withRemoveVolumes(true).exec();
                LOG.info("Removed orphan egress sidecar {} of vanished sandbox {}", shortId(sidecar.getId()), owner);
            } catch (com.github.dockerjava.api.exception.NotFoundException alreadyGone) {
                // fine
            } catch (com.github.dockerjava.api.exception.ConflictException e) {
                // Someone else is removing it already: just as good.
                if (!DockerErrors.describe(e).contains("already in progress")) {
                    LOG.warn("Could not remove orphan sidecar {}: {}", shortId(sidecar.getId()), DockerErrors.describe(e));
                }
            } catch (RuntimeException e) {
                LOG.warn("Could not remove orphan sidecar {}: {}", shortId(sidecar.getId()), DockerErrors.describe(e));
            }
        }
    }

    /**
     * How long a create may hold a sidecar before its sandbox container exists: the sidecar's start
     * and inspect, its health wait and the container create, each engine call bounded by the API
     * timeout.
     */
    Duration orphanGrace() {
        return EgressSidecar.READY_LIMIT.plus(config.apiTimeout().multipliedBy(3));
    }

    /** Whether the engine created this container less than {@code grace} before {@code now} (unknown: young). */
    static boolean youngerThan(Container container, Duration grace, Instant now) {
        Long created = container.getCreated();
        return created == null || Instant.ofEpochSecond(created).plus(grace).isAfter(now);
    }

    private void removeQuietly(SandboxId id) {
        try {
            remove(id);
        } catch (RuntimeException e) {
            LOG.warn("Cleanup of sandbox {} after a failed create failed: {}", id, e.getMessage());
        }
    }

    private void removeContainerQuietly(SandboxId id, String containerId) {
        try {
            docker.removeContainerCmd(containerId).withForce(true).withRemoveVolumes(true).exec();
        } catch (com.github.dockerjava.api.exception.NotFoundException alreadyGone) {
            // fine
        } catch (RuntimeException e) {
            LOG.warn("Cleanup of container {} of sandbox {} after a failed start failed: {}", shortId(containerId), id,
                DockerErrors.describe(e));
        }
    }

    @Override
    public void pause(SandboxId id) {
        InspectContainerResponse container = requireContainer(id);
        InspectContainerResponse.ContainerState state = container.getState();
        // W18: a paused sandbox is a 409, not a 500.
        if (!runningAndNotPaused(state)) {
            throw new ConflictException(DockerErrors.NOT_RUNNING, "Sandbox is not in a running state.");
        }
        try {
            docker.pauseContainerCmd(container.getId()).exec();
        } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
            throw sandboxNotFound(id);
        } catch (com.github.dockerjava.api.exception.ConflictException raced) {
            throw new ConflictException(DockerErrors.NOT_RUNNING, "Sandbox is not in a running state.", raced);
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(DockerErrors.PAUSE_FAILED,
                "Failed to pause sandbox " + id + ": " + DockerErrors.describe(e), e);
        }
        LOG.info("Sandbox {} paused", id);
    }

    @Override
    public void resume(SandboxId id) {
        InspectContainerResponse container = requireContainer(id);
        InspectContainerResponse.ContainerState state = container.getState();
        if (state == null || !Boolean.TRUE.equals(state.getPaused())) {
            throw new ConflictException(DockerErrors.NOT_PAUSED, "Sandbox is not in a paused state.");
        }
        try {
            docker.unpauseContainerCmd(container.getId()).exec();
        } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
            throw sandboxNotFound(id);
        } catch (com.github.dockerjava.api.exception.ConflictException raced) {
            throw new ConflictException(DockerErrors.NOT_PAUSED, "Sandbox is not in a paused state.", raced);
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(DockerErrors.RESUME_FAILED,
                "Failed to resume sandbox " + id + ": " + DockerErrors.describe(e), e);
        }
        LOG.info("Sandbox {} resumed", id);
    }

    // ---------------------------------------------------------------- endpoints

    @Override
    public Endpoint resolveEndpoint(SandboxId id, int port, EndpointPurpose purpose) {
        if (port < 1 || port > 65535) {
            throw new InvalidRequestException(ErrorCodes.INVALID_PORT, "Port must be between 1 and 65535.");
        }
        InspectContainerResponse container = requireContainer(id);
        InspectContainerResponse.ContainerState state = container.getState();
        if (state == null || !Boolean.TRUE.equals(state.getRunning())) {
            // Stopped outside the server (docker stop, a crash): no address, no published port.
            throw new ConflictException(DockerErrors.NOT_RUNNING, "Sandbox " + id + " is not running (its container is "
                + (state == null || state.getStatus() == null ? "stopped" : state.getStatus()) + "): its ports cannot "
                + "be reached.");
        }
        Map<String, String> labels = container.getConfig() == null || container.getConfig().getLabels() == null
            ? Map.of() : container.getConfig().getLabels();
        String mode = createdNetworkMode(container, labels);
        if (purpose == EndpointPurpose.INTERNAL && mode.equalsIgnoreCase("host")) {
            // The sandbox shares the host's network namespace: 127.0.0.1:<port> is any service of the host.
            throw new ConflictException(PROXY_UNAVAILABLE_IN_HOST_MODE, "Sandbox " + id + " runs in host network mode: "
                + "its ports are the host's own, so the server's proxy does not relay them (it would reach any service "
                + "listening on the host's loopback). Reach port " + port + " directly at the sandbox's endpoint, or "
                + "use docker.network_mode = \"bridge\".");
        }
        if (purpose == EndpointPurpose.INTERNAL && mode.toLowerCase(Locale.ROOT).startsWith("container:")) {
            // The sandbox shares the namespace of another container (its egress sidecar): every port of
            // the sandbox is that container's address, no execd relay needed (upstream went through it).
            String owner = namespaceOwnerAddress(mode.substring("container:".length()));
            if (owner != null) {
                return Endpoint.of(owner + ":" + port);
            }
        }
        Endpoint endpoint = Endpoints.resolve(mode, port, purpose, new Endpoints.Facts(labels, publishedPorts(container),
            containerIp(container, mode)), this::publicHost, internalHostForPublishedPorts());
        String egressToken = blankToNull(labels.get(Labels.EGRESS_AUTH_TOKEN));
        if (port == EgressSidecar.API_PORT && egressToken != null && purpose == EndpointPurpose.EXTERNAL) {
            endpoint = endpoint.withHeader(EgressSidecar.AUTH_HEADER, egressToken);
        }
        return endpoint;
    }

    /** How the container was created (W10): our label, else its HostConfig, never today's config. */
    private static String createdNetworkMode(InspectContainerResponse container, Map<String, String> labels) {
        String label = blankToNull(labels.get(ContainerMapper.NETWORK_MODE_LABEL));
        if (label != null) {
            return label;
        }
        HostConfig host = container.getHostConfig();
        String mode = host == null ? null : blankToNull(host.getNetworkMode());
        return mode == null ? "default" : mode;
    }

    static Map<Integer, Integer> publishedPorts(InspectContainerResponse container) {
        Map<Integer, Integer> published = new LinkedHashMap<>();
        NetworkSettings settings = container.getNetworkSettings();
        if (settings == null || settings.getPorts() == null) {
            return published;
        }
        settings.getPorts().getBindings().forEach((exposed, bindings) -> {
            if (bindings == null) {
                return;
            }
            for (Ports.Binding binding : bindings) {
                String hostPort = binding.getHostPortSpec();
                if (hostPort != null && hostPort.matches("\\d+")) {
                    published.putIfAbsent(exposed.getPort(), Integer.parseInt(hostPort));
                    return;
                }
            }
        });
        return published;
    }

    // The top-level IPAddress is deprecated (gone in API 1.44) but is all some older engines fill in: keep it as a fallback.
    @SuppressWarnings("deprecation")
    /** Rebuilds the ossfs reference counts from this deployment's sandboxes that hold mounts (one list call). */
    private void adoptOssfsMounts() {
        try {
            List<String> held = new ArrayList<>();
            for (Container container : ownership.containers(docker, Labels.OSSFS_MOUNTS, "")) {
                if (container.getLabels() != null && container.getLabels().containsKey(Labels.ID)) {
                    LabelJson.decode(container.getLabels().get(Labels.OSSFS_MOUNTS)).ifPresent(held::addAll);
                }
            }
            volumes.adoptOssfs(held);
        } catch (RuntimeException e) {
            LOG.warn("Could not rebuild the ossfs mount counts: {}", DockerErrors.describe(e));
        }
    }

    private String namespaceOwnerAddress(String containerId) {
        try {
            return bridgeAddress(docker.inspectContainerCmd(containerId).exec());
        } catch (RuntimeException e) {
            LOG.debug("namespace owner {} of a sandbox cannot be inspected: {}", containerId, DockerErrors.describe(e));
            return null;
        }
    }

    /** The address of a container on the default bridge, or null. */
    static String bridgeAddress(InspectContainerResponse container) {
        return containerIp(container, "bridge");
    }

    private static String containerIp(InspectContainerResponse container, String mode) {
        NetworkSettings settings = container.getNetworkSettings();
        if (settings == null) {
            return null;
        }
        Map<String, ContainerNetwork> networks = settings.getNetworks() == null ? Map.of() : settings.getNetworks();
        String networkName = mode.equalsIgnoreCase("default") ? "bridge" : mode;
        ContainerNetwork own = networks.get(networkName);
        if (own != null && blankToNull(own.getIpAddress()) != null) {
            return own.getIpAddress();
        }
        if (blankToNull(settings.getIpAddress()) != null) {
            return settings.getIpAddress();
        }
        return networks.values().stream().map(ContainerNetwork::getIpAddress).filter(ip -> blankToNull(ip) != null)
            .findFirst().orElse(null);
    }

    private String publicHost() {
        String host = publicHost;
        if (host == null) {
            host = PublicHost.resolve(config);
            publicHost = host;
        }
        return host;
    }

    /** Where the server reaches ports published on the Docker host: a concrete server.host, else loopback. */
    private String internalHostForPublishedPorts() {
        String host = config.serverHost();
        if (host != null && !host.isBlank() && !host.equals("0.0.0.0") && !host.equals("::")) {
            return host;
        }
        return config.hostIp() != null ? config.hostIp() : "127.0.0.1";
    }

    // ---------------------------------------------------------------- logs

    @Override
    public Optional<String> describe(SandboxId id) {
        return Optional.of(DockerDiagnostics.describe(requireContainer(id), visibleEnv));
    }

    @Override
    public Optional<List<String>> events(SandboxId id, int limit) {
        return Optional.of(DockerDiagnostics.events(requireContainer(id), limit));
    }

    @Override
    public String logs(SandboxId id, int tail, Instant since) {
        InspectContainerResponse container = requireContainer(id);
        LogContainerCmd command = streams.logContainerCmd(container.getId())
            .withStdOut(true).withStdErr(true).withTimestamps(true);
        if (tail > 0) {
            command.withTail(tail);
        } else {
            command.withTailAll();
        }
        if (since != null) {
            command.withSince((int) Math.max(0, since.getEpochSecond()));
        }
        ByteArrayOutputStream collected = new ByteArrayOutputStream();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        ResultCallback.Adapter<Frame> callback = new ResultCallback.Adapter<>() {
            @Override
            public void onNext(Frame frame) {
                synchronized (collected) {
                    collected.writeBytes(frame.getPayload());
                }
            }

            /** Reported to the caller below; the template would log it at ERROR with a stack trace. */
            @Override
            public void onError(Throwable error) {
                failure.compareAndSet(null, error);
                closeQuietly(this);
            }
        };
        try {
            if (!command.exec(callback).awaitCompletion(config.apiTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                closeQuietly(callback);
                throw new DeadlineExceededException(DockerErrors.LOGS_FAILED,
                    "Logs of sandbox " + id + " did not arrive within " + config.apiTimeout().toSeconds() + " s.");
            }
            Throwable error = failure.get();
            if (error != null) {
                throw error instanceof RuntimeException runtime ? runtime : new RuntimeException(error);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(callback);
            throw new RuntimeFailureException(DockerErrors.LOGS_FAILED, "Interrupted reading logs of sandbox " + id + ".", e);
        } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
            throw sandboxNotFound(id);
        } catch (SandboxException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(DockerErrors.LOGS_FAILED,
                "Failed to read logs of sandbox " + id + ": " + DockerErrors.describe(e), e);
        }
        synchronized (collected) {
            return collected.toString(StandardCharsets.UTF_8);
        }
    }

    // ---------------------------------------------------------------- stats

    /**
     * One sample of the engine's statistics. Without streaming, the engine waits for a second
     * reading (about a second) so that the sample carries the previous one to compute CPU use.
     */
    @Override
    public ResourceUsage stats(SandboxId id) {
        InspectContainerResponse container = requireContainer(id);
        InspectContainerResponse.ContainerState state = container.getState();
        if (!runningAndNotPaused(state)) {
            throw notRunningForStats(state != null && Boolean.TRUE.equals(state.getPaused()));
        }
        CompletableFuture<Statistics> first = new CompletableFuture<>();
        ResultCallback.Adapter<Statistics> callback = new ResultCallback.Adapter<>() {
            @Override
            public void onNext(Statistics statistics) {
                first.complete(statistics);
            }

            /** Reported to the caller below; the template would log it at ERROR with a stack trace. */
            @Override
            public void onError(Throwable error) {
                first.completeExceptionally(error);
                closeQuietly(this);
            }

            @Override
            public void onComplete() {
                first.complete(null);
                super.onComplete();
            }
        };
        Statistics statistics;
        try {
            streams.statsCmd(container.getId()).withNoStream(true).exec(callback);
            statistics = first.get(config.apiTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new DeadlineExceededException(DockerErrors.STATS_FAILED,
                "Resource usage of sandbox " + id + " did not arrive within " + config.apiTimeout().toSeconds() + " s.");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeFailureException(DockerErrors.STATS_FAILED,
                "Interrupted reading resource usage of sandbox " + id + ".", e);
        } catch (ExecutionException e) {
            throw statsFailed(id, e.getCause() instanceof RuntimeException failure ? failure
                : new RuntimeException(e.getCause()));
        } catch (RuntimeException e) {
            throw statsFailed(id, e);
        } finally {
            closeQuietly(callback);
        }
        ContainerStats.Sample sample = statistics == null ? null : ContainerStats.sample(statistics);
        if (sample == null || !sample.measured()) {
            // Stopped between the inspect and the sample: the engine answers with an empty one.
            throw notRunningForStats(false);
        }
        HostConfig host = container.getHostConfig();
        return ContainerStats.usage(sample, host == null ? null : host.getNanoCPUs(), host == null ? null : host.getMemory());
    }

    private static ConflictException notRunningForStats(boolean paused) {
        return new ConflictException(DockerErrors.NOT_RUNNING, paused
            ? "Sandbox is paused: its resource usage is measured only while it runs."
            : "Sandbox is not in a running state: its resource usage is measured only while it runs.");
    }

    private SandboxException statsFailed(SandboxId id, RuntimeException cause) {
        if (cause instanceof SandboxException known) {
            return known;
        }
        if (cause instanceof com.github.dockerjava.api.exception.NotFoundException) {
            return sandboxNotFound(id);
        }
        if (cause instanceof com.github.dockerjava.api.exception.ConflictException) {
            return new ConflictException(DockerErrors.NOT_RUNNING,
                "Sandbox is not in a running state: its resource usage is measured only while it runs.", cause);
        }
        return new RuntimeFailureException(DockerErrors.STATS_FAILED,
            "Failed to read resource usage of sandbox " + id + ": " + DockerErrors.describe(cause), cause);
    }

    // ---------------------------------------------------------------- exec

    @Override
    public ExecHandle exec(SandboxId id, ExecRequest request, ExecOutput output) {
        InspectContainerResponse container = requireContainer(id);
        InspectContainerResponse.ContainerState state = container.getState();
        if (!runningAndNotPaused(state)) {
            throw new ConflictException(DockerErrors.NOT_RUNNING, "Sandbox is not in a running state.");
        }
        try {
            var create = docker.execCreateCmd(container.getId())
                .withCmd(request.command().toArray(new String[0]))
                .withAttachStdout(true)
                .withAttachStderr(true)
                .withAttachStdin(false)
                .withTty(false);
            if (!request.env().isEmpty()) {
                create.withEnv(env(request.env()));
            }
            if (request.workingDir() != null) {
                create.withWorkingDir(request.workingDir());
            }
            if (request.user() != null) {
                create.withUser(request.user());
            }
            String execId = create.exec().getId();
            DockerExec exec = new DockerExec(docker, execId, output);
            streams.execStartCmd(execId).withDetach(false).withTty(false).exec(exec.callback());
            // The attach runs on docker-java's stream thread: its failure to start is this call's.
            exec.awaitAttached(config.apiTimeout().multipliedBy(2).plusSeconds(1));
            return exec;
        } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
            throw sandboxNotFound(id);
        } catch (com.github.dockerjava.api.exception.ConflictException notRunning) {
            throw new ConflictException(DockerErrors.NOT_RUNNING, "Sandbox is not in a running state.", notRunning);
        } catch (SandboxException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(DockerErrors.EXEC_FAILED,
                "Failed to run a command in sandbox " + id + ": " + DockerErrors.describe(e), e);
        }
    }

    /** One exec: output frames go to the caller's {@link ExecOutput}; the exit code comes from ExecInspect. */
    static final class DockerExec implements ExecHandle {
        private final DockerClient docker;
        private final String execId;
        private final ResultCallback.Adapter<Frame> callback;
        private final CompletableFuture<Void> attached = new CompletableFuture<>();
        private volatile Integer exitCode;

        DockerExec(DockerClient docker, String execId, ExecOutput output) {
            this.docker = docker;
            this.execId = execId;
            this.callback = new ResultCallback.Adapter<>() {
                @Override
                public void onNext(Frame frame) {
                    byte[] payload = frame.getPayload();
                    if (payload == null || payload.length == 0) {
                        return;
                    }
                    switch (frame.getStreamType()) {
                        case STDERR -> output.stderr(payload, 0, payload.length);
                        case STDOUT, RAW -> output.stdout(payload, 0, payload.length);
                        default -> {
                            // stdin echo is never attached
                        }
                    }
                }

                @Override
                public void onStart(java.io.Closeable stream) {
                    super.onStart(stream);
                    attached.complete(null);
                }

                /**
                 * The template logs every stream error at ERROR with a stack trace; an attach
                 * stream that breaks because the client is closing (server shutdown) or the
                 * container went away is routine here, and {@link #awaitExit} reports it.
                 */
                @Override
                public void onError(Throwable error) {
                    attached.completeExceptionally(error);
                    LOG.debug("exec {} output stream ended: {}", execId, DockerErrors.describe(error));
                    try {
                        close();
                    } catch (java.io.IOException closeFailed) {
                        LOG.debug("exec {} stream did not close cleanly", execId, closeFailed);
                    }
                }
            };
        }

        ResultCallback.Adapter<Frame> callback() {
            return callback;
        }

        /** Waits until the engine answered the attach (the command runs), or rethrows why it did not. */
        void awaitAttached(Duration limit) {
            try {
                attached.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException failure ? failure : new RuntimeException(e.getCause());
            } catch (TimeoutException e) {
                closeQuietly(callback);
                throw new DeadlineExceededException(DockerErrors.EXEC_TIMEOUT,
                    "The engine did not start the command within " + limit.toSeconds() + " s.");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closeQuietly(callback);
                throw new RuntimeFailureException(DockerErrors.EXEC_FAILED, "Interrupted starting a command.", e);
            }
        }

        @Override
        public int awaitExit(Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            try {
                if (!callback.awaitCompletion(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new DeadlineExceededException(DockerErrors.EXEC_TIMEOUT,
                        "The command did not exit within " + timeout.toSeconds() + " s.");
                }
                // The stream ends when the process closes its output; the exit code follows shortly.
                while (true) {
                    OptionalInt code = exitCode();
                    if (code.isPresent()) {
                        return code.getAsInt();
                    }
                    if (System.nanoTime() - deadline >= 0) {
                        throw new DeadlineExceededException(DockerErrors.EXEC_TIMEOUT,
                            "The command did not exit within " + timeout.toSeconds() + " s.");
                    }
                    Thread.sleep(10);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeFailureException(DockerErrors.EXEC_FAILED, "Interrupted waiting for a command.", e);
            } catch (SandboxException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new RuntimeFailureException(DockerErrors.EXEC_FAILED,
                    "Failed to run a command: " + DockerErrors.describe(e), e);
            }
        }

        @Override
        public OptionalInt exitCode() {
            Integer known = exitCode;
            if (known != null) {
                return OptionalInt.of(known);
            }
            var inspected = docker.inspectExecCmd(execId).exec();
            if (Boolean.TRUE.equals(inspected.isRunning()) || inspected.getExitCodeLong() == null) {
                return OptionalInt.empty();
            }
            exitCode = inspected.getExitCodeLong().intValue();
            return OptionalInt.of(exitCode);
        }
    }

    // ---------------------------------------------------------------- files

    @Override
    public void writeFile(SandboxId id, String path, InputStream content, long size, int mode) {
        List<String> segments = pathSegments(path);
        if (segments.isEmpty()) {
            throw new InvalidRequestException(DockerErrors.INVALID_FILE_PATH, "Cannot write " + path + ": not a file path.");
        }
        InspectContainerResponse container = requireContainer(id);
        String containerId = container.getId();
        try {
            // The archive API extracts only into an existing directory: find the deepest one, create the rest in the archive.
            int existing = segments.size() - 1;
            while (existing > 0 && !directoryExists(containerId, joinAbsolute(segments.subList(0, existing)))) {
                existing--;
            }
            List<String> dirs = new ArrayList<>();
            for (int i = existing + 1; i < segments.size(); i++) {
                dirs.add(String.join("/", segments.subList(existing, i)));
            }
            String file = String.join("/", segments.subList(existing, segments.size()));
            streams.copyArchiveToContainerCmd(containerId)
                .withRemotePath(joinAbsolute(segments.subList(0, existing)))
                .withTarInputStream(Tar.singleFile(dirs, file, content, size, mode & 07777, clock.instant()))
                .exec();
        } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
            throw sandboxNotFound(id);
        } catch (com.github.dockerjava.api.exception.BadRequestException bad) {
            throw new InvalidRequestException(DockerErrors.INVALID_FILE_PATH,
                "Cannot write " + path + ": " + DockerErrors.describe(bad) + ".", bad);
        } catch (SandboxException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(DockerErrors.FILE_TRANSFER_FAILED,
                "Failed to write " + path + " in sandbox " + id + ": " + DockerErrors.describe(e), e);
        }
    }

    /** Extracting an empty archive changes nothing and fails with 404 when the directory does not exist. */
    private boolean directoryExists(String containerId, String directory) {
        try {
            docker.copyArchiveToContainerCmd(containerId).withRemotePath(directory).withTarInputStream(Tar.empty()).exec();
            return true;
        } catch (com.github.dockerjava.api.exception.NotFoundException missing) {
            return false;
        }
    }

    @Override
    public InputStream readFile(SandboxId id, String path) {
        pathSegments(path);
        InspectContainerResponse container = requireContainer(id);
        InputStream archive = openArchive(id, container.getId(), path);
        try {
            Tar.Entry entry = Tar.readEntry(archive);
            if (!entry.regularFile()) {
                archive.close();
                throw new InvalidRequestException(DockerErrors.INVALID_FILE_PATH,
                    "Cannot read " + path + ": not a regular file.");
            }
            return new Tar.ExactLength(archive, entry.size()) {
                @Override
                public void close() {
                    closeQuietly(archive);
                }
            };
        } catch (IOException e) {
            closeQuietly(archive);
            throw new RuntimeFailureException(DockerErrors.FILE_TRANSFER_FAILED,
                "Failed to read " + path + " in sandbox " + id + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<FileInfo> statFile(SandboxId id, String path) {
        pathSegments(path);
        InspectContainerResponse container = requireContainer(id);
        InputStream archive;
        try {
            archive = openArchive(id, container.getId(), path);
        } catch (NotFoundException missing) {
            if (DockerErrors.FILE_NOT_FOUND.equals(missing.code())) {
                return Optional.empty();
            }
            throw missing;
        }
        try (archive) {
            Tar.Entry entry = Tar.readEntry(archive);
            return Optional.of(new FileInfo(path, entry.directory() ? 0 : entry.size(), entry.mode(), entry.directory(),
                entry.modified()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private InputStream openArchive(SandboxId id, String containerId, String path) {
        try {
            return streams.copyArchiveFromContainerCmd(containerId, path).exec();
        } catch (com.github.dockerjava.api.exception.NotFoundException missing) {
            throw new NotFoundException(DockerErrors.FILE_NOT_FOUND, "File " + path + " not found in sandbox " + id + ".");
        } catch (RuntimeException e) {
            if (DockerErrors.describe(e).endsWith(": not a directory")) {
                // a path through a file ("a.txt/", "a.txt/b"): there is no such file
                throw new NotFoundException(DockerErrors.FILE_NOT_FOUND, "File " + path + " not found in sandbox " + id
                    + " (a component of the path is not a directory).");
            }
            throw new RuntimeFailureException(DockerErrors.FILE_TRANSFER_FAILED,
                "Failed to read " + path + " in sandbox " + id + ": " + DockerErrors.describe(e), e);
        }
    }

    /** The segments of an absolute path without {@code .} or {@code ..}; a bad path is a 400. */
    static List<String> pathSegments(String path) {
        if (path == null || !path.startsWith("/")) {
            throw new InvalidRequestException(DockerErrors.INVALID_FILE_PATH, "File path must be absolute: " + path);
        }
        List<String> segments = new ArrayList<>();
        for (String segment : path.split("/")) {
            if (segment.isEmpty() || segment.equals(".")) {
                continue;
            }
            if (segment.equals("..") || segment.indexOf('\0') >= 0) {
                throw new InvalidRequestException(DockerErrors.INVALID_FILE_PATH,
                    "File path must not contain '..': " + path);
            }
            if (segment.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 255) {
                throw new InvalidRequestException(DockerErrors.INVALID_FILE_PATH,
                    "File path has a name longer than 255 bytes, more than the filesystem accepts.");
            }
            segments.add(segment);
        }
        return segments;
    }

    private static String joinAbsolute(List<String> segments) {
        return "/" + String.join("/", segments);
    }

    // ---------------------------------------------------------------- snapshots

    /** {@code docker commit} to {@code opensandbox-snapshots:<snapshotId>}, running or paused; see {@link DockerSnapshots}. */
    @Override
    public String commitSnapshot(SandboxId id, String snapshotId) {
        return snapshots.commit(id, requireContainer(id), snapshotId);
    }

    /** Idempotent; an image a container still uses is a {@code SNAPSHOT::DELETE_CONFLICT}. */
    @Override
    public void deleteSnapshotImage(String image) {
        snapshots.delete(image);
    }

    @Override
    public Optional<String> snapshotImageFor(String snapshotId) {
        return Optional.of(DockerSnapshots.imageOf(snapshotId));
    }

    @Override
    public boolean snapshotImageExists(String image) {
        return snapshots.exists(image);
    }

    // ---------------------------------------------------------------- misc

    @Override
    public void close() {
        closeQuietly(docker);
    }

    static String containerName(SandboxId id) {
        return "sandbox-" + id;
    }

    private static InvalidRequestException invalid(String message) {
        return new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, message);
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text;
    }

    private static String shortId(String containerId) {
        return containerId == null ? "?" : containerId.substring(0, Math.min(12, containerId.length()));
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            LOG.debug("close failed: {}", e.toString());
        }
    }
}
