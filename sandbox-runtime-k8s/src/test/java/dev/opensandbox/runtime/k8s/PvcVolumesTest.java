package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.runtime.k8s.testing.FakeBatchSandboxController;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.opensandbox.runtime.k8s.KubernetesSandboxRuntimeTest.BATCHSANDBOXES;
import static dev.opensandbox.runtime.k8s.KubernetesSandboxRuntimeTest.NAMESPACE;
import static dev.opensandbox.runtime.k8s.KubernetesSandboxRuntimeTest.at;
import static dev.opensandbox.runtime.k8s.KubernetesSandboxRuntimeTest.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Request volumes on Kubernetes: PVC auto-create before the CR, pod volumes and mounts, cleanup. */
class PvcVolumesTest extends RuntimeOnMockClusterTest {

    static final String PVCS = "/api/v1/namespaces/" + NAMESPACE + "/persistentvolumeclaims";

    @Override
    KubernetesRuntimeConfig config() {
        return KubernetesRuntimeConfig.defaults(NAMESPACE).withExecdImage("execd:1");
    }

    static VolumeSpec pvc(String name, String claim, String mountPath, String subPath, boolean deleteWithSandbox) {
        return new VolumeSpec(name, mountPath, false, subPath,
            new VolumeBackend.Pvc(claim, true, deleteWithSandbox, null, null, List.of()));
    }


    Map<String, Object> body(MockCluster.Request request) {
        return cluster.client().getKubernetesSerialization().unmarshal(request.body(), Map.class);
    }

    boolean claimExists(String name) {
        return cluster.client().persistentVolumeClaims().inNamespace(NAMESPACE).withName(name).get() != null;
    }

    @Test
    @SuppressWarnings("unchecked")
    void missingClaimsAreCreatedBeforeTheCrAndMountedWithSubPaths() {
        VolumeSpec fast = new VolumeSpec("fast", "/fast", true, null, new VolumeBackend.Pvc("fast-claim", true, false,
            "ssd", "5Gi", List.of("ReadWriteMany")));
        SandboxSpec spec = spec().volume(pvc("data", "shared", "/data", "a/b", false))
            .volume(pvc("logs", "shared", "/logs", null, false)).volume(fast).build();

        runtime.create(request(spec));

        List<MockCluster.Request> posts = cluster.requests(r -> r.method().equals("POST") && !r.fromController()
            && (r.path().contains(PVCS) || r.path().contains(BATCHSANDBOXES)));
        assertEquals(3, posts.size());
        assertTrue(posts.get(0).path().startsWith(PVCS) && posts.get(1).path().startsWith(PVCS), "claims first");
        assertTrue(posts.get(2).path().startsWith(BATCHSANDBOXES));
        assertEquals(2, cluster.requests("GET", PVCS + "/").size(), "one read per claim");
        Map<String, Object> shared = body(posts.get(0));
        assertEquals("shared", at(shared, "metadata").get("name"));
        assertEquals(Map.of("accessModes", List.of("ReadWriteOnce"), "resources", Map.of("requests",
            Map.of("storage", "1Gi"))), shared.get("spec"));
        assertEquals(Map.of("accessModes", List.of("ReadWriteMany"), "resources", Map.of("requests",
            Map.of("storage", "5Gi")), "storageClassName", "ssd"), body(posts.get(1)).get("spec"));

        Map<String, Object> pod = at(body(posts.get(2)), "spec", "template", "spec");
        assertEquals(List.of(Map.of("name", "opensandbox-bin", "emptyDir", Map.of()),
            Map.of("name", "data", "persistentVolumeClaim", Map.of("claimName", "shared")),
            Map.of("name", "fast", "persistentVolumeClaim", Map.of("claimName", "fast-claim"))), pod.get("volumes"));
        Map<String, Object> main = ((List<Map<String, Object>>) pod.get("containers")).get(0);
        assertEquals(List.of(Map.of("name", "opensandbox-bin", "mountPath", "/opt/opensandbox"),
            Map.of("name", "data", "mountPath", "/data", "readOnly", false, "subPath", "a/b"),
            Map.of("name", "data", "mountPath", "/logs", "readOnly", false),
            Map.of("name", "fast", "mountPath", "/fast", "readOnly", true)), main.get("volumeMounts"));
    }

    @Test
    void existingClaimsAndClaimsNotToCreateAreLeftAlone() {
        cluster.client().persistentVolumeClaims().inNamespace(NAMESPACE).resource(new PersistentVolumeClaimBuilder()
            .withNewMetadata().withName("existing").endMetadata().build()).create();
        VolumeSpec manual = new VolumeSpec("manual", "/m", false, null,
            new VolumeBackend.Pvc("manual-claim", false, true, null, null, List.of()));

        runtime.create(request(spec().volume(pvc("data", "existing", "/data", null, true)).volume(manual).build()));

        assertEquals(1, cluster.requests("POST", PVCS).size(), "only the test's own claim");
        assertEquals(1, cluster.requests("GET", PVCS + "/").size());
    }

