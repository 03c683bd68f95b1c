package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.DeadlineExceededException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.spi.SnapshotCommitException;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;

/**
 * Public snapshots as upstream's {@code SandboxSnapshot} custom resources: a commit creates
 * {@code osb-snap-<32 hex>} for the sandbox's BatchSandbox and waits, on watch events of a cache
 * of its own, for the OpenSandbox controller to report the image ({@code Succeed}) or a failure;
 * the image of the {@code sandbox} container (or of the only one) is what a restore runs. Delete
 * removes the custom resource; the controller's finalizer then removes the image.
 *
 * <p>The CR name depends on the snapshot id alone, so a snapshot interrupted by a restart is
 * found again ({@link #imageFor}). The image name does not (the registry is the controller's
 * {@code --snapshot-registry}), which is why it is read from the CR's status, never computed.
 *
 * <p>With a scoped deployment the CRs carry its label, and SandboxSnapshots of another deployment
 * are unknown here: never waited on, read, reported or deleted.
 *
 * <p>The cache is started by the first snapshot call, so that clusters without the
 * SandboxSnapshot CRD (which upstream does not require) log nothing until snapshots are used.
 */
final class KubernetesSnapshots implements AutoCloseable {

    static final String KIND = "SandboxSnapshot";
    static final String PLURAL = "sandboxsnapshots";
    static final ResourceDefinitionContext CONTEXT = new ResourceDefinitionContext.Builder()
        .withGroup(BatchSandboxes.GROUP).withVersion(BatchSandboxes.VERSION).withKind(KIND).withPlural(PLURAL)
        .withNamespaced(true).build();

    /** Upstream's labels on public snapshots (internal pause snapshots carry none of them). */
    static final String SOURCE_SANDBOX_ID = "opensandbox.io/source-sandbox-id";
    static final String SCOPE = "opensandbox.io/snapshot-scope";
    static final String SCOPE_PUBLIC = "public";

    static final String PHASE_SUCCEED = "Succeed";
    static final String PHASE_FAILED = "Failed";
    static final String CONDITION_FAILED = "Failed";

    /** Upstream's snapshot status reasons for what goes wrong on the server's side of the commit. */
    static final String REASON_CREATE_FAILED = "snapshot_runtime_create_failed";
    static final String REASON_CONFLICT = "snapshot_runtime_conflict";
    static final String REASON_FAILED = "snapshot_runtime_failed";
    static final String REASON_MISSING_IMAGE = "snapshot_runtime_missing_image";
    static final String REASON_AMBIGUOUS = "snapshot_restore_image_ambiguous";

    /** Ours, for logs: the snapshot record carries the reason, not the code. */
    static final String SNAPSHOT_FAILED = "KUBERNETES::SNAPSHOT_FAILED";
    static final String SNAPSHOT_TIMEOUT = "KUBERNETES::SNAPSHOT_TIMEOUT";

    private static final Logger LOG = LoggerFactory.getLogger(KubernetesSnapshots.class);
    /** How often a waiting commit re-reads the injected clock between events. */
    private static final Duration CLOCK_CHECK = Duration.ofMillis(50);

    private final KubernetesClient client;
    private final KubernetesRuntimeConfig config;
    private final Clock clock;
    private final ScheduledExecutorService scheduler;
    private final Function<SandboxId, String> batchSandboxName;
    private final DeploymentScope scope;
    private WatchCache<GenericKubernetesResource> cache;
    private boolean closed;

    /**
     * @param scheduler        the runtime's watch-cache thread (its owner shuts it down)
     * @param batchSandboxName the name of a sandbox's BatchSandbox, read fresh; throws the runtime's
     *                         not-found error for an unknown sandbox
     */
    KubernetesSnapshots(KubernetesClient client, KubernetesRuntimeConfig config, Clock clock,
                        ScheduledExecutorService scheduler, Function<SandboxId, String> batchSandboxName) {
        this.client = Objects.requireNonNull(client, "client");
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.batchSandboxName = Objects.requireNonNull(batchSandboxName, "batchSandboxName");
        this.scope = new DeploymentScope(config.deployment());
    }

