package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.DeadlineExceededException;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.Extensions;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.LabelJson;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.SandboxStatus;
import dev.opensandbox.core.service.MetadataRules;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.FileInfo;
import dev.opensandbox.core.spi.ResourceUsage;
import dev.opensandbox.core.spi.PoolRuntime;
import dev.opensandbox.core.spi.EndpointRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.RuntimeCapabilities;
import dev.opensandbox.core.spi.SandboxRuntime;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ListOptions;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * {@link SandboxRuntime} on Kubernetes with the BatchSandbox provider: one
 * {@code sandbox.opensandbox.io/v1alpha1} BatchSandbox per sandbox, named by its id in the one
 * configured namespace, reconciled by the OpenSandbox controller. Labels and annotations are
 * upstream's, so sandboxes created by the upstream server are adopted.
 *
 * <p>Reads come from two watch caches keyed by the id label (the BatchSandboxes and their pods);
 * create waits on cache events, not by polling. With a scoped {@link dev.opensandbox.core.spi.Deployment}
 * every object created carries the deployment label and every read, write and delete acts only on
 * objects the deployment owns ({@link DeploymentScope}): another server's sandboxes in the same
 * namespace are unknown here. Every write to a custom resource is a JSON merge
 * patch and names that patch type explicitly (fabric8's default is a strategic merge, which the
 * API server refuses for custom resources).
 */
final class KubernetesSandboxRuntime implements SandboxRuntime {

    static final String TYPE = "kubernetes";

    private static final Logger LOG = LoggerFactory.getLogger(KubernetesSandboxRuntime.class);
    private static final RuntimeCapabilities CAPABILITIES =
        new RuntimeCapabilities(KubernetesErrors.NAMESPACE, true, true, true, true, true, true);
    /** agent-sandbox: no pause (upstream's 400) and no snapshots (they commit a BatchSandbox's pod). */
    private static final RuntimeCapabilities AGENT_CAPABILITIES =
        new RuntimeCapabilities(KubernetesErrors.NAMESPACE, false, true, true, true, false, true);
    private static final PatchContext MERGE_PATCH = PatchContext.of(PatchType.JSON_MERGE);
    /** How often a waiting create re-reads the injected clock between events. */
    private static final Duration CLOCK_CHECK = Duration.ofMillis(50);

    private final KubernetesRuntimeConfig config;
    private final DeploymentScope scope;
    /** Ids of this runtime's creates in flight: their Secret exists before their CR, and is no orphan. */
    private final Set<SandboxId> creating = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** {@code workload_provider = "agent-sandbox"}: the few provider-specific steps go to the AgentSandbox* classes. */
    private final boolean agent;
    private final KubernetesClient client;
    private final boolean ownsClient;
    private final Map<String, Object> template;
    private final Clock clock;
    private final KubernetesSerialization json;
    private final ScheduledExecutorService scheduler;
    private final WatchCache<GenericKubernetesResource> sandboxes;
    private final WatchCache<Pod> pods;
    private final KubernetesPools pools;
    private final PodExec podExec;
    private final PodFiles podFiles;
    private final PodTelemetry podTelemetry;
    private final KubernetesSnapshots snapshots;

