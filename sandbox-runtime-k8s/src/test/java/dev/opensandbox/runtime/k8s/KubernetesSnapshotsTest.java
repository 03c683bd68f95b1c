package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.DeadlineExceededException;
import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.SnapshotCommitException;
import dev.opensandbox.core.testing.MutableClock;
import dev.opensandbox.runtime.k8s.testing.FakeBatchSandboxController;
import dev.opensandbox.runtime.k8s.testing.FakeSnapshotController;
import dev.opensandbox.runtime.k8s.testing.FakeSnapshotController.Behavior;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Snapshots as SandboxSnapshot custom resources, against the mock API server with fake controllers. */
class KubernetesSnapshotsTest {

    static final String NAMESPACE = "sandboxes";
    static final String SNAPSHOTS = "/apis/sandbox.opensandbox.io/v1alpha1/namespaces/" + NAMESPACE + "/sandboxsnapshots";
    static final Duration BOUND = Duration.ofSeconds(10);

    MockCluster cluster;
    FakeBatchSandboxController sandboxController;
    FakeSnapshotController snapshotController;
    MutableClock clock;
    KubernetesSandboxRuntime runtime;

    @BeforeEach
    void start() throws InterruptedException {
        cluster = new MockCluster();
        sandboxController = new FakeBatchSandboxController(cluster.controllerClient(), NAMESPACE);
        snapshotController = new FakeSnapshotController(cluster.controllerClient(), NAMESPACE);
        clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        runtime = new KubernetesSandboxRuntime(KubernetesRuntimeConfig.defaults(NAMESPACE)
            .withSnapshotCreateTimeout(Duration.ofSeconds(120)), cluster.client(), false, Map.of(), clock);
        assertTrue(runtime.awaitCachesSynced(BOUND), "caches listed");
    }

    @AfterEach
    void stop() {
        runtime.close();
        snapshotController.close();
        sandboxController.close();
        cluster.close();
    }

    Sandbox sandbox(SandboxSpec spec) {
        Instant now = clock.instant();
        ResourceLimits limits = new ResourceLimits(Map.of(), OptionalLong.empty(), OptionalLong.empty(), OptionalInt.empty());
        return runtime.create(new ProvisionRequest(SandboxId.random(), spec, spec.image(), spec.entrypoint(), limits, now,
            now.plus(Duration.ofHours(1))));
    }

    Sandbox sandbox() {
        return sandbox(SandboxSpec.builder().image("python:3.11").entrypoint("sleep", "3600").resourceLimits(Map.of())
            .timeout(Duration.ofHours(1)).build());
    }

    Optional<GenericKubernetesResource> snapshotCr(String snapshotId) {
        return Optional.ofNullable(cluster.client().genericKubernetesResources(KubernetesSnapshots.CONTEXT)
            .inNamespace(NAMESPACE).withName(KubernetesSnapshots.name(snapshotId)).get());
    }

