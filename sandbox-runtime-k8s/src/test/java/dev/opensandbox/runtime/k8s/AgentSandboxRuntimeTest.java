package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.RegistryAuth;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.testing.MutableClock;
import dev.opensandbox.runtime.k8s.testing.FakeAgentSandboxController;
import dev.opensandbox.runtime.k8s.testing.FakeAgentSandboxController.Behavior;
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

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The runtime with {@code workload_provider = "agent-sandbox"} against the mock API server and a fake controller. */
class AgentSandboxRuntimeTest {

    static final String NAMESPACE = KubernetesSandboxRuntimeTest.NAMESPACE;
    static final String SANDBOXES = "/apis/agents.x-k8s.io/v1alpha1/namespaces/" + NAMESPACE + "/sandboxes";

    MockCluster cluster;
    FakeAgentSandboxController controller;
    MutableClock clock;
    KubernetesSandboxRuntime runtime;

    @BeforeEach
    void start() throws InterruptedException {
        cluster = new MockCluster();
        controller = new FakeAgentSandboxController(cluster.controllerClient(), NAMESPACE);
        clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        KubernetesRuntimeConfig config = KubernetesRuntimeConfig.defaults(NAMESPACE)
            .withAgentSandbox(KubernetesRuntimeConfig.AgentSandboxConfig.defaults())
            .withCreateTimeout(Duration.ofSeconds(10));
        runtime = new KubernetesSandboxRuntime(config, cluster.client(), false, Map.of(), clock);
        assertTrue(runtime.awaitCachesSynced(KubernetesSandboxRuntimeTest.BOUND), "caches listed");
    }

    @AfterEach
    void stop() {
        runtime.close();
        controller.close();
        cluster.close();
    }

    ProvisionRequest request(SandboxSpec spec) {
        return new ProvisionRequest(SandboxId.random(), spec, spec.image(), spec.entrypoint(), ResourceLimits.none(),
            clock.instant(), clock.instant().plus(spec.timeout()));
    }

    Sandbox create() {
        return runtime.create(request(KubernetesSandboxRuntimeTest.spec().build()));
    }

    Map<String, Object> body(MockCluster.Request request) {
        return cluster.client().getKubernetesSerialization().unmarshal(request.body(), Map.class);
    }

