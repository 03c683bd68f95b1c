package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.RegistryAuth;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import dev.opensandbox.core.Pool;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static dev.opensandbox.runtime.k8s.KubernetesSandboxRuntimeTest.BATCHSANDBOXES;
import static dev.opensandbox.runtime.k8s.KubernetesSandboxRuntimeTest.NAMESPACE;
import static dev.opensandbox.runtime.k8s.KubernetesSandboxRuntimeTest.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Creates from a pre-warmed pool ({@code extensions.poolRef}): upstream's §2.8 body and rules. */
class PoolModeCreateTest extends RuntimeOnMockClusterTest {

    @Override
    KubernetesRuntimeConfig config() {
        return KubernetesRuntimeConfig.defaults(NAMESPACE);
    }

    @BeforeEach
    void startPool() {
        runtime.pools().orElseThrow().create("warm-python", Map.of("spec", Map.of("containers",
            List.of(Map.of("name", "sandbox", "image", "python:3.11")))), new Pool.Capacity(2, 1, 4, 0));
    }

    static SandboxSpec.Builder poolSpec() {
        return SandboxSpec.builder().extension("poolRef", "warm-python").timeout(Duration.ofHours(1));
    }

    ProvisionRequest request(SandboxSpec spec) {
        Instant expiresAt = spec.timeout() == null ? null : clock.instant().plus(spec.timeout());
        return new ProvisionRequest(SandboxId.random(), spec, spec.image(), spec.entrypoint(), ResourceLimits.none(),
            clock.instant(), expiresAt, null);
    }

    Map<String, Object> postedBody() {
        List<MockCluster.Request> posts = cluster.requests("POST", BATCHSANDBOXES);
        assertEquals(1, posts.size());
        return cluster.client().getKubernetesSerialization().unmarshal(posts.get(0).body(), Map.class);
    }

    @Test
    void aPoolRefAloneCreatesABatchSandboxWithoutTemplateOrTask() {
        ProvisionRequest request = request(poolSpec().metadata("team", "core").build());

        Sandbox sandbox = runtime.create(request);

        assertEquals(SandboxState.RUNNING, sandbox.status().state());
        Map<String, Object> body = postedBody();
        assertEquals(request.id().toString(), at(body, "metadata").get("name"));
        assertEquals(Map.of("opensandbox.io/id", request.id().toString(), "team", "core"),
            at(body, "metadata").get("labels"));
        assertEquals(Map.of("replicas", 1, "poolRef", "warm-python", "expireTime", "2026-01-01T01:00:00Z"),
            at(body, "spec"));
    }

    @Test
    void envOrAnEntrypointBecomesABackgroundTaskBehindTheBootstrap() {
        SandboxSpec spec = poolSpec().entrypoint("python", "-c", "print('hi there')").env("A", "1")
            .env("EMPTY", "").build();

        runtime.create(request(spec));

        Map<String, Object> process = at(postedBody(), "spec", "taskTemplate", "spec", "process");
        assertEquals(List.of("/bin/sh", "-c",
            "/opt/opensandbox/bootstrap.sh python -c 'print('\"'\"'hi there'\"'\"')' &"), process.get("command"));
        assertEquals(List.of(Map.of("name", "A", "value", "1"), Map.of("name", "EMPTY", "value", "")),
            process.get("env"));
    }

    @Test
    void theDefaultEntrypointWithoutEnvSendsNoTask() {
        runtime.create(request(poolSpec().entrypoint("tail", "-f", "/dev/null").build()));

        assertFalse(at(postedBody(), "spec").containsKey("taskTemplate"));
    }

    @Test
    void anEntrypointWithoutEnvSendsAnEmptyEnvList() {
        runtime.create(request(poolSpec().entrypoint("sleep", "infinity").build()));

        Map<String, Object> process = at(postedBody(), "spec", "taskTemplate", "spec", "process");
        assertEquals(List.of("/bin/sh", "-c", "/opt/opensandbox/bootstrap.sh sleep infinity &"), process.get("command"));
        assertEquals(List.of(), process.get("env"));
    }