    /**
     * Upstream's CR name: {@code osb-snap-} and the snapshot id's UUID in hex, or the first 32 hex
     * characters of its SHA-256 when it is not a UUID.
     */
    static String name(String snapshotId) {
        String hex;
        try {
            hex = UUID.fromString(snapshotId).toString().replace("-", "");
        } catch (IllegalArgumentException e) {
            try {
                hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(snapshotId.getBytes(StandardCharsets.UTF_8))).substring(0, 32);
            } catch (NoSuchAlgorithmException impossible) {
                throw new IllegalStateException(impossible);
            }
        }
        return "osb-snap-" + hex.toLowerCase(Locale.ROOT);
    }

    /**
     * The body upstream writes: name, the three labels, and the BatchSandbox to commit; plus
     * {@code ownerLabels}, the deployment's.
     */
    static Map<String, Object> manifest(String namespace, String snapshotId, SandboxId sandboxId, String sandboxName,
                                        Map<String, String> ownerLabels) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Labels.SNAPSHOT_ID, snapshotId);
        labels.put(SOURCE_SANDBOX_ID, sandboxId.toString());
        labels.put(SCOPE, SCOPE_PUBLIC);
        labels.putAll(ownerLabels);
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("name", name(snapshotId));
        metadata.put("namespace", namespace);
        metadata.put("labels", labels);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("apiVersion", BatchSandboxes.API_VERSION);
        body.put("kind", KIND);
        body.put("metadata", metadata);
        body.put("spec", Map.of("sandboxName", sandboxName));
        return body;
    }

    // ---------------------------------------------------------------- commit

    /**
     * Creates the SandboxSnapshot and waits for the controller's verdict. A CR of that name for
     * the same BatchSandbox (a retried commit) is waited on; one for another BatchSandbox fails
     * with {@code snapshot_runtime_conflict} and is left alone. On a failure or timeout the CR is
     * deleted (its controller-side commit Job and image with it).
     *
     * @return the image a restore runs
     * @throws SnapshotCommitException with upstream's reason when the commit failed
     * @throws DeadlineExceededException after {@code snapshot_create_timeout_seconds}
     */
    String commit(SandboxId id, String snapshotId) {
        String sandboxName = batchSandboxName.apply(id);
        String name = name(snapshotId);
        WatchCache<GenericKubernetesResource> snapshots = cache();
        GenericKubernetesResource body = client.getKubernetesSerialization().convertValue(
            manifest(config.namespace(), snapshotId, id, sandboxName, scope.labels()), GenericKubernetesResource.class);
        Instant deadline = clock.instant().plus(config.snapshotCreateTimeout());
        CommitWait wait = new CommitWait(name);
        // Subscribed before the POST: no event about the new object can be missed.
        try (WatchCache.Subscription ignored = snapshots.subscribe(snapshotId, wait::offer)) {
            GenericKubernetesResource created = create(body, name, sandboxName);
            snapshots.upsert(created);
            wait.offer(created);
            LOG.info("sandbox={} snapshot={} action=snapshot-submitted name={}", id, snapshotId, name);
            try {
                String image = wait.await(deadline);
                LOG.info("sandbox={} snapshot={} action=snapshot-ready image={}", id, snapshotId, image);
                return image;
            } catch (SandboxException e) {
                deleteQuietly(snapshotId, name);
                throw e;
            }
        }
    }

    private GenericKubernetesResource create(GenericKubernetesResource body, String name, String sandboxName) {
        try {
            return crs().resource(body).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw new SnapshotCommitException(SNAPSHOT_FAILED, REASON_CREATE_FAILED,
                    "Failed to create SandboxSnapshot " + name + ": " + KubernetesErrors.describe(e));
            }
        }
        // Already there: ours from an earlier attempt if it names the same BatchSandbox (upstream's rule).
        GenericKubernetesResource existing = read(name).orElseThrow(() -> new SnapshotCommitException(SNAPSHOT_FAILED,
            REASON_CREATE_FAILED, "SandboxSnapshot " + name + " existed and was deleted while it was being created."));
        if (!scope.owns(existing)) {
            throw new SnapshotCommitException(SNAPSHOT_FAILED, REASON_CONFLICT, "SandboxSnapshot " + name
                + " already exists and belongs to another deployment.");
        }
        String owner = text(WorkloadMapper.child(existing.getAdditionalProperties(), "spec")
            .get("sandboxName"));
        if (!sandboxName.equals(owner)) {
            throw new SnapshotCommitException(SNAPSHOT_FAILED, REASON_CONFLICT, "SandboxSnapshot " + name
                + " already exists for sandbox '" + owner + "', not '" + sandboxName + "'.");
        }
        return existing;
    }

    /** Collects the versions of one SandboxSnapshot that the cache sees while a commit waits. */
    private final class CommitWait {
        private final String name;
        private String image;
        private SnapshotCommitException failure;
        private String lastPhase;

        CommitWait(String name) {
            this.name = name;
        }

        synchronized void offer(GenericKubernetesResource cr) {
            if (image != null || failure != null) {
                return;
            }
            if (cr == null) {
                failure = new SnapshotCommitException(SNAPSHOT_FAILED, REASON_FAILED,
                    "SandboxSnapshot " + name + " was deleted before it was ready.");
            } else {
                lastPhase = phase(cr);
                try {
                    image = verdict(cr).orElse(null);
                } catch (SnapshotCommitException e) {
                    failure = e;
                }
            }
            notifyAll();
        }

        synchronized String await(Instant deadline) {
            while (true) {
                if (image != null) {
                    return image;
                }
                if (failure != null) {
                    throw failure;
                }
                Duration remaining = Duration.between(clock.instant(), deadline);
                if (remaining.isNegative() || remaining.isZero()) {
                    throw new DeadlineExceededException(SNAPSHOT_TIMEOUT, "SandboxSnapshot " + name
                        + " was not ready within " + config.snapshotCreateTimeout().toSeconds() + " s (last phase: "
                        + (lastPhase == null ? "none" : lastPhase) + ").");
                }
                try {
                    // Woken by every event; the clock is re-read in between so that an injected clock rules the deadline.
                    wait(Math.max(1, Math.min(remaining.toMillis(), CLOCK_CHECK.toMillis())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RuntimeFailureException(KubernetesErrors.API_ERROR,
                        "Interrupted while waiting for SandboxSnapshot " + name + ".", e);
                }
            }
        }
    }

    /**
     * What the controller decided: the image once {@code Succeed}, empty while in progress, or the
     * failure (the {@code Failed} condition's reason and message copied, as upstream).
     */
    static Optional<String> verdict(GenericKubernetesResource cr) {
        Map<String, Object> status = WorkloadMapper.child(cr.getAdditionalProperties(), "status");
        Optional<Map<String, Object>> failed = failedCondition(status);
        String name = cr.getMetadata().getName();
        if (PHASE_FAILED.equals(status.get("phase")) || failed.isPresent()) {
            String reason = failed.map(c -> text(c.get("reason"))).filter(r -> !r.isBlank())
                .orElse(REASON_FAILED);
            String message = failed.map(c -> text(c.get("message"))).filter(m -> !m.isBlank())
                .orElse("SandboxSnapshot " + name + " failed.");
            throw new SnapshotCommitException(SNAPSHOT_FAILED, reason, message);
        }
        if (!PHASE_SUCCEED.equals(status.get("phase"))) {
            return Optional.empty();
        }
        return Optional.of(image(name, status));
    }

    /** The image of the {@code sandbox} container, else of the only container. */
    private static String image(String name, Map<String, Object> status) {
        List<Map<String, Object>> containers = maps(status.get("containers"));
        Optional<Map<String, Object>> chosen = containers.stream()
            .filter(c -> BatchSandboxes.MAIN_CONTAINER.equals(c.get("containerName"))).findFirst();
        if (chosen.isEmpty() && containers.size() == 1) {
            chosen = Optional.of(containers.get(0));
        }
        if (chosen.isEmpty() && containers.size() > 1) {
            throw new SnapshotCommitException(SNAPSHOT_FAILED, REASON_AMBIGUOUS, "SandboxSnapshot " + name
                + " has " + containers.size() + " container images and none of a container named '"
                + BatchSandboxes.MAIN_CONTAINER + "'.");
        }
        String image = chosen.map(c -> text(c.get("imageUri"))).orElse("");
        if (image.isBlank()) {
            throw new SnapshotCommitException(SNAPSHOT_FAILED, REASON_MISSING_IMAGE,
                "SandboxSnapshot " + name + " succeeded without an image.");
        }
        return image;
    }

    private static Optional<Map<String, Object>> failedCondition(Map<String, Object> status) {
        return maps(status.get("conditions")).stream()
            .filter(c -> CONDITION_FAILED.equals(c.get("type")) && "True".equals(c.get("status")))
            .findFirst();
    }

    private static String phase(GenericKubernetesResource cr) {
        String phase = text(WorkloadMapper.child(cr.getAdditionalProperties(), "status").get("phase"));
        return phase.isBlank() ? "none" : phase;
    }

    // ---------------------------------------------------------------- delete, exists, recovery

    /**
     * Deletes the SandboxSnapshot of {@code snapshotId}; a missing one, or one that carries
     * another snapshot's id (a name collision of non-UUID ids), counts as already gone.
     */
    void delete(String snapshotId) {
        String name = name(snapshotId);
        Optional<GenericKubernetesResource> cr = get(name);
        if (cr.isEmpty()) {
            return;
        }
        String owner = WorkloadMapper.labels(cr.get()).get(Labels.SNAPSHOT_ID);
        if (owner != null && !owner.equals(snapshotId)) {
            LOG.warn("snapshot={} action=snapshot-delete skipped: {} belongs to snapshot {}", snapshotId, name, owner);
            return;
        }
        deleteByName(name);
        evict(snapshotId);
        LOG.info("snapshot={} action=snapshot-delete name={}", snapshotId, name);
    }

    /** Deletes the public SandboxSnapshots whose status lists {@code image}; none is fine. */
    void deleteImage(String image) {
        for (GenericKubernetesResource cr : publicSnapshots()) {
            if (images(cr).contains(image)) {
                deleteByName(cr.getMetadata().getName());
                Optional.ofNullable(WorkloadMapper.labels(cr).get(Labels.SNAPSHOT_ID)).ifPresent(this::evict);
            }
        }
    }

    /** Whether a public SandboxSnapshot that succeeded, and is not being deleted, lists {@code image}. */
    boolean imageExists(String image) {
        return publicSnapshots().stream().anyMatch(cr -> cr.getMetadata().getDeletionTimestamp() == null
            && PHASE_SUCCEED.equals(WorkloadMapper.child(cr.getAdditionalProperties(), "status").get("phase"))
            && images(cr).contains(image));
    }

    /**
     * The image of a snapshot whose commit the server stopped waiting for (a restart): read from
     * its SandboxSnapshot once that succeeded; empty while it is in progress, failed or missing.
     */
    Optional<String> imageFor(String snapshotId) {
        Optional<GenericKubernetesResource> cr = get(name(snapshotId)).filter(found ->
            snapshotId.equals(WorkloadMapper.labels(found).get(Labels.SNAPSHOT_ID)));
        try {
            return cr.flatMap(KubernetesSnapshots::verdict);
        } catch (SnapshotCommitException e) {
            return Optional.empty();
        }
    }

    private static List<String> images(GenericKubernetesResource cr) {
        return maps(WorkloadMapper.child(cr.getAdditionalProperties(), "status").get("containers"))
            .stream().map(c -> text(c.get("imageUri"))).toList();
    }

    private List<GenericKubernetesResource> publicSnapshots() {
        WatchCache<GenericKubernetesResource> snapshots = cache();
        if (snapshots.synced()) {
            return snapshots.all();
        }
        try {
            return scope.select(crs().withLabel(SCOPE, SCOPE_PUBLIC)).list().getItems().stream()
                .filter(scope::owns).toList();
        } catch (KubernetesClientException e) {
            throw KubernetesErrors.translate(e, "Failed to list SandboxSnapshots");
        }
    }

    /** The SandboxSnapshot {@code name} when this deployment owns it: another's is unknown here. */
    private Optional<GenericKubernetesResource> get(String name) {
        return read(name).filter(scope::owns);
    }

    private Optional<GenericKubernetesResource> read(String name) {
        try {
            return Optional.ofNullable(crs().withName(name).get());
        } catch (KubernetesClientException e) {
            throw KubernetesErrors.translate(e, "Failed to read SandboxSnapshot " + name);
        }
    }

    /** A 404 is success; a 409 is the core's conflict (the snapshot stays). */
    private void deleteByName(String name) {
        try {
            crs().withName(name).delete();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw KubernetesErrors.translate(e, "Failed to delete SandboxSnapshot " + name);
            }
        }
    }

    private void deleteQuietly(String snapshotId, String name) {
        try {
            deleteByName(name);
            evict(snapshotId);
        } catch (RuntimeException e) {
            LOG.warn("snapshot={} action=snapshot-cleanup error={}", snapshotId, e.getMessage());
        }
    }

    private synchronized void evict(String snapshotId) {
        if (cache != null) {
            cache.evict(snapshotId);
        }
    }

    private static String text(Object value) {
        return value instanceof String string ? string : "";
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> maps(Object value) {
        if (!(value instanceof List<?> list)) {
            return List.of();
        }
        return list.stream().filter(Map.class::isInstance).map(element -> (Map<String, Object>) element).toList();
    }

    // ---------------------------------------------------------------- cache

    private NonNamespaceOperation<GenericKubernetesResource, GenericKubernetesResourceList,
        Resource<GenericKubernetesResource>> crs() {
        return client.genericKubernetesResources(CONTEXT).inNamespace(config.namespace());
    }

    /** The cache of public SandboxSnapshots keyed by snapshot id, started on first use. */
    private synchronized WatchCache<GenericKubernetesResource> cache() {
        if (cache == null) {
            if (closed) {
                throw new RuntimeFailureException(KubernetesErrors.API_ERROR, "The Kubernetes runtime is closed.");
            }
            cache = new WatchCache<>(KIND, new WatchCache.Source<>() {
                @Override
                public WatchCache.Listing<GenericKubernetesResource> list() {
                    GenericKubernetesResourceList list = scope.select(crs().withLabel(SCOPE, SCOPE_PUBLIC)).list();
                    return new WatchCache.Listing<>(list.getItems(), list.getMetadata().getResourceVersion());
                }

                @Override
                public io.fabric8.kubernetes.client.Watch watch(String resourceVersion, Duration timeout,
                        io.fabric8.kubernetes.client.Watcher<GenericKubernetesResource> watcher) {
                    return scope.select(crs().withLabel(SCOPE, SCOPE_PUBLIC)).watch(new ListOptionsBuilder()
                        .withResourceVersion(resourceVersion).withTimeoutSeconds(Math.max(1L, timeout.toSeconds()))
                        .withAllowWatchBookmarks(true).build(), watcher);
                }
            }, cr -> WorkloadMapper.labels(cr).get(Labels.SNAPSHOT_ID), scope::owns, config.watchTimeout(),
                config.resyncPeriod(), scheduler);
            cache.start();
        }
        return cache;
    }

    /** Waits until the cache listed once (starting it); for tests. */
    boolean awaitCacheSynced(Duration timeout) throws InterruptedException {
        return cache().awaitFirstSync(timeout);
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (cache != null) {
            cache.close();
        }
    }
}