    @Test
    void hostVolumesBecomeHostPathsThatAreCreatedWhenMissing() {
        VolumeSpec host = new VolumeSpec("cache", "/cache", true, "sub", new VolumeBackend.Host("/var/cache/app"));

        runtime.create(request(spec().volume(host).build()));

        Map<String, Object> pod = at(body(cluster.requests("POST", BATCHSANDBOXES).get(0)), "spec", "template", "spec");
        assertTrue(((List<?>) pod.get("volumes")).contains(Map.of("name", "cache", "hostPath",
            Map.of("path", "/var/cache/app", "type", "DirectoryOrCreate"))));
    }

    @Test
    void ossfsAndReservedNamesAreRefusedBeforeAnythingIsCreated() {
        VolumeSpec oss = new VolumeSpec("oss", "/oss", false, null,
            new VolumeBackend.Ossfs("bucket", "oss.example.com", null, null, "id", "secret"));
        InvalidRequestException ossfs = assertThrows(InvalidRequestException.class,
            () -> runtime.create(request(spec().volume(oss).build())));
        assertEquals(ErrorCodes.INVALID_PARAMETER, ossfs.code());
        assertTrue(ossfs.getMessage().contains("no supported backend"), ossfs.getMessage());

        InvalidRequestException reserved = assertThrows(InvalidRequestException.class,
            () -> runtime.validate(spec().volume(pvc("opensandbox-bin", "c", "/x", null, false)).build()));
        assertEquals(ErrorCodes.INVALID_PARAMETER, reserved.code());
        assertTrue(cluster.requests("POST", PVCS).isEmpty() && cluster.requests("POST", BATCHSANDBOXES).isEmpty());
    }

    @Test
    void aClaimTheApiServerRefusesIsA400AndNoCrIsCreated() {
        cluster.answer(r -> r.method().equals("POST") && r.path().startsWith(PVCS), 422);

        InvalidRequestException e = assertThrows(InvalidRequestException.class,
            () -> runtime.create(request(spec().volume(pvc("data", "bad", "/data", null, false)).build())));

        assertEquals(ErrorCodes.INVALID_PARAMETER, e.code());
        assertTrue(cluster.requests("POST", BATCHSANDBOXES).isEmpty());
    }

    @Test
    void aServerThatMayNotReadClaimsSkipsTheChecks() {
        cluster.answer(r -> r.method().equals("GET") && r.path().startsWith(PVCS + "/"), 403);

        runtime.create(request(spec().volume(pvc("a", "one", "/a", null, false)).volume(pvc("b", "two", "/b", null, false))
            .build()));

        assertEquals(1, cluster.requests("GET", PVCS + "/").size(), "the first 403 skips the rest");
        assertTrue(cluster.requests("POST", PVCS).isEmpty());
    }

    @Test
    void deleteOnSandboxTerminationRemovesOnlyTheClaimsCreatedForTheSandbox() {
        cluster.client().persistentVolumeClaims().inNamespace(NAMESPACE).resource(new PersistentVolumeClaimBuilder()
            .withNewMetadata().withName("existing").endMetadata().build()).create();
        ProvisionRequest request = request(spec().volume(pvc("scratch", "scratch", "/s", null, true))
            .volume(pvc("keep", "keep", "/k", null, false)).volume(pvc("old", "existing", "/o", null, true)).build());
        runtime.create(request);
        assertEquals(Map.of("opensandbox.io/id", request.id().toString(), Pvcs.DELETE_WITH_SANDBOX_LABEL, "true"),
            cluster.client().persistentVolumeClaims().inNamespace(NAMESPACE).withName("scratch").get().getMetadata()
                .getLabels());

        runtime.remove(request.id());

        assertNull(cluster.client().persistentVolumeClaims().inNamespace(NAMESPACE).withName("scratch").get());
        assertNotNull(cluster.client().persistentVolumeClaims().inNamespace(NAMESPACE).withName("keep").get());
        assertTrue(claimExists("existing"));
    }

    @Test
    void aFailedCreateRemovesTheClaimsItMade() {
        controller.defaultBehavior(FakeBatchSandboxController.Behavior.FAIL);

        assertThrows(RuntimeFailureException.class,
            () -> runtime.create(request(spec().volume(pvc("data", "fresh", "/data", null, false)).build())));

        assertTrue(cluster.requests("POST", PVCS).size() == 1 && !claimExists("fresh"));
    }
}