    @Test
    void imageResourcesAndRegistryCredentialsAreIgnoredNoSecretIsCreated() {
        SandboxSpec spec = poolSpec().image(new ImageSpec("registry.example.com/app:1", new RegistryAuth("u", "p")))
            .resourceLimits(Map.of("gpu", "all")).build();
        runtime.validate(spec);

        runtime.create(request(spec));

        assertFalse(at(postedBody(), "spec").containsKey("template"));
        assertTrue(cluster.requests("POST", "/secrets").isEmpty());
    }

    @Test
    void withoutTimeoutThereIsNoExpireTimeAndTheManualCleanupLabel() {
        runtime.create(request(poolSpec().timeout(null).build()));

        Map<String, Object> body = postedBody();
        assertFalse(at(body, "spec").containsKey("expireTime"));
        assertEquals("true", at(body, "metadata").get("labels") instanceof Map<?, ?> labels
            ? labels.get("opensandbox.io/manual-cleanup") : null);
    }

    @Test
    void secureAccessAndExtensionsAreStillAnnotated() {
        SandboxSpec spec = poolSpec().extension("opensandbox.extensions.owner", "alice").build();
        ProvisionRequest plain = request(spec);
        ProvisionRequest request = new ProvisionRequest(plain.id(), spec, null, null, ResourceLimits.none(),
            plain.createdAt(), plain.expiresAt(), "token-1");

        runtime.create(request);

        assertEquals(Map.of("opensandbox.io/extensions.owner", "alice", "opensandbox.io/secure-access-token", "token-1"),
            at(postedBody(), "metadata").get("annotations"));
    }

    @Test
    void platformAndVolumesAreRefusedWith400BeforeAnythingIsCreated() {
        InvalidRequestException platform = assertThrows(InvalidRequestException.class,
            () -> runtime.create(request(poolSpec().platform(new Platform("linux", "amd64")).build())));
        assertEquals(ErrorCodes.INVALID_PARAMETER, platform.code());
        SandboxSpec withVolume = poolSpec().volumes(List.of(new VolumeSpec("data", "/data", false, null,
            new VolumeBackend.Pvc("claim", true, false, null, null, List.of())))).build();
        InvalidRequestException volumes = assertThrows(InvalidRequestException.class,
            () -> runtime.create(request(withVolume)));
        assertEquals("Pool mode does not support volumes.", volumes.getMessage());
        assertTrue(cluster.requests("POST", BATCHSANDBOXES).isEmpty());
        assertTrue(cluster.requests("POST", "/persistentvolumeclaims").isEmpty(), "no PVC either");
    }

    @Test
    void anUnknownPoolIsA400InsteadOfATimeoutButTheAutoPoolIsLeftToTheController() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
            () -> runtime.create(request(poolSpec().extension("poolRef", "missing").build())));
        assertEquals(ErrorCodes.INVALID_PARAMETER, e.code());
        assertTrue(cluster.requests("POST", BATCHSANDBOXES).isEmpty());

        runtime.create(request(poolSpec().extension("poolRef", "*").build()));
        assertEquals("*", at(postedBody(), "spec").get("poolRef"));
    }

    @Test
    void getAndListReportTheUnknownImageAndNoEntrypoint() {
        Sandbox created = runtime.create(request(poolSpec().entrypoint("sleep", "1000").build()));

        Sandbox inspected = runtime.inspect(created.id()).orElseThrow();
        assertEquals("unknown", inspected.image());
        assertEquals(List.of(), inspected.entrypoint());
        assertEquals(SandboxState.RUNNING, inspected.status().state());
        assertNotNull(runtime.list().stream().filter(s -> s.id().equals(created.id())).findFirst().orElse(null));
        assertEquals("10.0.0.5:8080", runtime.resolveEndpoint(created.id(), 8080,
            dev.opensandbox.core.spi.EndpointPurpose.EXTERNAL).address());
    }

    @Test
    void removeDeletesTheBatchSandboxAndTheControllerReleasesThePoolPod() throws Exception {
        Sandbox created = runtime.create(request(poolSpec().build()));
        String pod = controller.podName(created.id().toString());
        assertTrue(pod.startsWith("warm-python-"));

        runtime.remove(created.id());
        controller.drain();

        assertTrue(runtime.inspect(created.id()).isEmpty());
        assertEquals(1, cluster.requests("DELETE", BATCHSANDBOXES + "/" + created.id()).size());
    }
}
