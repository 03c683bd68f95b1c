package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.DeadlineExceededException;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.RegistryAuth;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.EndpointRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.testing.MutableClock;
import dev.opensandbox.runtime.k8s.testing.FakeBatchSandboxController;
import dev.opensandbox.runtime.k8s.testing.FakeBatchSandboxController.Behavior;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

/** The Kubernetes runtime against fabric8's mock API server in CRUD mode, with a fake controller. */
class KubernetesSandboxRuntimeTest {

    static final String NAMESPACE = "sandboxes";
    static final String BATCHSANDBOXES = "/apis/sandbox.opensandbox.io/v1alpha1/namespaces/" + NAMESPACE + "/batchsandboxes";
    static final String MERGE_PATCH = "application/merge-patch+json";
    static final Duration BOUND = Duration.ofSeconds(10);
    static final io.fabric8.kubernetes.client.dsl.base.PatchContext MERGE = io.fabric8.kubernetes.client.dsl.base.PatchContext
        .of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE);

    MockCluster cluster;
    FakeBatchSandboxController controller;
    MutableClock clock;
    KubernetesSandboxRuntime runtime;

    @BeforeEach
    void start() throws InterruptedException {
        cluster = new MockCluster();
        controller = new FakeBatchSandboxController(cluster.controllerClient(), NAMESPACE);
        clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        runtime = runtime(KubernetesRuntimeConfig.defaults(NAMESPACE));
    }

    @AfterEach
    void stop() {
        runtime.close();
        controller.close();
        cluster.close();
    }

    KubernetesSandboxRuntime runtime(KubernetesRuntimeConfig config) throws InterruptedException {
        KubernetesSandboxRuntime created = new KubernetesSandboxRuntime(config, cluster.client(), false, Map.of(), clock);
        assertTrue(created.awaitCachesSynced(BOUND), "caches listed");
        return created;
    }

    static SandboxSpec.Builder spec() {
        return SandboxSpec.builder().image("python:3.11").entrypoint("python", "-m", "http.server")
            .resourceLimits(Map.of()).timeout(Duration.ofHours(1));
    }

    ProvisionRequest request(SandboxSpec spec, Map<String, String> limits) {
        Instant createdAt = clock.instant();
        Instant expiresAt = spec.timeout() == null ? null : createdAt.plus(spec.timeout());
        ResourceLimits parsed = new ResourceLimits(limits, java.util.OptionalLong.empty(), java.util.OptionalLong.empty(),
            java.util.OptionalInt.empty());
        return new ProvisionRequest(SandboxId.random(), spec, spec.image(), spec.entrypoint(), parsed, createdAt, expiresAt);
    }

    ProvisionRequest request(SandboxSpec spec) {
        return request(spec, Map.of());
    }

    Sandbox create() {
        return runtime.create(request(spec().build()));
    }

    Map<String, Object> body(MockCluster.Request request) {
        return cluster.client().getKubernetesSerialization().unmarshal(request.body(), Map.class);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> at(Map<String, Object> map, String... path) {
        Map<String, Object> current = map;
        for (String key : path) {
            current = (Map<String, Object>) current.get(key);
        }
        return current;
    }

    boolean crExists(SandboxId id) {
        return cluster.client().genericKubernetesResources(BatchSandboxes.CONTEXT).inNamespace(NAMESPACE)
            .withName(id.toString()).get() != null;
    }

    /** A BatchSandbox created by someone else (the fake controller leaves it alone). */
    void adopt(SandboxId id, Map<String, String> annotations) {
        controller.behave(id.toString(), Behavior.IGNORE);
        GenericKubernetesResource cr = new GenericKubernetesResource();
        cr.setApiVersion(BatchSandboxes.API_VERSION);
        cr.setKind(BatchSandboxes.KIND);
        cr.setMetadata(new ObjectMetaBuilder().withName(id.toString()).withNamespace(NAMESPACE)
            .addToLabels(Labels.ID, id.toString()).withAnnotations(annotations).build());
        cr.setAdditionalProperty("spec", Map.of("replicas", 1, "template", Map.of("spec",
            Map.of("containers", List.of(Map.of("name", "sandbox", "image", "busybox"))))));
        cluster.client().genericKubernetesResources(BatchSandboxes.CONTEXT).inNamespace(NAMESPACE).resource(cr).create();
    }

    // ---------------------------------------------------------------- 2. create

    @Nested
    class Create {

        @Test
        @SuppressWarnings("unchecked")
        void postsTheBatchSandboxOfTheReferenceAndReturnsRunning() {
            Map<String, String> limits = new LinkedHashMap<>();
            limits.put("cpu", "500m");
            limits.put("memory", "512Mi");
            limits.put("gpu", "2");
            SandboxSpec spec = spec().env("A", "1").env("B", "two words").metadata("team", "core").build();
            ProvisionRequest request = request(spec, limits);

            Sandbox sandbox = runtime.create(request);

            assertEquals(SandboxState.RUNNING, sandbox.status().state());
            List<MockCluster.Request> posts = cluster.requests("POST", BATCHSANDBOXES);
            assertEquals(1, posts.size());
            Map<String, Object> body = body(posts.get(0));
            String id = request.id().toString();
            assertEquals(id, at(body, "metadata").get("name"));
            assertEquals(NAMESPACE, at(body, "metadata").get("namespace"));
            assertEquals(Map.of(Labels.ID, id, "team", "core"), at(body, "metadata").get("labels"));
            assertEquals(1, at(body, "spec").get("replicas"));
            assertEquals("2026-01-01T01:00:00Z", at(body, "spec").get("expireTime"));
            assertEquals(Map.of(Labels.ID, id, "team", "core"), at(body, "spec", "template", "metadata").get("labels"));
            Map<String, Object> container = ((List<Map<String, Object>>) at(body, "spec", "template", "spec")
                .get("containers")).get(0);
            assertEquals("sandbox", container.get("name"));
            assertEquals("python:3.11", container.get("image"));
            assertEquals("IfNotPresent", container.get("imagePullPolicy"));
            assertEquals(List.of("python", "-m", "http.server"), container.get("command"));
            assertEquals(List.of(Map.of("name", "A", "value", "1"), Map.of("name", "B", "value", "two words")),
                container.get("env"));
            Map<String, Object> resources = (Map<String, Object>) container.get("resources");
            Map<String, String> expected = Map.of("cpu", "500m", "memory", "512Mi", "nvidia.com/gpu", "2");
            assertEquals(expected, resources.get("limits"));
            assertEquals(expected, resources.get("requests"));
        }

        @Test
        void withoutTimeoutTheSandboxIsLabelledForManualCleanupAndHasNoExpireTime() {
            Sandbox sandbox = runtime.create(request(spec().timeout(null).build()));

            Map<String, Object> body = body(cluster.requests("POST", BATCHSANDBOXES).get(0));
            assertEquals("true", ((Map<?, ?>) at(body, "metadata").get("labels")).get(Labels.MANUAL_CLEANUP));
            assertFalse(at(body, "spec").containsKey("expireTime"));
            assertNull(sandbox.expiresAt());
        }

        @Test
        void gpuAllIsRejectedBeforeAnythingIsCreated() {
            ProvisionRequest request = request(spec().build(), Map.of("gpu", "all"));

            InvalidRequestException error = assertThrows(InvalidRequestException.class, () -> runtime.create(request));

            assertEquals(ErrorCodes.INVALID_PARAMETER, error.code());
            assertTrue(cluster.requests("POST", "").isEmpty() || cluster.requests("POST", BATCHSANDBOXES).isEmpty());
            assertThrows(InvalidRequestException.class, () -> runtime.validate(spec().resourceLimits(Map.of("gpu", "all")).build()));
        }

        @Test
        @SuppressWarnings("unchecked")
        void registryCredentialsCreateTheSecretBeforeTheBatchSandbox() {
            SandboxSpec spec = spec().image(new ImageSpec("registry.example.com:5000/team/app:1",
                new RegistryAuth("user", "pass"))).build();
            ProvisionRequest request = request(spec);

            runtime.create(request);

            List<MockCluster.Request> writes = cluster.requests(r -> r.method().equals("POST") && !r.isWatch()
                && (r.path().contains("/secrets") || r.path().contains("/batchsandboxes")));
            assertEquals(2, writes.size());
            assertTrue(writes.get(0).path().endsWith("/api/v1/namespaces/" + NAMESPACE + "/secrets"), "secret first");
            assertTrue(writes.get(1).path().endsWith(BATCHSANDBOXES), "then the BatchSandbox");
            Map<String, Object> secret = body(writes.get(0));
            assertEquals("kubernetes.io/dockerconfigjson", secret.get("type"));
            String dockerConfig = new String(java.util.Base64.getDecoder().decode(
                (String) ((Map<String, Object>) secret.get("data")).get(".dockerconfigjson")));
            assertTrue(dockerConfig.contains("\"registry.example.com:5000\""), dockerConfig);
            assertEquals(Map.of(Labels.ID, request.id().toString()), at(secret, "metadata").get("labels"));
            assertEquals(List.of(Map.of("name", "opensandbox-image-auth-" + request.id())),
                at(body(writes.get(1)), "spec", "template", "spec").get("imagePullSecrets"));
            MockCluster.Request owner = cluster.requests("PATCH", "/secrets/opensandbox-image-auth-" + request.id()).get(0);
            assertEquals(MERGE_PATCH, owner.contentType());
            assertTrue(owner.body().contains("\"controller\":false"), owner.body());
        }

        @Test
        void aBatchSandboxThatCannotBeCreatedTakesItsSecretWithIt() {
            ProvisionRequest request = request(spec().image(new ImageSpec("app:1", new RegistryAuth("u", "p"))).build());
            adopt(request.id(), Map.of()); // the name is taken: the POST answers 409

            assertThrows(ConflictException.class, () -> runtime.create(request));

            assertNull(cluster.client().secrets().inNamespace(NAMESPACE)
                .withName("opensandbox-image-auth-" + request.id()).get());
        }

        @Test
        void failsFastOnFailedWithTheConditionMessageAndDeletesTheBatchSandbox() {
            ProvisionRequest request = request(spec().build());
            controller.behave(request.id().toString(), Behavior.FAIL);
            controller.failureMessage("image pull failed: no such image");

            RuntimeFailureException error = assertTimeoutPreemptively(BOUND,
                () -> assertThrows(RuntimeFailureException.class, () -> runtime.create(request)));

            assertEquals(KubernetesErrors.SANDBOX_START_FAILED, error.code());
            assertTrue(error.getMessage().contains("image pull failed: no such image"), error.getMessage());
            assertEquals(Instant.parse("2026-01-01T00:00:00Z"), clock.instant(), "no time had to pass");
            assertFalse(crExists(request.id()));
            assertTrue(cluster.requests("DELETE", BATCHSANDBOXES + "/" + request.id()).get(0).body()
                .contains("\"gracePeriodSeconds\":0"));
        }

        @Test
        void timesOutWith504WhenTheControllerNeverAnswersAndDeletesTheBatchSandbox() throws Exception {
            ProvisionRequest request = request(spec().build());
            controller.behave(request.id().toString(), Behavior.IGNORE);
            CompletableFuture<Sandbox> creating = CompletableFuture.supplyAsync(() -> runtime.create(request));
            await().atMost(BOUND).until(() -> crExists(request.id()));
            assertFalse(creating.isDone(), "still waiting while the clock stands still");

            clock.advance(Duration.ofSeconds(61));

            ExecutionException error = assertThrows(ExecutionException.class, () -> creating.get(10, TimeUnit.SECONDS));
            DeadlineExceededException timeout = assertInstanceOf(DeadlineExceededException.class, error.getCause());
            assertEquals(KubernetesErrors.POD_READY_TIMEOUT, timeout.code());
            assertFalse(crExists(request.id()));
        }

        @Test
        void anIpWithoutStatusIsReportedAsRunningButCreateWaitsForThePhase() throws Exception {
            ProvisionRequest request = request(spec().build());
            controller.behave(request.id().toString(), Behavior.PUBLISH_IP_ONLY);
            CompletableFuture<Sandbox> creating = CompletableFuture.supplyAsync(() -> runtime.create(request));
            await().atMost(BOUND).until(() -> runtime.inspect(request.id())
                .map(s -> "IP_ASSIGNED".equals(s.status().reason())).orElse(false));

            Sandbox allocated = runtime.inspect(request.id()).orElseThrow();
            assertEquals(SandboxState.RUNNING, allocated.status().state());
            assertEquals(WorkloadMapper.ALLOCATED_MESSAGE, allocated.status().message());
            assertFalse(creating.isDone(), "create waits for the controller's phase");

            cluster.client().genericKubernetesResources(BatchSandboxes.CONTEXT).inNamespace(NAMESPACE)
                .withName(request.id().toString()).subresource("status").patch(MERGE,
                    "{\"status\":{\"phase\":\"Succeed\",\"replicas\":1,\"allocated\":1,\"ready\":1}}");

            assertEquals("RUNNING", creating.get(10, TimeUnit.SECONDS).status().reason());
        }

        @Test
        void theWaitIsDrivenByWatchEventsNotByReadingTheSandbox() {
            Sandbox sandbox = create();

            assertTrue(cluster.requests("GET", BATCHSANDBOXES + "/" + sandbox.id()).isEmpty(),
                "no GET of the BatchSandbox while waiting");
        }
    }

    // ---------------------------------------------------------------- 3. reads through the cache

    @Nested
    class Reads {

        @Test
        void inspectAndListAreServedFromTheCache() {
            Sandbox sandbox = create();
            // Only the runtime's own calls count: the fake controller keeps writing status meanwhile.
            int before = cluster.requests(r -> !r.isWatch() && !r.fromController()).size();

            Sandbox inspected = runtime.inspect(sandbox.id()).orElseThrow();
            List<Sandbox> listed = runtime.list();

            assertEquals(before, cluster.requests(r -> !r.isWatch() && !r.fromController()).size(), "no API call");
            assertEquals(SandboxState.RUNNING, inspected.status().state());
            assertEquals("python:3.11", inspected.image());
            assertEquals(List.of("python", "-m", "http.server"), inspected.entrypoint());
            assertEquals(Instant.parse("2026-01-01T01:00:00Z"), inspected.expiresAt());
            assertEquals(List.of(sandbox.id()), listed.stream().map(Sandbox::id).toList());
        }

        @Test
        void listLeavesOutBatchSandboxesWithoutTheIdLabel() {
            GenericKubernetesResource foreign = new GenericKubernetesResource();
            foreign.setApiVersion(BatchSandboxes.API_VERSION);
            foreign.setKind(BatchSandboxes.KIND);
            foreign.setMetadata(new ObjectMetaBuilder().withName("not-ours").withNamespace(NAMESPACE).build());
            cluster.client().genericKubernetesResources(BatchSandboxes.CONTEXT).inNamespace(NAMESPACE).resource(foreign).create();
            Sandbox sandbox = create();

            assertEquals(List.of(sandbox.id()), runtime.list().stream().map(Sandbox::id).toList());
        }

        @Test
        void aStuckWatchIsRecoveredByThePeriodicRelist() throws InterruptedException {
            runtime.close();
            cluster.silenceNewWatches(true);
            runtime = runtime(KubernetesRuntimeConfig.defaults(NAMESPACE)
                .withWatch(Duration.ofSeconds(60), Duration.ofMillis(300)));
            int lists = cluster.requests("GET", BATCHSANDBOXES + "?labelSelector").size();

            Sandbox sandbox = assertTimeoutPreemptively(BOUND, KubernetesSandboxRuntimeTest.this::create);

            assertEquals(SandboxState.RUNNING, sandbox.status().state());
            assertTrue(cluster.requests("GET", BATCHSANDBOXES + "?labelSelector").size() > lists, "relisted");
        }

        @Test
        void aWatchThatMissedEventsIsReplacedAfterTheClientSideTimeout() throws InterruptedException {
            runtime.close();
            cluster.silenceNewWatches(true);
            runtime = runtime(KubernetesRuntimeConfig.defaults(NAMESPACE)
                .withWatch(Duration.ofMillis(300), Duration.ofHours(1)));
            cluster.silenceNewWatches(false);

            Sandbox sandbox = assertTimeoutPreemptively(BOUND, KubernetesSandboxRuntimeTest.this::create);

            assertEquals(SandboxState.RUNNING, sandbox.status().state());
        }

        @Test
        void anExitedMainContainerEndsTheSandboxWithItsExitCode() {
            Sandbox failing = runtime.create(request(spec().entrypoint("sh", "-c", "exit 3").build()));
            Sandbox done = runtime.create(request(spec().entrypoint("sh", "-c", "exit 0").build()));

            await().atMost(BOUND).until(() -> runtime.inspect(failing.id()).orElseThrow().status().state() == SandboxState.FAILED);
            await().atMost(BOUND).until(() -> runtime.inspect(done.id()).orElseThrow().status().state() == SandboxState.TERMINATED);
            assertEquals("Sandbox container exited with code 3.", runtime.inspect(failing.id()).orElseThrow().status().message());
        }
    }

    // ---------------------------------------------------------------- 4. remove, pause/resume, renew, metadata

    @Nested
    class Writes {

        @Test
        void removeDeletesWithGracePeriodZeroAndIsIdempotent() {
            Sandbox sandbox = create();

            runtime.remove(sandbox.id());
            runtime.remove(sandbox.id());
            runtime.remove(SandboxId.random());

            assertTrue(runtime.inspect(sandbox.id()).isEmpty());
            assertTrue(runtime.list().isEmpty());
            assertFalse(crExists(sandbox.id()));
            List<MockCluster.Request> deletes = cluster.requests("DELETE", BATCHSANDBOXES + "/" + sandbox.id());
            assertEquals(2, deletes.size());
            deletes.forEach(delete -> assertTrue(delete.body().contains("\"gracePeriodSeconds\":0"), delete.body()));
        }

        @Test
        void pauseAndResumeAreMergePatchesOfSpecPause() {
            Sandbox sandbox = create();

            runtime.pause(sandbox.id());
            await().atMost(BOUND).until(() -> state(sandbox.id()) == SandboxState.PAUSED);
            runtime.resume(sandbox.id());
            await().atMost(BOUND).until(() -> state(sandbox.id()) == SandboxState.RUNNING);

            List<MockCluster.Request> patches = cluster.requests("PATCH", BATCHSANDBOXES + "/" + sandbox.id())
                .stream().filter(r -> !r.path().endsWith("/status") && r.body().contains("pause")).toList();
            assertEquals(List.of("{\"spec\":{\"pause\":true}}", "{\"spec\":{\"pause\":false}}"),
                patches.stream().map(MockCluster.Request::body).toList());
            patches.forEach(patch -> assertEquals(MERGE_PATCH, patch.contentType()));
        }

        @Test
        void pauseAndResumeFollowThePhaseRules() {
            Sandbox sandbox = create();

            ConflictException notPaused = assertThrows(ConflictException.class, () -> runtime.resume(sandbox.id()));
            runtime.pause(sandbox.id());
            await().atMost(BOUND).until(() -> state(sandbox.id()) == SandboxState.PAUSED);
            ConflictException alreadyPaused = assertThrows(ConflictException.class, () -> runtime.pause(sandbox.id()));

            assertEquals(KubernetesErrors.INVALID_STATE, notPaused.code());
            assertTrue(notPaused.getMessage().contains("expected Paused, got Succeed"), notPaused.getMessage());
            assertTrue(alreadyPaused.getMessage().contains("already paused"), alreadyPaused.getMessage());
            assertThrows(NotFoundException.class, () -> runtime.pause(SandboxId.random()));
            assertThrows(NotFoundException.class, () -> runtime.resume(SandboxId.random()));
        }

        @Test
        void aSandboxStillBeingCreatedCannotBePaused() {
            SandboxId id = SandboxId.random();
            adopt(id, Map.of());
            cluster.client().genericKubernetesResources(BatchSandboxes.CONTEXT).inNamespace(NAMESPACE).withName(id.toString())
                .subresource("status").patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                    io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE), "{\"status\":{\"phase\":\"Pending\"}}");

            ConflictException error = assertThrows(ConflictException.class, () -> runtime.pause(id));

            assertTrue(error.getMessage().contains("still being created"), error.getMessage());
        }

        @Test
        void aPauseAfterAFailedPauseClearsTheFlagThenSetsIt() {
            ProvisionRequest request = request(spec().build());
            controller.behave(request.id().toString(), Behavior.FAIL_PAUSE);
            Sandbox sandbox = runtime.create(request);
            runtime.pause(sandbox.id());
            await().atMost(BOUND).until(() -> runtime.inspect(sandbox.id()).orElseThrow().status().state() == SandboxState.RUNNING
                && cluster.client().genericKubernetesResources(BatchSandboxes.CONTEXT).inNamespace(NAMESPACE)
                .withName(sandbox.id().toString()).get().toString().contains("PauseFailed"));

            runtime.pause(sandbox.id());

            List<String> bodies = cluster.requests("PATCH", BATCHSANDBOXES + "/" + sandbox.id()).stream()
                .filter(r -> !r.path().endsWith("/status") && r.body().contains("pause"))
                .map(MockCluster.Request::body).toList();
            assertEquals(List.of("{\"spec\":{\"pause\":true}}", "{\"spec\":{\"pause\":null}}", "{\"spec\":{\"pause\":true}}"),
                bodies);
        }

        @Test
        void renewPatchesTheExpireTime() {
            Sandbox sandbox = create();

            Instant renewed = runtime.applyExpiration(sandbox.id(), Instant.parse("2026-01-01T02:00:00Z"));

            assertEquals(Instant.parse("2026-01-01T02:00:00Z"), renewed);
            MockCluster.Request patch = cluster.requests("PATCH", BATCHSANDBOXES + "/" + sandbox.id()).get(0);
            assertEquals("{\"spec\":{\"expireTime\":\"2026-01-01T02:00:00Z\"}}", patch.body());
            assertEquals(MERGE_PATCH, patch.contentType());
            assertEquals(renewed, runtime.inspect(sandbox.id()).orElseThrow().expiresAt());
        }

        @Test
        void renewRejectsThePastAndSandboxesWithoutExpiry() {
            Sandbox manual = runtime.create(request(spec().timeout(null).build()));

            InvalidRequestException past = assertThrows(InvalidRequestException.class,
                () -> runtime.renewExpiration(manual.id(), clock.instant()));
            ConflictException noExpiry = assertThrows(ConflictException.class,
                () -> runtime.renewExpiration(manual.id(), clock.instant().plusSeconds(60)));

            assertEquals(ErrorCodes.INVALID_EXPIRATION, past.code());
            assertEquals(ErrorCodes.INVALID_EXPIRATION, noExpiry.code());
            assertThrows(NotFoundException.class, () -> runtime.renewExpiration(SandboxId.random(), clock.instant().plusSeconds(60)));
        }

        @Test
        void aMetadataPatchSendsOnlyTheDelta() {
            Sandbox sandbox = runtime.create(request(spec().metadata("team", "a").metadata("keep", "x")
                .metadata("old", "y").build()));
            Map<String, String> patch = new LinkedHashMap<>();
            patch.put("team", "b");
            patch.put("keep", "x");
            patch.put("old", null);
            patch.put("never-there", null);

            Sandbox patched = runtime.applyMetadata(sandbox.id(), patch);

            MockCluster.Request sent = cluster.requests("PATCH", BATCHSANDBOXES + "/" + sandbox.id()).get(0);
            assertEquals("{\"metadata\":{\"labels\":{\"team\":\"b\",\"old\":null}}}", sent.body());
            assertEquals(MERGE_PATCH, sent.contentType());
            assertEquals(Map.of("team", "b", "keep", "x"), patched.metadata());
        }

        SandboxState state(SandboxId id) {
            return runtime.inspect(id).orElseThrow().status().state();
        }
    }

    // ---------------------------------------------------------------- 5. endpoints

    @Nested
    class Endpoints {

        @Test
        void bothPurposesGetTheFirstIpOfTheEndpointsAnnotation() {
            Sandbox sandbox = create();

            Endpoint external = runtime.resolveEndpoint(sandbox.id(), 44772, EndpointPurpose.EXTERNAL);
            Endpoint internal = runtime.resolveEndpoint(sandbox.id(), 8080, EndpointPurpose.INTERNAL);

            assertEquals("10.0.0.5:44772", external.address());
            assertEquals("10.0.0.5:8080", internal.address());
        }

        @Test
        void beforeThereIsAnIpTheEndpointIsNotAvailable() {
            SandboxId noAnnotation = SandboxId.random();
            SandboxId emptyIp = SandboxId.random();
            SandboxId garbage = SandboxId.random();
            adopt(noAnnotation, Map.of());
            adopt(emptyIp, Map.of(FakeBatchSandboxController.ENDPOINTS, "[\"\"]"));
            adopt(garbage, Map.of(FakeBatchSandboxController.ENDPOINTS, "not json"));
            await().atMost(BOUND).until(() -> runtime.list().size() == 3);

            for (SandboxId id : List.of(noAnnotation, emptyIp, garbage)) {
                NotFoundException error = assertThrows(NotFoundException.class,
                    () -> runtime.resolveEndpoint(id, 44772, EndpointPurpose.EXTERNAL));
                assertEquals(KubernetesErrors.POD_IP_NOT_AVAILABLE, error.code());
            }
            NotFoundException unknown = assertThrows(NotFoundException.class,
                () -> runtime.resolveEndpoint(SandboxId.random(), 44772, EndpointPurpose.EXTERNAL));
            assertEquals(KubernetesErrors.SANDBOX_NOT_FOUND, unknown.code());
        }

        @Test
        void anIpv6AddressIsBracketed() {
            SandboxId id = SandboxId.random();
            adopt(id, Map.of(FakeBatchSandboxController.ENDPOINTS, "[\"fd00::5\"]"));
            await().atMost(BOUND).until(() -> runtime.inspect(id).isPresent());

            assertEquals("[fd00::5]:80", runtime.resolveEndpoint(id, 80, EndpointPurpose.EXTERNAL).address());
        }
    }

    // ---------------------------------------------------------------- 5b. gateway endpoints and signed routes

    @Nested
    class GatewayEndpoints {

        static final String SECRET_B64 = "bXktdGVzdC1zZWNyZXQ=";
        final BigInteger expires = BigInteger.valueOf(2_000_000_000L);

        KubernetesSandboxRuntime gateway(String address, IngressConfig.RouteMode mode, boolean signingKey)
            throws InterruptedException {
            IngressConfig ingress = IngressConfig.gateway(address, mode);
            if (signingKey) {
                ingress = ingress.withSigningKey(IngressConfig.SigningKey.fromBase64("a", SECRET_B64));
            }
            return runtime(KubernetesRuntimeConfig.defaults(NAMESPACE).withIngress(ingress));
        }

        Sandbox createWithToken(String token) {
            ProvisionRequest plain = request(spec().build());
            return runtime.create(new ProvisionRequest(plain.id(), plain.spec(), plain.image(), plain.entrypoint(),
                plain.limits(), plain.createdAt(), plain.expiresAt(), token));
        }

        @Test
        void clientsGetTheRouteModesShapeWhileTheServersProxyStillDialsThePod() throws InterruptedException {
            Sandbox sandbox = create();
            String id = sandbox.id().toString();
            String podAddress = runtime.resolveEndpoint(sandbox.id(), 8080, EndpointPurpose.INTERNAL).address();
            Map<IngressConfig.RouteMode, Endpoint> expected = Map.of(
                IngressConfig.RouteMode.WILDCARD, Endpoint.of(id + "-8080.sandboxes.example.com"),
                IngressConfig.RouteMode.URI, Endpoint.of("gateway.example.com/" + id + "/8080"),
                IngressConfig.RouteMode.HEADER, new Endpoint("gateway.example.com",
                    Map.of("OpenSandbox-Ingress-To", id + "-8080")));
            for (Map.Entry<IngressConfig.RouteMode, Endpoint> mode : expected.entrySet()) {
                String address = mode.getKey() == IngressConfig.RouteMode.WILDCARD ? "*.sandboxes.example.com"
                    : "gateway.example.com";
                try (KubernetesSandboxRuntime gateway = gateway(address, mode.getKey(), false)) {
                    assertEquals(mode.getValue(), gateway.resolveEndpoint(sandbox.id(), 8080, EndpointPurpose.EXTERNAL),
                        mode.getKey().name());
                    assertEquals(Endpoint.of(podAddress), gateway.resolveEndpoint(sandbox.id(), 8080,
                        EndpointPurpose.INTERNAL));
                    assertEquals(mode.getValue(), gateway.resolveEndpoint(EndpointRequest.of(sandbox.id(), 8080,
                        EndpointPurpose.EXTERNAL)), "the request form resolves unsigned requests alike");
                }
            }
        }

        @Test
        void gatewayEndpointsNeedTheSandboxButNoPodIp() throws InterruptedException {
            SandboxId starting = SandboxId.random();
            adopt(starting, Map.of());
            try (KubernetesSandboxRuntime gateway = gateway("gateway.example.com", IngressConfig.RouteMode.URI, true)) {
                await().atMost(BOUND).until(() -> gateway.inspect(starting).isPresent());

                assertEquals("gateway.example.com/" + starting + "/44772",
                    gateway.resolveEndpoint(starting, 44772, EndpointPurpose.EXTERNAL).address());
                NotFoundException unknown = assertThrows(NotFoundException.class,
                    () -> gateway.resolveEndpoint(SandboxId.random(), 44772, EndpointPurpose.EXTERNAL));
                assertEquals(KubernetesErrors.SANDBOX_NOT_FOUND, unknown.code());
            }
        }

        @Test
        void theSecureAccessTokenIsAnnotatedOnTheBatchSandboxButNotOnItsPods() {
            Sandbox sandbox = createWithToken("tok-123");

            Map<String, Object> posted = body(cluster.requests("POST", BATCHSANDBOXES).get(0));
            assertEquals("tok-123", at(posted, "metadata", "annotations").get("opensandbox.io/secure-access-token"));
            Map<String, Object> podAnnotations = at(posted, "spec", "template", "metadata", "annotations");
            assertFalse(podAnnotations != null && podAnnotations.containsKey("opensandbox.io/secure-access-token"),
                "pods do not carry the token");
            assertEquals(Map.of("OpenSandbox-Secure-Access", "tok-123"),
                runtime.resolveEndpoint(sandbox.id(), 8080, EndpointPurpose.EXTERNAL).headers());
            assertTrue(runtime.resolveEndpoint(sandbox.id(), 8080, EndpointPurpose.INTERNAL).headers().isEmpty());
            assertFalse(runtime.create(request(spec().build())).toString().contains("tok-123"));
            Map<String, Object> untokened = body(cluster.requests("POST", BATCHSANDBOXES).get(1));
            assertFalse(String.valueOf(at(untokened, "metadata").get("annotations")).contains("secure-access-token"),
                "no annotation without a token");
        }

        @Test
        void adoptedSandboxesGetTheirTokensFromTheAnnotationsAndTheEgressTokenOnlyOn18080() throws InterruptedException {
            SandboxId id = SandboxId.random();
            adopt(id, Map.of("opensandbox.io/secure-access-token", "tok", "opensandbox.io/egress-auth-token", "egress",
                FakeBatchSandboxController.ENDPOINTS, "[\"10.1.2.3\"]"));
            try (KubernetesSandboxRuntime gateway = gateway("gateway.example.com", IngressConfig.RouteMode.HEADER, true)) {
                await().atMost(BOUND).until(() -> gateway.inspect(id).isPresent());

                assertEquals(Map.of("OpenSandbox-Ingress-To", id + "-8080", "OpenSandbox-Secure-Access", "tok"),
                    gateway.resolveEndpoint(id, 8080, EndpointPurpose.EXTERNAL).headers());
                assertEquals(Map.of("OpenSandbox-Ingress-To", id + "-18080", "OpenSandbox-Secure-Access", "tok",
                    "OPENSANDBOX-EGRESS-AUTH", "egress"), gateway.resolveEndpoint(id, 18080, EndpointPurpose.EXTERNAL).headers());
                Endpoint signed = gateway.resolveEndpoint(new EndpointRequest(id, 18080, EndpointPurpose.EXTERNAL, expires));
                assertFalse(signed.headers().containsKey("OpenSandbox-Secure-Access"), "the signature is the credential");
                assertEquals("egress", signed.headers().get("OPENSANDBOX-EGRESS-AUTH"));
            }
        }

        @Test
        void signedRoutesFollowOsep0011InEveryRouteMode() throws InterruptedException {
            Sandbox sandbox = createWithToken("tok");
            String id = sandbox.id().toString();
            String signature = RouteSigner.signature("my-test-secret".getBytes(java.nio.charset.StandardCharsets.UTF_8), "a",
                RouteSigner.canonical(id, 8080, "x2qxvk"));
            EndpointRequest request = new EndpointRequest(sandbox.id(), 8080, EndpointPurpose.EXTERNAL, expires);

            try (KubernetesSandboxRuntime uri = gateway("gateway.example.com", IngressConfig.RouteMode.URI, true);
                 KubernetesSandboxRuntime wildcard = gateway("*.example.com", IngressConfig.RouteMode.WILDCARD, true);
                 KubernetesSandboxRuntime header = gateway("gateway.example.com", IngressConfig.RouteMode.HEADER, true)) {
                assertEquals(Endpoint.of("gateway.example.com/" + id + "/8080/x2qxvk/" + signature), uri.resolveEndpoint(request));
                assertEquals(Endpoint.of(id + "-8080-x2qxvk-" + signature + ".example.com"), wildcard.resolveEndpoint(request));
                assertEquals(new Endpoint("gateway.example.com", Map.of("OpenSandbox-Ingress-To",
                    id + "-8080-x2qxvk-" + signature)), header.resolveEndpoint(request));
                assertFalse(uri.resolveEndpoint(new EndpointRequest(sandbox.id(), 8080, EndpointPurpose.EXTERNAL,
                    expires.add(BigInteger.ONE))).equals(uri.resolveEndpoint(request)), "another expiry, another route");
            }
        }

        @Test
        void signedRoutesAreRefusedInUpstreamsOrderAndWords() throws InterruptedException {
            Sandbox sandbox = create();
            SandboxId unknown = SandboxId.random();
            long now = clock.instant().getEpochSecond();
            try (KubernetesSandboxRuntime unsigned = gateway("gateway.example.com", IngressConfig.RouteMode.URI, false);
                 KubernetesSandboxRuntime signing = gateway("gateway.example.com", IngressConfig.RouteMode.URI, true)) {
                // The expiry first, even for an unknown sandbox.
                InvalidRequestException past = assertThrows(InvalidRequestException.class, () -> signing.resolveEndpoint(
                    new EndpointRequest(unknown, 8080, EndpointPurpose.EXTERNAL, BigInteger.valueOf(now))));
                assertEquals(ErrorCodes.INVALID_PARAMETER, past.code());
                assertTrue(past.getMessage().contains("must be greater than current time"), past.getMessage());
                assertThrows(InvalidRequestException.class, () -> signing.resolveEndpoint(new EndpointRequest(unknown, 8080,
                    EndpointPurpose.EXTERNAL, RouteSigner.UINT64_MAX.add(BigInteger.ONE))));
                assertThrows(InvalidRequestException.class, () -> signing.resolveEndpoint(new EndpointRequest(unknown, 8080,
                    EndpointPurpose.EXTERNAL, BigInteger.valueOf(-5))));
                // Then the sandbox.
                NotFoundException missing = assertThrows(NotFoundException.class, () -> signing.resolveEndpoint(
                    new EndpointRequest(unknown, 8080, EndpointPurpose.EXTERNAL, expires)));
                assertEquals(KubernetesErrors.SANDBOX_NOT_FOUND, missing.code());
                // Then the configuration.
                EndpointRequest request = new EndpointRequest(sandbox.id(), 8080, EndpointPurpose.EXTERNAL, expires);
                InvalidRequestException direct = assertThrows(InvalidRequestException.class,
                    () -> runtime.resolveEndpoint(request));
                assertEquals(ErrorCodes.INVALID_PARAMETER, direct.code());
                assertTrue(direct.getMessage().contains("ingress.mode = 'gateway'"), direct.getMessage());
                InvalidRequestException noKey = assertThrows(InvalidRequestException.class,
                    () -> unsigned.resolveEndpoint(request));
                assertTrue(noKey.getMessage().contains("secure_access"), noKey.getMessage());
                assertEquals("gateway.example.com/" + sandbox.id() + "/8080/x2qxvk/",
                    signing.resolveEndpoint(request).address().substring(0, ("gateway.example.com/" + sandbox.id()
                        + "/8080/x2qxvk/").length()));
            }
        }
    }

    // ---------------------------------------------------------------- 6. capabilities

    @Test
    void capabilitiesAreDeclaredHonestly() {
        assertEquals("KUBERNETES", runtime.capabilities().errorNamespace());
        assertTrue(runtime.capabilities().pause());
        assertTrue(runtime.capabilities().exec(), "exec through pod exec");
        assertTrue(runtime.capabilities().files(), "files through pod exec");
        assertTrue(runtime.capabilities().logs(), "logs through the pod log");
        assertTrue(runtime.capabilities().snapshots());
        assertTrue(runtime.capabilities().pools());
        assertTrue(runtime.pools().isPresent(), "pools are managed as Pool custom resources");
        assertEquals("kubernetes", runtime.type());
    }

    @Test
    void aPoolRefIsAcceptedByValidateAndABlankOneIsNoPoolMode() {
        runtime.validate(SandboxSpec.builder().extension("poolRef", "warm-python").build());
        assertThrows(InvalidRequestException.class,
            () -> runtime.validate(spec().extension("poolRef", " ").resourceLimits(Map.of("gpu", "all")).build()));
    }
}