    /** A Sandbox created by someone else with {@code status} (the fake controller leaves it alone). */
    SandboxId adopt(Map<String, Object> status) {
        SandboxId id = SandboxId.random();
        String name = AgentSandboxes.name(id);
        controller.behave(name, Behavior.IGNORE);
        GenericKubernetesResource cr = new GenericKubernetesResource();
        cr.setApiVersion(AgentSandboxes.API_VERSION);
        cr.setKind(AgentSandboxes.KIND);
        cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NAMESPACE)
            .addToLabels(Labels.ID, id.toString()).build());
        cr.setAdditionalProperty("spec", Map.of("replicas", 1, "podTemplate", Map.of("spec",
            Map.of("containers", List.of(Map.of("name", "sandbox", "image", "busybox"))))));
        cluster.client().genericKubernetesResources(AgentSandboxes.CONTEXT).inNamespace(NAMESPACE).resource(cr).create();
        if (status != null) {
            cluster.client().genericKubernetesResources(AgentSandboxes.CONTEXT).inNamespace(NAMESPACE).withName(name)
                .subresource("status").patch(KubernetesSandboxRuntimeTest.MERGE,
                    cluster.client().getKubernetesSerialization().asJson(Map.of("status", status)));
        }
        await().atMost(KubernetesSandboxRuntimeTest.BOUND).until(() -> runtime.inspect(id).isPresent());
        return id;
    }

    @Test
    void createPostsASandboxAndReturnsOnceTheControllerReportsReady() {
        Sandbox sandbox = create();

        List<MockCluster.Request> posts = cluster.requests("POST", SANDBOXES);
        assertEquals(1, posts.size());
        Map<String, Object> body = body(posts.get(0));
        assertEquals("Sandbox", body.get("kind"));
        assertEquals(AgentSandboxes.name(sandbox.id()), KubernetesSandboxRuntimeTest.at(body, "metadata").get("name"));
        assertEquals("2026-01-01T01:00:00Z", KubernetesSandboxRuntimeTest.at(body, "spec").get("shutdownTime"));
        assertEquals("Delete", KubernetesSandboxRuntimeTest.at(body, "spec").get("shutdownPolicy"));
        assertTrue(cluster.requests("POST", "/batchsandboxes").isEmpty(), "no BatchSandbox");
        assertEquals(SandboxState.RUNNING, sandbox.status().state());
        assertEquals("DependenciesReady", sandbox.status().reason());
        assertEquals(List.of("python", "-m", "http.server"), sandbox.entrypoint());
        assertEquals(List.of(sandbox.id()), runtime.list().stream().map(Sandbox::id).toList());
    }

    @Test
    void createRefusesRegistryCredentialsBeforeAnythingIsCreated() {
        SandboxSpec spec = KubernetesSandboxRuntimeTest.spec()
            .image(new ImageSpec("registry.example.com/app:1", new RegistryAuth("u", "p"))).build();

        assertThrows(InvalidRequestException.class,
            () -> runtime.create(request(spec)));
        assertTrue(cluster.requests("POST", SANDBOXES).isEmpty());
    }

    @Test
    void directEndpointIsTheRunningPodsIpThenTheServiceThenA404() {
        Sandbox running = create();
        SandboxId serviceOnly = adopt(Map.of("selector", "agents.x-k8s.io/sandbox-name=nothing",
            "serviceFQDN", "svc-only." + NAMESPACE + ".svc.cluster.local"));
        SandboxId bare = adopt(null);

        assertTrue(runtime.resolveEndpoint(running.id(), 8080, EndpointPurpose.EXTERNAL).address()
            .matches("10\\.1\\.0\\.\\d+:8080"));
        assertEquals("svc-only." + NAMESPACE + ".svc.cluster.local:8080",
            runtime.resolveEndpoint(serviceOnly, 8080, EndpointPurpose.EXTERNAL).address());
        NotFoundException missing = assertThrows(NotFoundException.class,
            () -> runtime.resolveEndpoint(bare, 8080, EndpointPurpose.INTERNAL));
        assertEquals("KUBERNETES::POD_IP_NOT_AVAILABLE", missing.code());
        assertFalse(cluster.requests("GET", "/pods?labelSelector=agents.x-k8s.io").isEmpty(),
            "pods listed by status.selector");
    }

    @Test
    void renewMergePatchesTheShutdownTime() {
        Sandbox sandbox = create();

        Instant renewed = runtime.applyExpiration(sandbox.id(), Instant.parse("2026-01-01T02:00:00Z"));

        assertEquals(Instant.parse("2026-01-01T02:00:00Z"), renewed);
        MockCluster.Request patch = cluster.requests("PATCH", SANDBOXES + "/" + AgentSandboxes.name(sandbox.id())).get(0);
        assertEquals("{\"spec\":{\"shutdownTime\":\"2026-01-01T02:00:00Z\"}}", patch.body());
        assertEquals(KubernetesSandboxRuntimeTest.MERGE_PATCH, patch.contentType());
        assertEquals(renewed, runtime.inspect(sandbox.id()).orElseThrow().expiresAt());
    }

    @Test
    void anExpiredRetainedSandboxIsTerminated() {
        SandboxId id = adopt(Map.of("conditions", List.of(Map.of("type", "Ready", "status", "False",
            "reason", "SandboxExpired", "message", "expired", "lastTransitionTime", "2026-01-01T00:00:09Z"))));

        await().atMost(KubernetesSandboxRuntimeTest.BOUND)
            .until(() -> runtime.inspect(id).orElseThrow().status().state() == SandboxState.TERMINATED);
    }

    @Test
    void pauseAndResumeAreRefusedWithInvalidState() {
        Sandbox sandbox = create();

        for (Runnable verb : List.<Runnable>of(() -> runtime.pause(sandbox.id()), () -> runtime.resume(sandbox.id()))) {
            InvalidRequestException refused = assertThrows(InvalidRequestException.class, verb::run);
            assertEquals("KUBERNETES::INVALID_STATE", refused.code());
            assertTrue(refused.getMessage().contains("not supported"), refused.getMessage());
        }
        assertThrows(NotFoundException.class, () -> runtime.pause(SandboxId.random()));
        assertFalse(runtime.capabilities().pause());
        assertTrue(cluster.requests("PATCH", SANDBOXES).isEmpty());
    }

    @Test
    void removeDeletesTheSandboxByItsDnsName() {
        Sandbox sandbox = create();

        runtime.remove(sandbox.id());

        List<MockCluster.Request> deletes = cluster.requests("DELETE", SANDBOXES);
        assertEquals(SANDBOXES + "/" + AgentSandboxes.name(sandbox.id()), deletes.get(0).path().replaceAll("\\?.*", ""));
        await().atMost(KubernetesSandboxRuntimeTest.BOUND).until(() -> runtime.inspect(sandbox.id()).isEmpty());
        runtime.remove(sandbox.id());
    }
}