    /** A SandboxSnapshot someone else made (no status: the fake controller gives it one only if it knows the sandbox). */
    void foreignSnapshot(String name, String sandboxName, String snapshotId) {
        snapshotController.behave(sandboxName, Behavior.HANG);
        GenericKubernetesResource cr = new GenericKubernetesResource();
        cr.setApiVersion(BatchSandboxes.API_VERSION);
        cr.setKind(KubernetesSnapshots.KIND);
        cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NAMESPACE)
            .addToLabels(Labels.SNAPSHOT_ID, snapshotId).addToLabels(KubernetesSnapshots.SCOPE, "public").build());
        cr.setAdditionalProperty("spec", Map.of("sandboxName", sandboxName));
        cluster.client().genericKubernetesResources(KubernetesSnapshots.CONTEXT).inNamespace(NAMESPACE).resource(cr).create();
    }

    Map<String, Object> body(MockCluster.Request request) {
        return cluster.client().getKubernetesSerialization().unmarshal(request.body(), Map.class);
    }

    @Test
    void theRuntimeDeclaresSnapshots() {
        assertTrue(runtime.capabilities().snapshots());
    }

    @Test
    void crNamesAreTheSnapshotIdsUuidHexOrTheFirst32HexOfItsSha256() {
        assertEquals("osb-snap-0123456789abcdef0123456789abcdef",
            KubernetesSnapshots.name("01234567-89AB-CDEF-0123-456789ABCDEF"));
        // printf 'my-snapshot' | sha256sum
        assertEquals("osb-snap-" + sha256Prefix("my-snapshot"), KubernetesSnapshots.name("my-snapshot"));
        assertEquals(41, KubernetesSnapshots.name("my-snapshot").length());
    }

    private static String sha256Prefix(String text) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8))).substring(0, 32);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void commitCreatesTheSandboxSnapshotAsUpstreamAndReturnsTheImageOfTheSandboxContainer() {
        Sandbox sandbox = sandbox();
        String snapshotId = UUID.randomUUID().toString();

        String image = assertTimeoutPreemptively(BOUND, () -> runtime.commitSnapshot(sandbox.id(), snapshotId));

        String name = KubernetesSnapshots.name(snapshotId);
        assertEquals(FakeSnapshotController.image(sandbox.id().toString(), name), image);
        assertEquals(Instant.parse("2026-01-01T00:00:00Z"), clock.instant(), "no time had to pass");
        List<MockCluster.Request> posts = cluster.requests("POST", SNAPSHOTS);
        assertEquals(1, posts.size());
        Map<String, Object> body = body(posts.get(0));
        assertEquals("SandboxSnapshot", body.get("kind"));
        assertEquals("sandbox.opensandbox.io/v1alpha1", body.get("apiVersion"));
        Map<String, Object> metadata = (Map<String, Object>) body.get("metadata");
        assertEquals(name, metadata.get("name"));
        assertEquals(Map.of("opensandbox.io/snapshot-id", snapshotId, "opensandbox.io/source-sandbox-id",
            sandbox.id().toString(), "opensandbox.io/snapshot-scope", "public"), metadata.get("labels"));
        assertEquals(Map.of("sandboxName", sandbox.id().toString()), body.get("spec"));
        assertFalse(body.containsKey("status"));
        assertTrue(snapshotCr(snapshotId).isPresent(), "a Ready snapshot keeps its CR");
    }

    @Test
    void aFailedSnapshotCarriesTheControllersReasonAndMessageAndItsCrIsDeleted() {
        Sandbox sandbox = sandbox();
        snapshotController.behave(sandbox.id().toString(), Behavior.FAIL);
        String snapshotId = UUID.randomUUID().toString();

        SnapshotCommitException error = assertTimeoutPreemptively(BOUND,
            () -> assertThrows(SnapshotCommitException.class, () -> runtime.commitSnapshot(sandbox.id(), snapshotId)));

        assertEquals("RegistryNotConfigured", error.reason());
        assertEquals("snapshot registry is not configured", error.getMessage());
        assertFalse(snapshotCr(snapshotId).isPresent());
        assertEquals(Instant.parse("2026-01-01T00:00:00Z"), clock.instant(), "failed fast");
    }

    @Test
    void aCommitTimesOutOnTheInjectedClockAndDeletesItsCr() throws Exception {
        Sandbox sandbox = sandbox();
        snapshotController.behave(sandbox.id().toString(), Behavior.HANG);
        String snapshotId = UUID.randomUUID().toString();
        CompletableFuture<String> committing = CompletableFuture.supplyAsync(() -> runtime.commitSnapshot(sandbox.id(),
            snapshotId));
        await().atMost(BOUND).until(() -> snapshotCr(snapshotId).map(cr -> "Committing".equals(
            WorkloadMapper.child(cr.getAdditionalProperties(), "status").get("phase"))).orElse(false));
        assertFalse(committing.isDone(), "still waiting while the clock stands still");

        clock.advance(Duration.ofSeconds(121));

        ExecutionException error = assertThrows(ExecutionException.class, () -> committing.get(10, TimeUnit.SECONDS));
        DeadlineExceededException timeout = assertInstanceOf(DeadlineExceededException.class, error.getCause());
        assertEquals(KubernetesSnapshots.SNAPSHOT_TIMEOUT, timeout.code());
        assertTrue(timeout.getMessage().contains("last phase: Committing"), timeout.getMessage());
        assertFalse(snapshotCr(snapshotId).isPresent());
    }

    @Test
    void aCrOfThatNameForAnotherSandboxIsAConflictAndIsLeftAlone() {
        Sandbox sandbox = sandbox();
        String snapshotId = UUID.randomUUID().toString();
        foreignSnapshot(KubernetesSnapshots.name(snapshotId), "someone-else", snapshotId);

        SnapshotCommitException error = assertThrows(SnapshotCommitException.class,
            () -> runtime.commitSnapshot(sandbox.id(), snapshotId));

        assertEquals("snapshot_runtime_conflict", error.reason());
        assertTrue(error.getMessage().contains("someone-else"), error.getMessage());
        assertTrue(snapshotCr(snapshotId).isPresent());
    }

    @Test
    void aRetriedCommitWaitsOnTheCrItMadeBefore() {
        Sandbox sandbox = sandbox();
        String snapshotId = UUID.randomUUID().toString();
        String first = runtime.commitSnapshot(sandbox.id(), snapshotId);

        String again = assertTimeoutPreemptively(BOUND, () -> runtime.commitSnapshot(sandbox.id(), snapshotId));

        assertEquals(first, again);
        assertEquals(2, cluster.requests("POST", SNAPSHOTS).size(), "the second POST was answered 409");
    }

    @Test
    void severalImagesWithoutASandboxContainerAreAmbiguous() {
        Sandbox sandbox = sandbox();
        snapshotController.behave(sandbox.id().toString(), Behavior.SUCCEED_AMBIGUOUS);

        SnapshotCommitException error = assertThrows(SnapshotCommitException.class,
            () -> runtime.commitSnapshot(sandbox.id(), UUID.randomUUID().toString()));

        assertEquals("snapshot_restore_image_ambiguous", error.reason());
    }

    @Test
    void theOnlyContainersImageIsChosenAndASucceedWithoutImageIsMissingImage() {
        GenericKubernetesResource only = withStatus(Map.of("phase", "Succeed", "containers",
            List.of(Map.of("containerName", "main", "imageUri", "r/x:1"))));
        assertEquals(Optional.of("r/x:1"), KubernetesSnapshots.verdict(only));
        GenericKubernetesResource none = withStatus(Map.of("phase", "Succeed"));
        assertEquals("snapshot_runtime_missing_image", assertThrows(SnapshotCommitException.class,
            () -> KubernetesSnapshots.verdict(none)).reason());
        assertEquals(Optional.empty(), KubernetesSnapshots.verdict(withStatus(Map.of("phase", "Pending"))));
        assertEquals(Optional.empty(), KubernetesSnapshots.verdict(withStatus(Map.of())));
        GenericKubernetesResource failedWithoutCondition = withStatus(Map.of("phase", "Failed"));
        assertEquals("snapshot_runtime_failed", assertThrows(SnapshotCommitException.class,
            () -> KubernetesSnapshots.verdict(failedWithoutCondition)).reason());
    }

    private static GenericKubernetesResource withStatus(Map<String, Object> status) {
        GenericKubernetesResource cr = new GenericKubernetesResource();
        cr.setMetadata(new ObjectMetaBuilder().withName("osb-snap-x").build());
        cr.setAdditionalProperty("status", status);
        return cr;
    }

    @Test
    void aSnapshotOfAnUnknownSandboxIsTheRuntimesNotFound() {
        NotFoundException error = assertThrows(NotFoundException.class,
            () -> runtime.commitSnapshot(SandboxId.random(), UUID.randomUUID().toString()));
        assertEquals(KubernetesErrors.SANDBOX_NOT_FOUND, error.code());
        assertTrue(cluster.requests("POST", SNAPSHOTS).isEmpty());
    }

    @Test
    void deleteRemovesTheCrAndIsIdempotent() {
        Sandbox sandbox = sandbox();
        String snapshotId = UUID.randomUUID().toString();
        String image = runtime.commitSnapshot(sandbox.id(), snapshotId);

        runtime.deleteSnapshot(snapshotId, image);
        assertFalse(snapshotCr(snapshotId).isPresent());
        runtime.deleteSnapshot(snapshotId, image);
        runtime.deleteSnapshot(UUID.randomUUID().toString(), null);

        assertEquals(1, cluster.requests("DELETE", SNAPSHOTS).size(), "only the existing CR was deleted");
    }

    @Test
    void deleteLeavesACrThatCarriesAnotherSnapshotsId() {
        String snapshotId = "not-a-uuid";
        foreignSnapshot(KubernetesSnapshots.name(snapshotId), "some-sandbox", "another-snapshot");

        runtime.deleteSnapshot(snapshotId, null);

        assertTrue(snapshotCr(snapshotId).isPresent());
    }

    @Test
    void aConflictFromTheApiServerIsTheCoresConflict() {
        Sandbox sandbox = sandbox();
        String snapshotId = UUID.randomUUID().toString();
        String image = runtime.commitSnapshot(sandbox.id(), snapshotId);
        cluster.answer(r -> r.method().equals("DELETE") && r.path().contains(SNAPSHOTS), 409);

        assertThrows(ConflictException.class, () -> runtime.deleteSnapshot(snapshotId, image));
        assertTrue(snapshotCr(snapshotId).isPresent());
    }

    @Test
    void deleteSnapshotImageRemovesTheCrThatListsTheImage() throws InterruptedException {
        Sandbox sandbox = sandbox();
        String snapshotId = UUID.randomUUID().toString();
        String image = runtime.commitSnapshot(sandbox.id(), snapshotId);

        runtime.deleteSnapshotImage(image);
        runtime.deleteSnapshotImage("registry.example.com/unknown:1");

        assertFalse(snapshotCr(snapshotId).isPresent());
    }

    @Test
    void aSnapshotThatSucceededWhileTheServerWasDownIsFoundByItsId() throws Exception {
        Sandbox sandbox = sandbox();
        String snapshotId = UUID.randomUUID().toString();
        String image = runtime.commitSnapshot(sandbox.id(), snapshotId);

        assertEquals(Optional.of(image), runtime.snapshotImageFor(snapshotId));
        await().atMost(BOUND).until(() -> runtime.snapshotImageExists(image));
        assertEquals(Optional.empty(), runtime.snapshotImageFor(UUID.randomUUID().toString()));
        assertFalse(runtime.snapshotImageExists("registry.example.com/unknown:1"));

        String hanging = UUID.randomUUID().toString();
        snapshotController.defaultBehavior(Behavior.HANG);
        foreignSnapshot(KubernetesSnapshots.name(hanging), sandbox.id().toString(), hanging);
        assertEquals(Optional.empty(), runtime.snapshotImageFor(hanging), "still committing");
    }

    @Test
    void aRestoreRunsTheSnapshotImageAndLabelsTheBatchSandboxWithTheSnapshotId() {
        Sandbox source = sandbox();
        String snapshotId = UUID.randomUUID().toString();
        String image = runtime.commitSnapshot(source.id(), snapshotId);

        Sandbox restored = sandbox(SandboxSpec.builder().image(ImageSpec.of(image)).snapshotId(snapshotId)
            .entrypoint("tail", "-f", "/dev/null").resourceLimits(Map.of()).timeout(Duration.ofHours(1)).build());

        assertEquals(snapshotId, restored.snapshotId());
        assertNull(restored.image(), "upstream reports no image for a restored sandbox");
        GenericKubernetesResource cr = cluster.client().genericKubernetesResources(BatchSandboxes.CONTEXT)
            .inNamespace(NAMESPACE).withName(restored.id().toString()).get();
        assertEquals(snapshotId, cr.getMetadata().getLabels().get(Labels.SNAPSHOT_ID));
        assertEquals(image, WorkloadMapper.mainContainer(cr).get("image"));
    }
}
