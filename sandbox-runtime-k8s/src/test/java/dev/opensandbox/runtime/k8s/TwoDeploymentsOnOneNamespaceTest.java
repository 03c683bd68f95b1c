package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Pool;
import dev.opensandbox.core.RegistryAuth;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;
import dev.opensandbox.core.spi.Deployment;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.testing.MutableClock;
import dev.opensandbox.runtime.k8s.testing.FakeAgentSandboxController;
import dev.opensandbox.runtime.k8s.testing.FakeBatchSandboxController;
import dev.opensandbox.runtime.k8s.testing.FakeSnapshotController;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two servers of deployments {@code alpha} and {@code beta} on one namespace of the mock API server
 * (issue 11: each adopted the other's objects, and one expired a sandbox the other had renewed).
 * Each runtime has its own client whose user agent names its deployment, so that what each one
 * sent can be told apart. Objects of the other deployment are made before the runtime under test
 * starts, so that its first list would already hold them if it did not filter.
 */
@DisplayName("A deployment sees, changes and reaps only the Kubernetes objects it owns")
class TwoDeploymentsOnOneNamespaceTest {

    static final String NAMESPACE = KubernetesSandboxRuntimeTest.NAMESPACE;
    static final String BATCHSANDBOXES = KubernetesSandboxRuntimeTest.BATCHSANDBOXES;
    static final String SECRETS = "/api/v1/namespaces/" + NAMESPACE + "/secrets";
    static final String PVCS = "/api/v1/namespaces/" + NAMESPACE + "/persistentvolumeclaims";
    static final Duration BOUND = KubernetesSandboxRuntimeTest.BOUND;
    static final Deployment ALPHA = Deployment.of("alpha");
    static final Deployment BETA = Deployment.of("beta");
    static final ExecOutput DISCARD = new ExecOutput() {
        @Override
        public void stdout(byte[] data, int offset, int length) {
        }

        @Override
        public void stderr(byte[] data, int offset, int length) {
        }
    };

    MockCluster cluster;
    FakeBatchSandboxController controller;
    MutableClock clock;
    final List<KubernetesSandboxRuntime> runtimes = new ArrayList<>();

    @BeforeEach
    void startCluster() {
        cluster = new MockCluster();
        controller = new FakeBatchSandboxController(cluster.controllerClient(), NAMESPACE);
        clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    }

    @AfterEach
    void stopCluster() {
        runtimes.forEach(KubernetesSandboxRuntime::close);
        controller.close();
        cluster.close();
    }

    KubernetesSandboxRuntime start(Deployment deployment) throws InterruptedException {
        return start(KubernetesRuntimeConfig.defaults(NAMESPACE), deployment);
    }

    KubernetesSandboxRuntime start(KubernetesRuntimeConfig config, Deployment deployment) throws InterruptedException {
        KubernetesSandboxRuntime runtime = new KubernetesSandboxRuntime(config.withDeployment(deployment),
            cluster.newClient(agent(deployment)), false, Map.of(), clock);
        runtimes.add(runtime);
        assertTrue(runtime.awaitCachesSynced(BOUND), "caches listed");
        return runtime;
    }

    static String agent(Deployment deployment) {
        return "runtime-" + (deployment.scoped() ? deployment.id() : "unscoped") + "-" + deployment.adoptUnlabelled();
    }

    /** What the runtime of {@code deployment} sent, watches included. */
    List<MockCluster.Request> sentBy(Deployment deployment, Predicate<MockCluster.Request> filter) {
        return cluster.requests(r -> agent(deployment).equals(r.userAgent()) && filter.test(r));
    }

    static boolean writes(MockCluster.Request request) {
        return !request.method().equals("GET");
    }

    static SandboxSpec.Builder spec() {
        return KubernetesSandboxRuntimeTest.spec();
    }

    ProvisionRequest request(SandboxSpec spec) {
        return new ProvisionRequest(SandboxId.random(), spec, spec.image(), spec.entrypoint(), ResourceLimits.none(),
            clock.instant(), clock.instant().plus(Duration.ofHours(1)));
    }

    /** A sandbox with an image pull Secret and a claim that goes with it. */
    SandboxSpec withSecretAndClaim(String claim) {
        return spec().image(new ImageSpec("registry.example.com/app:1", new RegistryAuth("u", "p")))
            .volume(new VolumeSpec("data", "/data", false, null,
                new VolumeBackend.Pvc(claim, true, true, null, null, List.of()))).build();
    }

    KubernetesClient api() {
        return cluster.client();
    }

    GenericKubernetesResource cr(SandboxId id) {
        return api().genericKubernetesResources(BatchSandboxes.CONTEXT).inNamespace(NAMESPACE).withName(id.toString()).get();
    }

    boolean secretExists(SandboxId id) {
        return api().secrets().inNamespace(NAMESPACE).withName(BatchSandboxes.imagePullSecretName(id)).get() != null;
    }

    boolean claimExists(String name) {
        return api().persistentVolumeClaims().inNamespace(NAMESPACE).withName(name).get() != null;
    }

    Map<String, Object> body(MockCluster.Request request) {
        return api().getKubernetesSerialization().unmarshal(request.body(), Map.class);
    }

    /** A BatchSandbox as the upstream server makes it: the id label and no deployment label. */
    SandboxId upstreamSandbox() {
        SandboxId id = SandboxId.random();
        controller.behave(id.toString(), FakeBatchSandboxController.Behavior.IGNORE);
        GenericKubernetesResource cr = new GenericKubernetesResource();
        cr.setApiVersion(BatchSandboxes.API_VERSION);
        cr.setKind(BatchSandboxes.KIND);
        cr.setMetadata(new ObjectMetaBuilder().withName(id.toString()).withNamespace(NAMESPACE)
            .addToLabels(Labels.ID, id.toString()).build());
        cr.setAdditionalProperty("spec", Map.of("replicas", 1, "expireTime", "2026-01-01T01:00:00Z",
            "template", Map.of("spec", Map.of("containers", List.of(Map.of("name", "sandbox", "image", "busybox"))))));
        api().genericKubernetesResources(BatchSandboxes.CONTEXT).inNamespace(NAMESPACE).resource(cr).create();
        return id;
    }

    static List<SandboxId> ids(List<Sandbox> sandboxes) {
        return sandboxes.stream().map(Sandbox::id).toList();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> at(Map<String, Object> map, String... path) {
        return KubernetesSandboxRuntimeTest.at(map, path);
    }

    // ---------------------------------------------------------------- reads

    @Test
    void eachDeploymentListsAndInspectsOnlyItsOwnSandboxes() throws InterruptedException {
        KubernetesSandboxRuntime beta = start(BETA);
        Sandbox theirs = beta.create(request(spec().build()));
        KubernetesSandboxRuntime alpha = start(ALPHA);
        Sandbox ours = alpha.create(request(spec().build()));

        assertEquals(List.of(ours.id()), ids(alpha.list()));
        assertTrue(alpha.inspect(theirs.id()).isEmpty());
        assertEquals(List.of(theirs.id()), ids(beta.list()));
        assertTrue(beta.inspect(ours.id()).isEmpty());
        KubernetesSandboxRuntime unscoped = start(Deployment.unscoped());
        assertEquals(2, unscoped.list().size(), "an unscoped runtime sees every sandbox, as before deployment ids");
    }

    @Test
    void listsAndWatchesSelectTheDeploymentLabelOnTheApiServer() throws InterruptedException {
        start(ALPHA);

        Predicate<MockCluster.Request> cacheReads = r -> r.method().equals("GET")
            && (r.path().startsWith(BATCHSANDBOXES) || r.path().startsWith("/api/v1/namespaces/" + NAMESPACE + "/pods"));
        await().atMost(BOUND).until(() -> sentBy(ALPHA, cacheReads).size() >= 4); // a list and a watch of each kind
        List<String> selectors = sentBy(ALPHA, cacheReads).stream()
            .map(r -> URLDecoder.decode(r.path(), StandardCharsets.UTF_8)).toList();
        selectors.forEach(path -> assertTrue(path.contains("labelSelector=opensandbox.io/id,opensandbox.io/deployment=alpha"),
            path));
    }

    @Test
    void createdObjectsCarryTheDeploymentLabelInWhatTheClientSent() throws InterruptedException {
        KubernetesSandboxRuntime alpha = start(ALPHA);

        ProvisionRequest request = request(withSecretAndClaim("alpha-claim"));
        alpha.create(request);
        alpha.pools().orElseThrow().create("alpha-pool", Map.of("spec", Map.of()), new Pool.Capacity(1, 0, 2, 0));

        Map<String, Object> cr = body(sentBy(ALPHA, r -> r.method().equals("POST") && r.path().equals(BATCHSANDBOXES)).get(0));
        assertEquals("alpha", at(cr, "metadata", "labels").get(Labels.DEPLOYMENT));
        assertEquals("alpha", at(cr, "spec", "template", "metadata", "labels").get(Labels.DEPLOYMENT), "pods can be selected");
        Map<String, Object> secret = body(sentBy(ALPHA, r -> r.method().equals("POST") && r.path().equals(SECRETS)).get(0));
        assertEquals(Map.of(Labels.ID, request.id().toString(), Labels.DEPLOYMENT, "alpha"), at(secret, "metadata", "labels"));
        Map<String, Object> claim = body(sentBy(ALPHA, r -> r.method().equals("POST") && r.path().equals(PVCS)).get(0));
        assertEquals("alpha", at(claim, "metadata", "labels").get(Labels.DEPLOYMENT));
        Map<String, Object> pool = body(sentBy(ALPHA, r -> r.method().equals("POST") && r.path().endsWith("/pools")).get(0));
        assertEquals(Map.of(Labels.DEPLOYMENT, "alpha"), at(pool, "metadata", "labels"));
    }

    @Test
    void anUnlabelledSandboxIsAdoptedOnlyWithAdoptUnlabelled() throws InterruptedException {
        SandboxId upstream = upstreamSandbox();
        KubernetesSandboxRuntime beta = start(BETA);
        Sandbox theirs = beta.create(request(spec().build()));
        KubernetesSandboxRuntime alpha = start(ALPHA);
        Deployment adopting = new Deployment("gamma", true);
        KubernetesSandboxRuntime gamma = start(adopting);

        assertTrue(alpha.inspect(upstream).isEmpty(), "not adopted without adopt_unlabelled");
        assertThrows(NotFoundException.class, () -> alpha.renewExpiration(upstream, clock.instant().plusSeconds(7200)));
        alpha.remove(upstream);
        assertNotNull(cr(upstream), "left in place");

        assertTrue(gamma.inspect(upstream).isPresent(), "adopted");
        assertTrue(gamma.inspect(theirs.id()).isEmpty(), "another deployment's is never adopted");
        gamma.renewExpiration(upstream, Instant.parse("2026-01-01T02:00:00Z"));
        assertEquals("2026-01-01T02:00:00Z", at(cr(upstream).getAdditionalProperties(), "spec").get("expireTime"));

        // Through the watch: the events arrive in order, so once the second object is seen the first was too.
        Sandbox later = beta.create(request(spec().build()));
        SandboxId laterUpstream = upstreamSandbox();
        await().atMost(BOUND).until(() -> gamma.inspect(laterUpstream).isPresent());
        assertTrue(gamma.inspect(later.id()).isEmpty());
        assertFalse(ids(gamma.list()).contains(later.id()));
    }

    @Test
    void anAdoptedSandboxThatGetsAnotherDeploymentsLabelLeavesTheCache() throws InterruptedException {
        SandboxId upstream = upstreamSandbox();
        KubernetesSandboxRuntime gamma = start(new Deployment("gamma", true));
        assertTrue(gamma.inspect(upstream).isPresent());

        api().genericKubernetesResources(BatchSandboxes.CONTEXT).inNamespace(NAMESPACE).withName(upstream.toString())
            .patch(KubernetesSandboxRuntimeTest.MERGE, "{\"metadata\":{\"labels\":{\"" + Labels.DEPLOYMENT + "\":\"beta\"}}}");

        await().atMost(BOUND).until(() -> gamma.inspect(upstream).isEmpty());
        assertThrows(NotFoundException.class, () -> gamma.patchMetadata(upstream, Map.of("team", "gamma")));
    }

    // ---------------------------------------------------------------- writes and deletes

    @Test
    void removeOfAnotherDeploymentsSandboxSucceedsWithoutTouchingItsObjects() throws InterruptedException {
        KubernetesSandboxRuntime beta = start(BETA);
        Sandbox theirs = beta.create(request(withSecretAndClaim("beta-claim")));
        KubernetesSandboxRuntime alpha = start(ALPHA);

        alpha.remove(theirs.id());

        assertNotNull(cr(theirs.id()));
        assertTrue(secretExists(theirs.id()));
        assertTrue(claimExists("beta-claim"));
        assertEquals(List.of(), sentBy(ALPHA, r -> r.method().equals("DELETE")));
        assertTrue(beta.inspect(theirs.id()).isPresent());

        beta.remove(theirs.id());
        assertNull(cr(theirs.id()));
        assertFalse(secretExists(theirs.id()));
        assertFalse(claimExists("beta-claim"));
    }

    @Test
    void anotherDeploymentsSandboxIsNotFoundForEveryVerbAndNeverWritten() throws InterruptedException {
        KubernetesSandboxRuntime beta = start(BETA);
        Sandbox theirs = beta.create(request(spec().build()));
        String expiry = String.valueOf(at(cr(theirs.id()).getAdditionalProperties(), "spec").get("expireTime"));
        KubernetesSandboxRuntime alpha = start(ALPHA);
        SandboxId id = theirs.id();

        assertThrows(NotFoundException.class, () -> alpha.renewExpiration(id, clock.instant().plusSeconds(7200)));
        assertThrows(NotFoundException.class, () -> alpha.patchMetadata(id, Map.of("team", "alpha")));
        assertThrows(NotFoundException.class, () -> alpha.pause(id));
        assertThrows(NotFoundException.class, () -> alpha.resume(id));
        assertThrows(NotFoundException.class, () -> alpha.resolveEndpoint(id, 8080, EndpointPurpose.EXTERNAL));
        assertThrows(NotFoundException.class, () -> alpha.resolveEndpoint(id, 8080, EndpointPurpose.INTERNAL));
        assertThrows(NotFoundException.class, () -> alpha.exec(id, ExecRequest.of("true"), DISCARD));
        assertThrows(NotFoundException.class, () -> alpha.readFile(id, "/etc/hostname"));
        assertThrows(NotFoundException.class, () -> alpha.logs(id, 10, null));
        assertThrows(NotFoundException.class, () -> alpha.commitSnapshot(id, UUID.randomUUID().toString()));

        assertEquals(List.of(), sentBy(ALPHA, TwoDeploymentsOnOneNamespaceTest::writes));
        assertEquals(expiry, String.valueOf(at(cr(id).getAdditionalProperties(), "spec").get("expireTime")));
        assertFalse(cr(id).getMetadata().getLabels().containsKey("team"));
    }

    @Test
    void reapOrphansReapsOnlyItsOwnDeploymentsSecretsAndLeavesOthersClaims() throws InterruptedException {
        SandboxId betaOrphan = SandboxId.random();
        SandboxId alphaOrphan = SandboxId.random();
        orphanSecret(betaOrphan, "beta");
        orphanSecret(alphaOrphan, "alpha");
        api().persistentVolumeClaims().inNamespace(NAMESPACE).resource(new PersistentVolumeClaimBuilder()
            .withNewMetadata().withName("beta-orphan-claim").addToLabels(Labels.ID, betaOrphan.toString())
            .addToLabels(Pvcs.DELETE_WITH_SANDBOX_LABEL, "true").addToLabels(Labels.DEPLOYMENT, "beta").endMetadata()
            .build()).create();
        KubernetesSandboxRuntime alpha = start(ALPHA);

        alpha.reapOrphans();

        assertTrue(secretExists(betaOrphan), "another deployment's Secret is not this server's orphan");
        assertFalse(secretExists(alphaOrphan), "its own orphan is reaped");
        assertTrue(claimExists("beta-orphan-claim"));
        start(BETA).reapOrphans();
        assertFalse(secretExists(betaOrphan));
    }

    void orphanSecret(SandboxId id, String deployment) {
        api().secrets().inNamespace(NAMESPACE).resource(new SecretBuilder().withNewMetadata()
            .withName(BatchSandboxes.imagePullSecretName(id)).addToLabels(Labels.ID, id.toString())
            .addToLabels(Labels.DEPLOYMENT, deployment).endMetadata().withType("kubernetes.io/dockerconfigjson")
            .addToData(".dockerconfigjson", "e30=").build()).create();
    }

    // ---------------------------------------------------------------- snapshots and agent-sandbox

    @Test
    void snapshotsAreLabelledAndInvisibleToAnotherDeployment() throws InterruptedException {
        try (FakeSnapshotController snapshots = new FakeSnapshotController(cluster.controllerClient(), NAMESPACE)) {
            KubernetesSandboxRuntime alpha = start(ALPHA);
            Sandbox ours = alpha.create(request(spec().build()));
            String snapshotId = UUID.randomUUID().toString();
            String image = alpha.commitSnapshot(ours.id(), snapshotId);
            KubernetesSandboxRuntime beta = start(BETA);

            Map<String, Object> sent = body(sentBy(ALPHA, r -> r.method().equals("POST")
                && r.path().endsWith("/sandboxsnapshots")).get(0));
            assertEquals("alpha", at(sent, "metadata", "labels").get(Labels.DEPLOYMENT));
            assertTrue(beta.snapshotImageFor(snapshotId).isEmpty());
            assertFalse(beta.snapshotImageExists(image));
            beta.deleteSnapshot(snapshotId, image);
            beta.deleteSnapshotImage(image);
            assertEquals(List.of(), sentBy(BETA, TwoDeploymentsOnOneNamespaceTest::writes));
            assertEquals(image, alpha.snapshotImageFor(snapshotId).orElseThrow());
            assertTrue(alpha.snapshotImageExists(image));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void agentSandboxesCarryTheLabelOnTheSandboxAndItsPodsAndStayWithTheirDeployment() throws InterruptedException {
        controller.close();
        try (FakeAgentSandboxController agents = new FakeAgentSandboxController(cluster.controllerClient(), NAMESPACE)) {
            KubernetesRuntimeConfig config = KubernetesRuntimeConfig.defaults(NAMESPACE)
                .withAgentSandbox(KubernetesRuntimeConfig.AgentSandboxConfig.defaults());
            KubernetesSandboxRuntime alpha = start(config, ALPHA);
            Sandbox ours = alpha.create(request(spec().build()));
            KubernetesSandboxRuntime beta = start(config, BETA);

            Map<String, Object> sent = body(sentBy(ALPHA, r -> r.method().equals("POST")
                && r.path().endsWith("/sandboxes")).get(0));
            assertEquals("alpha", at(sent, "metadata", "labels").get(Labels.DEPLOYMENT));
            assertEquals("alpha", at(sent, "spec", "podTemplate", "metadata", "labels").get(Labels.DEPLOYMENT));
            assertTrue(beta.inspect(ours.id()).isEmpty());
            beta.remove(ours.id());
            assertEquals(List.of(), sentBy(BETA, TwoDeploymentsOnOneNamespaceTest::writes));
            assertTrue(alpha.inspect(ours.id()).isPresent());
        }
    }
}