    KubernetesSandboxRuntime(KubernetesRuntimeConfig config, KubernetesClient client, boolean ownsClient,
                             Map<String, Object> template, Clock clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.scope = new DeploymentScope(config.deployment());
        this.agent = config.agentSandboxProvider();
        this.client = Objects.requireNonNull(client, "client");
        this.ownsClient = ownsClient;
        this.template = template == null ? Map.of() : template;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.json = client.getKubernetesSerialization();
        this.pools = new KubernetesPools(client, config.namespace(), scope.labels());
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "k8s-watch-cache-" + config.namespace());
            thread.setDaemon(true);
            return thread;
        });
        // close() must not wait for the next watch restart or resync.
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        this.scheduler = executor;
        this.snapshots = new KubernetesSnapshots(client, config, clock, scheduler, id -> fetch(id).getMetadata().getName());
        this.sandboxes = new WatchCache<>(agent ? AgentSandboxes.KIND : BatchSandboxes.KIND, new WatchCache.Source<>() {
            @Override
            public WatchCache.Listing<GenericKubernetesResource> list() {
                GenericKubernetesResourceList list = scope.select(crs().withLabel(Labels.ID)).list();
                return new WatchCache.Listing<>(list.getItems(), list.getMetadata().getResourceVersion());
            }

            @Override
            public io.fabric8.kubernetes.client.Watch watch(String resourceVersion, Duration timeout,
                                                           io.fabric8.kubernetes.client.Watcher<GenericKubernetesResource> watcher) {
                return scope.select(crs().withLabel(Labels.ID)).watch(watchOptions(resourceVersion, timeout), watcher);
            }
        }, KubernetesSandboxRuntime::idKey, scope::owns, config.watchTimeout(), config.resyncPeriod(), scheduler);
        this.pods = new WatchCache<>("Pod", new WatchCache.Source<>() {
            @Override
            public WatchCache.Listing<Pod> list() {
                PodList list = scope.select(client.pods().inNamespace(config.namespace()).withLabel(Labels.ID)).list();
                return new WatchCache.Listing<>(list.getItems(), list.getMetadata().getResourceVersion());
            }

            @Override
            public io.fabric8.kubernetes.client.Watch watch(String resourceVersion, Duration timeout,
                                                           io.fabric8.kubernetes.client.Watcher<Pod> watcher) {
                return scope.select(client.pods().inNamespace(config.namespace()).withLabel(Labels.ID))
                    .watch(watchOptions(resourceVersion, timeout), watcher);
            }
        }, KubernetesSandboxRuntime::idKey, scope::owns, config.watchTimeout(), config.resyncPeriod(), scheduler);
        sandboxes.start();
        pods.start();
        this.podExec = new PodExec(client, config.namespace(), id -> Optional.ofNullable(pod(id)),
            id -> find(id).isPresent(), this::sandboxNotFound);
        this.podFiles = new PodFiles(podExec);
        this.podTelemetry = new PodTelemetry(client, config.namespace(), podExec);
    }

    private static ListOptions watchOptions(String resourceVersion, Duration timeout) {
        return new ListOptionsBuilder()
            .withResourceVersion(resourceVersion)
            .withTimeoutSeconds(Math.max(1L, timeout.toSeconds()))
            .withAllowWatchBookmarks(true)
            .build();
    }

    private static String idKey(HasMetadata object) {
        Map<String, String> labels = object.getMetadata().getLabels();
        return labels == null ? null : labels.get(Labels.ID);
    }

    private NonNamespaceOperation<GenericKubernetesResource, GenericKubernetesResourceList,
        Resource<GenericKubernetesResource>> crs() {
        return client.genericKubernetesResources(agent ? AgentSandboxes.CONTEXT : BatchSandboxes.CONTEXT)
            .inNamespace(config.namespace());
    }

    // ---------------------------------------------------------------- provider dispatch (batchsandbox / agent-sandbox)

    private String kind() {
        return agent ? AgentSandboxes.KIND : BatchSandboxes.KIND;
    }

    /** The names the workload of {@code id} may have, in lookup order. */
    private List<String> names(SandboxId id) {
        return agent ? AgentSandboxes.candidates(id) : List.of(BatchSandboxes.name(id), BatchSandboxes.legacyName(id));
    }

    private Optional<Sandbox> toSandbox(GenericKubernetesResource cr, Pod pod) {
        return agent ? AgentSandboxMapper.toSandbox(cr, pod) : WorkloadMapper.toSandbox(cr, pod);
    }

    /** The status from the workload alone: what create waits on (agent-sandbox: the Ready condition). */
    private SandboxStatus status(GenericKubernetesResource cr) {
        return agent ? AgentSandboxMapper.status(cr, null) : WorkloadMapper.status(cr, null);
    }

    /** Waits until both caches listed once; for tests and embedders that want warm reads. */
    boolean awaitCachesSynced(Duration timeout) throws InterruptedException {
        return sandboxes.awaitFirstSync(timeout) && pods.awaitFirstSync(timeout);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public RuntimeCapabilities capabilities() {
        return agent ? AGENT_CAPABILITIES : CAPABILITIES;
    }

    /**
     * Reads the API server's version ({@code GET /version}: cheap, readable without any role), bounded by the
     * client's request timeout.
     *
     * @throws dev.opensandbox.core.UnavailableException {@code KUBERNETES::API_ERROR} naming the API server when
     *                                                   it does not answer in time, cannot be reached or refuses
     */
    @Override
    public void probe() {
        try {
            client.getKubernetesVersion();
        } catch (RuntimeException e) {
            throw new dev.opensandbox.core.UnavailableException(KubernetesErrors.API_ERROR, "The Kubernetes API server "
                + client.getMasterUrl() + " did not answer: " + KubernetesErrors.describe(e), e);
        }
    }

    /** Upstream's Pool custom resources in the configured namespace. */
    @Override
    public Optional<PoolRuntime> pools() {
        return Optional.of(pools);
    }

    // ---------------------------------------------------------------- validate and create

    private final java.security.SecureRandom tokens = new java.security.SecureRandom();

    private String newEgressToken() {
        byte[] bytes = new byte[24];
        tokens.nextBytes(bytes);
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    @Override
    public void validate(SandboxSpec spec) {
        if (agent) {
            AgentSandboxManifest.validate(spec);
        }
        String poolRef = spec.extensions().get(Extensions.POOL_REF);
        if (spec.networkPolicy() != null) {
            if (config.egress() == null) {
                throw invalid("egress.image must be configured when networkPolicy is provided.");
            }
            if (poolRef != null && !poolRef.isBlank()) {
                // Upstream writes the token and enforces nothing: a pool's pods have no sidecar.
                throw invalid("networkPolicy cannot be combined with poolRef: a pool's pods run without the egress sidecar.");
            }
        }
        if (poolRef != null && !poolRef.isBlank()) {
            // The pool's template decides the pod: image, resources and registry credentials are ignored, as upstream.
            if (spec.platform() != null) {
                throw invalid("Pool mode does not support platform: the pool's pod template decides where pods run.");
            }
            if (!spec.volumes().isEmpty()) {
                throw invalid("Pool mode does not support volumes.");
            }
            return;
        }
        Pvcs.check(spec.volumes(), Set.of(BatchSandboxes.EXECD_VOLUME));
        if (spec.platform() != null && !"linux".equalsIgnoreCase(spec.platform().os())) {
            throw invalid("platform.os '" + spec.platform().os() + "' is not supported by this server's Kubernetes runtime.");
        }
        if (spec.resourceLimits() != null) {
            BatchSandboxManifest.resources(spec.resourceLimits());
        }
    }

    @Override
    public Sandbox create(ProvisionRequest request) {
        validate(request.spec());
        SandboxId id = request.id();
        if (request.poolRef() != null) {
            requirePool(request.poolRef());
        }
        String egressToken = request.spec().networkPolicy() == null ? null : newEgressToken();
        GenericKubernetesResource body = json.convertValue(agent
            ? AgentSandboxManifest.build(request, config, template, egressToken)
            : BatchSandboxManifest.build(request, config, template, egressToken), GenericKubernetesResource.class);
        Instant deadline = clock.instant().plus(config.createTimeout());
        CreateWait wait = new CreateWait();
        creating.add(id);
        // Subscribed before the POST: no event about the new object can be missed.
        try (WatchCache.Subscription ignored = sandboxes.subscribe(idKey(body), wait::offer)) {
            // Before the CR, as upstream: a pod whose claim does not exist stays Pending.
            List<String> claims = Pvcs.ensure(client, config.namespace(), id, request.spec().volumes(),
                config.volumeDefaultSize(), scope.labels());
            boolean secretCreated = false;
            if (request.poolRef() == null && request.image().auth() != null) {
                // Before the CR: a pod that pulls before its Secret exists fails for good (upstream's order).
                try {
                    createImagePullSecret(request);
                } catch (SandboxException e) {
                    Pvcs.cleanup(client, config.namespace(), id, claims);
                    throw e;
                }
                secretCreated = true;
            }
            GenericKubernetesResource created;
            try {
                created = crs().resource(body).create();
            } catch (KubernetesClientException e) {
                if (secretCreated) {
                    deleteSecretQuietly(id);
                }
                Pvcs.cleanup(client, config.namespace(), id, claims);
                throw KubernetesErrors.translate(e, "Failed to create " + kind() + " " + id);
            }
            sandboxes.upsert(created);
            wait.offer(created);
            LOG.info("sandbox={} action=create-submitted namespace={} {}", id, config.namespace(),
                request.poolRef() != null ? "pool=" + request.poolRef() : "image=" + request.image().uri());
            if (secretCreated) {
                attachSecretToOwner(id, created);
            }
            GenericKubernetesResource running;
            try {
                running = wait.await(id, deadline);
            } catch (SandboxException e) {
                removeQuietly(id, created.getMetadata().getName(), secretCreated);
                Pvcs.cleanup(client, config.namespace(), id, claims);
                throw e;
            }
            Sandbox sandbox = toSandbox(running, null)
                .orElseThrow(() -> new RuntimeFailureException(KubernetesErrors.API_ERROR, kind() + " " + id
                    + " lost its id label."));
            LOG.info("sandbox={} action=create-running ip={}", id, WorkloadMapper.podIp(running).orElse(""));
            return sandbox;
        } finally {
            creating.remove(id);
        }
    }

    /**
     * Refuses a pool that does not exist (400) instead of waiting the whole create timeout for an
     * allocation that cannot come, as upstream does. {@code *} lets the controller choose; a
     * server that may not read pools (403) leaves the check to the controller.
     */
    private void requirePool(String poolRef) {
        if (poolRef.equals(AUTO_POOL)) {
            return;
        }
        try {
            if (client.genericKubernetesResources(KubernetesPools.CONTEXT).inNamespace(config.namespace())
                .withName(poolRef).get() == null) {
                throw invalid("Pool '" + poolRef + "' does not exist in namespace " + config.namespace() + ".");
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() != 403) {
                throw KubernetesErrors.translate(e, "Failed to read Pool " + poolRef);
            }
        }
    }

    /** The poolRef that asks the controller to pick a pool itself. */
    static final String AUTO_POOL = "*";

    private void createImagePullSecret(ProvisionRequest request) {
        Secret secret = json.convertValue(BatchSandboxManifest.imagePullSecret(request.id(), config.namespace(),
            request.image().uri(), request.image().auth(), scope.labels(), json::asJson), Secret.class);
        try {
            client.secrets().inNamespace(config.namespace()).resource(secret).create();
        } catch (KubernetesClientException e) {
            throw KubernetesErrors.translate(e, "Failed to create the image pull secret of sandbox " + request.id());
        }
    }

    /**
     * Makes the Secret garbage-collected with its BatchSandbox (not the controller: {@code controller=false}).
     * Best effort: remove and the orphan reaper delete it by label anyway.
     */
    private void attachSecretToOwner(SandboxId id, GenericKubernetesResource owner) {
        String patch = "{\"metadata\":{\"ownerReferences\":[" + json.asJson(new OwnerReferenceBuilder()
            .withApiVersion(BatchSandboxes.API_VERSION).withKind(BatchSandboxes.KIND)
            .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid())
            .withController(false).build()) + "]}}";
        try {
            client.secrets().inNamespace(config.namespace()).withName(BatchSandboxes.imagePullSecretName(id))
                .patch(MERGE_PATCH, patch);
        } catch (KubernetesClientException e) {
            LOG.warn("sandbox={} action=secret-owner error={}", id, KubernetesErrors.describe(e));
        }
    }

    /** Collects the versions of one BatchSandbox that the cache sees while create waits. */
    private final class CreateWait {
        private GenericKubernetesResource running;
        private String failure;
        private GenericKubernetesResource last;

        synchronized void offer(GenericKubernetesResource cr) {
            // A deletion (null) is not decided here: the wait simply times out.
            if (cr == null || running != null || failure != null) {
                return;
            }
            last = cr;
            SandboxStatus status = status(cr);
            // Running with an IP. Not "Allocated" (an IP before any status), which upstream accepts because it
            // polls once a second: an event-driven wait would return in the moment between the controller's
            // two writes, and a pause right after create would then be refused for want of a phase.
            if (status.state() == SandboxState.RUNNING && !"IP_ASSIGNED".equals(status.reason())
                && (agent || WorkloadMapper.podIp(cr).isPresent())) {
                running = cr;
            } else if (status.state() == SandboxState.FAILED) {
                // Fail fast: the controller's Failed is sticky, waiting for the timeout only delays the error.
                failure = status.message();
            }
            notifyAll();
        }

        synchronized GenericKubernetesResource await(SandboxId id, Instant deadline) {
            while (true) {
                if (running != null) {
                    return running;
                }
                if (failure != null) {
                    throw new RuntimeFailureException(KubernetesErrors.SANDBOX_START_FAILED,
                        "Sandbox " + id + " failed to start: " + failure);
                }
                Duration remaining = Duration.between(clock.instant(), deadline);
                if (remaining.isNegative() || remaining.isZero()) {
                    String lastStatus = last == null ? "not seen" : describe(status(last));
                    throw new DeadlineExceededException(KubernetesErrors.POD_READY_TIMEOUT,
                        "Sandbox " + id + " was not running with a pod IP within " + config.createTimeout().toSeconds()
                            + " s (last status: " + lastStatus + ").");
                }
                try {
                    // Woken by every event; the clock is re-read in between so that an injected clock rules the deadline.
                    wait(Math.max(1, Math.min(remaining.toMillis(), CLOCK_CHECK.toMillis())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RuntimeFailureException(KubernetesErrors.API_ERROR,
                        "Interrupted while waiting for sandbox " + id + " to start.", e);
                }
            }
        }
    }

    private static String describe(SandboxStatus status) {
        return status.state().wireName() + (status.reason() == null ? "" : "/" + status.reason())
            + (status.message() == null ? "" : ": " + status.message());
    }

    // ---------------------------------------------------------------- reads

    @Override
    public Optional<Sandbox> inspect(SandboxId id) {
        return find(id).flatMap(cr -> toSandbox(cr, pod(id)));
    }

    @Override
    public List<Sandbox> list() {
        List<GenericKubernetesResource> items;
        if (sandboxes.synced()) {
            items = sandboxes.all();
        } else {
            try {
                items = scope.select(crs().withLabel(Labels.ID)).list().getItems().stream().filter(scope::owns).toList();
            } catch (KubernetesClientException e) {
                throw KubernetesErrors.translate(e, "Failed to list " + kind() + "s");
            }
        }
        List<Sandbox> result = new ArrayList<>();
        for (GenericKubernetesResource cr : items) {
            String key = idKey(cr);
            Pod pod = key == null ? null : pods.get(key).orElse(null);
            toSandbox(cr, pod).ifPresent(result::add);
        }
        return result;
    }

    /** The BatchSandbox of a sandbox: from the cache once it has listed, else from the API (id, then legacy name). */
    private Optional<GenericKubernetesResource> find(SandboxId id) {
        if (sandboxes.synced()) {
            return sandboxes.get(id.toString());
        }
        for (String name : names(id)) {
            Optional<GenericKubernetesResource> found = get(name);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    /** The workload named {@code name} when this deployment owns it: another deployment's is unknown here. */
    private Optional<GenericKubernetesResource> get(String name) {
        return read(name).filter(scope::owns);
    }

    private Optional<GenericKubernetesResource> read(String name) {
        try {
            return Optional.ofNullable(crs().withName(name).get());
        } catch (KubernetesClientException e) {
            throw KubernetesErrors.translate(e, "Failed to read " + kind() + " " + name);
        }
    }

    private Pod pod(SandboxId id) {
        return pods.get(id.toString()).orElse(null);
    }

    /** A fresh read for read-modify-write verbs, or the runtime's not-found error. */
    private GenericKubernetesResource fetch(SandboxId id) {
        Optional<GenericKubernetesResource> cached = sandboxes.synced() ? sandboxes.get(id.toString()) : Optional.empty();
        List<String> candidates = cached.isPresent() ? List.of(cached.get().getMetadata().getName()) : names(id);
        Optional<GenericKubernetesResource> fresh = Optional.empty();
        for (int i = 0; i < candidates.size() && fresh.isEmpty(); i++) {
            fresh = get(candidates.get(i));
        }
        GenericKubernetesResource cr = fresh.orElseThrow(() -> sandboxNotFound(id));
        sandboxes.upsert(cr);
        return cr;
    }

    // ---------------------------------------------------------------- remove

    @Override
    public void remove(SandboxId id) {
        Optional<GenericKubernetesResource> known = sandboxes.synced() ? sandboxes.get(id.toString()) : Optional.empty();
        Set<String> names = new LinkedHashSet<>();
        if (known.isPresent()) {
            names.add(known.get().getMetadata().getName());
        } else {
            names.add(names(id).get(0));
            if (!sandboxes.synced()) {
                names.addAll(names(id));
            }
            if (!scope.ownsEverything()) {
                // Not in this deployment's cache: deleted only once read back as ours (another's stays untouched).
                names.removeIf(name -> !existsAndOwned(id, name));
            }
        }
        for (String name : names) {
            try {
                // No wait: the controller and the garbage collector finish the job (pods, the image Secret).
                crs().withName(name).withGracePeriod(0).delete();
            } catch (KubernetesClientException e) {
                if (e.getCode() != 404) {
                    throw KubernetesErrors.translate(e, "Failed to delete " + kind() + " " + name);
                }
            }
        }
        if (!agent && (known.isEmpty() || usesImagePullSecret(known.get(), id))) {
            deleteSecretQuietly(id);
        }
        Pvcs.deleteWithSandbox(client, config.namespace(), id, scope);
        sandboxes.evict(id.toString());
        LOG.info("sandbox={} action=remove", id);
    }

    /** Whether workload {@code name} exists and is this deployment's; another deployment's is logged. */
    private boolean existsAndOwned(SandboxId id, String name) {
        Optional<GenericKubernetesResource> found = read(name);
        if (found.isPresent() && !scope.owns(found.get())) {
            LOG.info("sandbox={} action=remove-skipped name={} owner={} deployment={}", id, name,
                WorkloadMapper.labels(found.get()).getOrDefault(Labels.DEPLOYMENT, "none"), scope.describe());
            return false;
        }
        return found.isPresent();
    }

    private static boolean usesImagePullSecret(GenericKubernetesResource cr, SandboxId id) {
        Object secrets = WorkloadMapper.child(WorkloadMapper.child(WorkloadMapper.child(cr.getAdditionalProperties(),
            "spec"), "template"), "spec").get("imagePullSecrets");
        return secrets instanceof List<?> list && list.stream().anyMatch(element -> element instanceof Map<?, ?> map
            && BatchSandboxes.imagePullSecretName(id).equals(map.get("name")));
    }

    private void removeQuietly(SandboxId id, String name, boolean secretCreated) {
        try {
            crs().withName(name).withGracePeriod(0).delete();
        } catch (KubernetesClientException e) {
            LOG.warn("sandbox={} action=create-cleanup error={}", id, KubernetesErrors.describe(e));
        }
        if (secretCreated) {
            deleteSecretQuietly(id);
        }
        sandboxes.evict(id.toString());
    }

    /** Deletes the sandbox's image pull Secret if this deployment owns it (another deployment's stays). */
    private void deleteSecretQuietly(SandboxId id) {
        try {
            var secret = client.secrets().inNamespace(config.namespace()).withName(BatchSandboxes.imagePullSecretName(id));
            if (!scope.ownsEverything() && !scope.owns(secret.get())) {
                return;
            }
            secret.withGracePeriod(0).delete();
        } catch (KubernetesClientException e) {
            LOG.warn("sandbox={} action=secret-delete error={}", id, KubernetesErrors.describe(e));
        }
    }

    /**
     * Deletes this deployment's image pull Secrets whose BatchSandbox no longer exists (a crash between the
     * two creates), never one of a create in flight. Claims are not reaped: they hold data, and those that go
     * with their sandbox are deleted by {@link #remove}.
     */
    @Override
    public void reapOrphans() {
        if (!sandboxes.synced()) {
            return;
        }
        List<Secret> secrets;
        try {
            secrets = scope.select(client.secrets().inNamespace(config.namespace()).withLabel(Labels.ID)).list()
                .getItems();
        } catch (KubernetesClientException e) {
            LOG.warn("action=reap-orphans error={}", KubernetesErrors.describe(e));
            return;
        }
        for (Secret secret : secrets) {
            String key = idKey(secret);
            Optional<SandboxId> id = SandboxId.tryParse(key);
            // Only this deployment's Secrets, and none of a create still in flight (its CR comes after the Secret).
            if (id.isPresent() && scope.owns(secret) && !creating.contains(id.get()) && sandboxes.get(key).isEmpty()
                && BatchSandboxes.imagePullSecretName(id.get()).equals(secret.getMetadata().getName())) {
                LOG.info("sandbox={} action=reap-orphan secret={}", key, secret.getMetadata().getName());
                deleteSecretQuietly(id.get());
            }
        }
    }

    // ---------------------------------------------------------------- pause and resume

    @Override
    public void pause(SandboxId id) {
        requestPause(id, true);
    }

    @Override
    public void resume(SandboxId id) {
        requestPause(id, false);
    }

    /**
     * Validates the phase on a fresh read (pause only from {@code Succeed}, resume only from
     * {@code Paused}) and writes {@code spec.pause}; the controller does the rest and clients
     * follow it through inspect.
     */
    private void requestPause(SandboxId id, boolean pause) {
        GenericKubernetesResource cr = fetch(id);
        if (agent) {
            // Upstream's answer: the agent-sandbox controller has no pause.
            throw new InvalidRequestException(KubernetesErrors.INVALID_STATE, "Pause is not supported for this sandbox "
                + "type (agent-sandbox): sandbox " + id + " cannot be " + (pause ? "paused" : "resumed") + ".");
        }
        String phase = WorkloadMapper.phase(cr);
        boolean retry = WorkloadMapper.condition(cr, pause ? BatchSandboxes.CONDITION_PAUSE_FAILED
            : BatchSandboxes.CONDITION_RESUME_FAILED).isPresent();
        String allowed = pause ? BatchSandboxes.PHASE_SUCCEED : BatchSandboxes.PHASE_PAUSED;
        if (!allowed.equals(phase)) {
            throw new ConflictException(KubernetesErrors.INVALID_STATE, "Sandbox " + id + " cannot be "
                + (pause ? "paused" : "resumed") + ": " + rejection(phase, pause, retry) + ".");
        }
        setPause(id, cr, pause, retry);
        LOG.info("sandbox={} action={}-requested retry={}", id, pause ? "pause" : "resume", retry);
    }

    /** Why a pause ({@code pause}) or resume is refused in {@code phase}, in upstream's terms. */
    private static String rejection(String phase, boolean pause, boolean previousAttemptFailed) {
        if (phase == null || phase.isBlank()) {
            return "it has no phase yet";
        }
        return switch (phase) {
            case BatchSandboxes.PHASE_PAUSING, BatchSandboxes.PHASE_RESUMING ->
                "a pause or resume operation is in progress (phase " + phase + ")";
            case BatchSandboxes.PHASE_PAUSED -> "it is already paused";
            case BatchSandboxes.PHASE_SUCCEED, BatchSandboxes.PHASE_RUNNING ->
                pause ? "it is in phase '" + phase + "'" : "it is not paused (expected Paused, got " + phase + ")";
            case BatchSandboxes.PHASE_FAILED -> !previousAttemptFailed ? "it is not available (phase Failed)"
                : pause ? "the previous pause caused pod loss" : "the previous resume caused pod start failure";
            case BatchSandboxes.PHASE_PENDING -> "it is still being created";
            default -> "it is in phase '" + phase + "'";
        };
    }

    /**
     * Writes {@code spec.pause}. After a failed attempt (the matching *Failed condition) the
     * controller only acts on a new generation, so the value is first cleared ({@code null}) and
     * then set: upstream's retry bridge. If the second patch fails, a re-read decides whether it
     * landed anyway; otherwise it is retried once.
     */
    private void setPause(SandboxId id, GenericKubernetesResource cr, boolean target, boolean bridge) {
        String targetPatch = "{\"spec\":{\"pause\":" + target + "}}";
        if (!bridge) {
            sandboxes.upsert(patch(cr, targetPatch, id));
            return;
        }
        patch(cr, "{\"spec\":{\"pause\":null}}", id);
        try {
            sandboxes.upsert(patch(cr, targetPatch, id));
        } catch (SandboxException first) {
            GenericKubernetesResource reread = fetch(id);
            if (Boolean.valueOf(target).equals(WorkloadMapper.child(reread.getAdditionalProperties(), "spec").get("pause"))) {
                return;
            }
            LOG.warn("sandbox={} action=pause-bridge-retry error={}", id, first.getMessage());
            sandboxes.upsert(patch(reread, targetPatch, id));
        }
    }

    /** One JSON merge patch of the BatchSandbox {@code cr}, the patch type named explicitly. */
    private GenericKubernetesResource patch(GenericKubernetesResource cr, String mergePatch, SandboxId id) {
        try {
            return crs().resource(cr).patch(MERGE_PATCH, mergePatch);
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                throw sandboxNotFound(id);
            }
            throw KubernetesErrors.translate(e, "Failed to patch " + kind() + " " + cr.getMetadata().getName());
        }
    }

    // ---------------------------------------------------------------- renew and metadata

    @Override
    public void renewExpiration(SandboxId id, Instant expiresAt) {
        applyExpiration(id, expiresAt);
    }

    @Override
    public void patchMetadata(SandboxId id, Map<String, String> patch) {
        applyMetadata(id, patch);
    }

    /**
     * Moves {@code spec.expireTime}, which the controller enforces by deleting the CR.
     *
     * @throws InvalidRequestException when {@code expiresAt} is not in the future
     * @throws ConflictException when the sandbox was created without expiry
     */
    Instant applyExpiration(SandboxId id, Instant expiresAt) {
        if (!expiresAt.isAfter(clock.instant())) {
            throw new InvalidRequestException(ErrorCodes.INVALID_EXPIRATION, "New expiration time must be in the future.");
        }
        GenericKubernetesResource cr = fetch(id);
        if (agent ? !AgentSandboxMapper.hasExpiry(cr) : !WorkloadMapper.hasExpiry(cr)) {
            throw new ConflictException(ErrorCodes.INVALID_EXPIRATION,
                "Sandbox " + id + " does not have automatic expiration enabled.");
        }
        String time = BatchSandboxManifest.formatTime(expiresAt);
        String field = agent ? AgentSandboxes.SHUTDOWN_TIME : "expireTime";
        sandboxes.upsert(patch(cr, "{\"spec\":{\"" + field + "\":" + LabelJson.quote(time) + "}}", id));
        LOG.info("sandbox={} action=renew expiresAt={}", id, time);
        return WorkloadMapper.parseTime(time).orElse(expiresAt);
    }

    /**
     * Applies an RFC 7396 patch of user metadata to the CR's labels, sending only what changes
     * ({@code null} removes a label).
     */
    Sandbox applyMetadata(SandboxId id, Map<String, String> patch) {
        MetadataRules.validatePatch(patch);
        GenericKubernetesResource cr = fetch(id);
        Map<String, String> current = WorkloadMapper.labels(cr);
        Map<String, String> delta = new LinkedHashMap<>();
        patch.forEach((key, value) -> {
            if (value == null ? current.get(key) != null : !value.equals(current.get(key))) {
                delta.put(key, value);
            }
        });
        GenericKubernetesResource result = cr;
        if (!delta.isEmpty()) {
            result = patch(cr, "{\"metadata\":{\"labels\":" + LabelJson.object(delta) + "}}", id);
            sandboxes.upsert(result);
        }
        return toSandbox(result, pod(id)).orElseThrow(() -> sandboxNotFound(id));
    }

    // ---------------------------------------------------------------- endpoints

    /** The egress sidecar's credential, for port 18080 of sandboxes that have one. */
    static final String EGRESS_AUTH_HEADER = "OPENSANDBOX-EGRESS-AUTH";
    static final int EGRESS_PORT = 18080;

    /**
     * Direct mode: the first pod IP the controller published. Gateway mode: the gateway's shape
     * for clients ({@link GatewayRoutes}), still the pod IP for the server's own proxy, which
     * dials sandboxes itself and checks the secure-access token on its own (as upstream since
     * 0.1.12: the proxy bypasses the ingress). External endpoints carry the token annotation of
     * the CR as {@code OpenSandbox-Secure-Access} (sandboxes created by the upstream server
     * included), port 18080 the egress token annotation.
     */
    @Override
    public Endpoint resolveEndpoint(SandboxId id, int port, EndpointPurpose purpose) {
        checkPort(port);
        GenericKubernetesResource cr = find(id).orElseThrow(() -> sandboxNotFound(id));
        IngressConfig ingress = config.ingress();
        if (purpose == EndpointPurpose.INTERNAL || !ingress.isGateway()) {
            Endpoint direct = agent ? agentEndpoint(id, cr, port) : podEndpoint(id, cr, port);
            return purpose == EndpointPurpose.INTERNAL ? direct : withTokens(direct, cr, port, true);
        }
        return withTokens(GatewayRoutes.endpoint(ingress.gateway(), id.toString(), port, null), cr, port, true);
    }

    /**
     * Signed routes (OSEP-0011) through the gateway, checked in upstream's order: the expiry, the
     * sandbox's existence, then gateway mode and a signing key (each 400
     * {@code SANDBOX::INVALID_PARAMETER}). A signed endpoint carries no secure-access header.
     */
    @Override
    public Endpoint resolveEndpoint(EndpointRequest request) {
        if (!request.signed()) {
            return resolveEndpoint(request.id(), request.port(), request.purpose());
        }
        checkPort(request.port());
        long expires = RouteSigner.checkExpires(request.expires(), clock.instant());
        SandboxId id = request.id();
        GenericKubernetesResource cr = find(id).orElseThrow(() -> sandboxNotFound(id));
        IngressConfig ingress = config.ingress();
        if (!ingress.isGateway()) {
            throw invalid("Signed routes require ingress.mode = 'gateway'. Configure ingress gateway or omit the "
                + "expires parameter.");
        }
        if (ingress.signingKey() == null) {
            throw invalid("Signed routes require ingress.secure_access to be configured with signing keys. Configure "
                + "secure_access or omit the expires parameter.");
        }
        RouteSigner.SignedRoute route = RouteSigner.sign(id.toString(), request.port(), expires, ingress.signingKey());
        return withTokens(GatewayRoutes.endpoint(ingress.gateway(), id.toString(), request.port(), route), cr,
            request.port(), false);
    }

    private static void checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new InvalidRequestException(ErrorCodes.INVALID_PORT, "Port must be between 1 and 65535.");
        }
    }

    private static Endpoint podEndpoint(SandboxId id, GenericKubernetesResource cr, int port) {
        String ip = WorkloadMapper.podIp(cr).orElseThrow(() -> new NotFoundException(
            KubernetesErrors.POD_IP_NOT_AVAILABLE, "Pod IP is not yet available for sandbox " + id + "."));
        return Endpoint.of((ip.contains(":") ? "[" + ip + "]" : ip) + ":" + port);
    }

    /**
     * agent-sandbox, direct mode: the first Running pod with an IP among those {@code status.selector}
     * selects (listed now, as upstream), else the Sandbox's Service ({@code status.serviceFQDN}).
     */
    private Endpoint agentEndpoint(SandboxId id, GenericKubernetesResource cr, int port) {
        String selector = AgentSandboxMapper.selector(cr);
        List<Pod> selected = List.of();
        if (selector != null) {
            try {
                selected = client.pods().inNamespace(config.namespace())
                    .list(new ListOptionsBuilder().withLabelSelector(selector).build()).getItems();
            } catch (KubernetesClientException e) {
                throw KubernetesErrors.translate(e, "Failed to list the pods of sandbox " + id);
            }
        }
        String host = AgentSandboxMapper.directHost(cr, selected).orElseThrow(() -> new NotFoundException(
            KubernetesErrors.POD_IP_NOT_AVAILABLE, "Pod IP is not yet available for sandbox " + id + "."));
        return Endpoint.of((host.contains(":") ? "[" + host + "]" : host) + ":" + port);
    }

    /** Adds the CR's access tokens as headers: the secure-access token unless signed, the egress token on 18080. */
    private static Endpoint withTokens(Endpoint endpoint, GenericKubernetesResource cr, int port, boolean secureAccess) {
        Map<String, String> annotations = cr.getMetadata().getAnnotations();
        if (annotations == null) {
            return endpoint;
        }
        Endpoint result = endpoint;
        String token = annotations.get(BatchSandboxes.SECURE_ACCESS_TOKEN_ANNOTATION);
        if (secureAccess && token != null && !token.isBlank()) {
            result = result.withHeader(SandboxService.SECURE_ACCESS_HEADER, token);
        }
        String egress = annotations.get(Labels.EGRESS_AUTH_TOKEN);
        if (port == EGRESS_PORT && egress != null && !egress.isBlank()) {
            result = result.withHeader(EGRESS_AUTH_HEADER, egress);
        }
        return result;
    }

    // ---------------------------------------------------------------- snapshots (KubernetesSnapshots)

    @Override
    public String commitSnapshot(SandboxId id, String snapshotId) {
        if (agent) {
            throw new dev.opensandbox.core.UnsupportedCapabilityException(KubernetesErrors.INVALID_STATE,
                "Snapshots are not supported by the agent-sandbox workload provider.");
        }
        return snapshots.commit(id, snapshotId);
    }

    @Override
    public void deleteSnapshot(String snapshotId, String image) {
        snapshots.delete(snapshotId);
    }

    @Override
    public void deleteSnapshotImage(String image) {
        snapshots.deleteImage(image);
    }

    @Override
    public boolean snapshotImageExists(String image) {
        return snapshots.imageExists(image);
    }

    @Override
    public Optional<String> snapshotImageFor(String snapshotId) {
        return snapshots.imageFor(snapshotId);
    }

    // ---------------------------------------------------------------- exec, files, logs, stats (pod exec)

    @Override
    public ExecHandle exec(SandboxId id, ExecRequest request, ExecOutput output) {
        return podExec.exec(id, request, output);
    }

    @Override
    public void writeFile(SandboxId id, String path, InputStream content, long size, int mode) {
        podFiles.writeFile(id, path, content, size, mode);
    }

    @Override
    public InputStream readFile(SandboxId id, String path) {
        return podFiles.readFile(id, path);
    }

    @Override
    public Optional<FileInfo> statFile(SandboxId id, String path) {
        return podFiles.statFile(id, path);
    }

    @Override
    public String logs(SandboxId id, int tail, Instant since) {
        return podTelemetry.logs(id, tail, since);
    }

    @Override
    public ResourceUsage stats(SandboxId id) {
        return podTelemetry.stats(id);
    }

    // ---------------------------------------------------------------- lifecycle

    @Override
    public void close() {
        sandboxes.close();
        pods.close();
        snapshots.close();
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
                scheduler.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            scheduler.shutdownNow();
        }
        if (ownsClient) {
            client.close();
        }
    }

    private static InvalidRequestException invalid(String message) {
        return new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, message);
    }
}
