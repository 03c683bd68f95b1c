package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Pool;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pools over Pool custom resources, against fabric8's mock API server in CRUD mode. */
class KubernetesPoolsTest {

    static final String NAMESPACE = "sandboxes";
    static final String POOLS = "/apis/sandbox.opensandbox.io/v1alpha1/namespaces/" + NAMESPACE + "/pools";
    static final Map<String, Object> TEMPLATE = Map.of(
        "metadata", Map.of("labels", Map.of("app", "warm")),
        "spec", Map.of("containers", List.of(Map.of("name", "sandbox", "image", "python:3.11",
            "command", List.of("/opt/opensandbox/bootstrap.sh", "sleep", "infinity")))));
    static final Pool.Capacity CAPACITY = new Pool.Capacity(3, 1, 10, 0);

    MockCluster cluster;
    KubernetesPools pools;

    @BeforeEach
    void start() {
        cluster = new MockCluster();
        pools = new KubernetesPools(cluster.client(), NAMESPACE);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    Map<String, Object> body(MockCluster.Request request) {
        return cluster.client().getKubernetesSerialization().unmarshal(request.body(), Map.class);
    }

    /** The controller's status write, through the status subresource. */
    void reportStatus(String name, Map<String, Object> status) {
        cluster.controllerClient().genericKubernetesResources(KubernetesPools.CONTEXT).inNamespace(NAMESPACE)
            .withName(name).subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE),
                cluster.client().getKubernetesSerialization().asJson(Map.of("status", status)));
    }

    static void assertError(Class<? extends SandboxException> type, String code, String message, Executable call) {
        SandboxException e = assertThrows(type, call);
        assertEquals(code, e.code());
        assertEquals(message, e.getMessage());
    }

    // ---------------------------------------------------------------- create

    @Test
    void createPostsThePoolWithTemplateAndCapacityAsUpstream() {
        Pool created = pools.create("warm-python", TEMPLATE, CAPACITY);

        List<MockCluster.Request> posts = cluster.requests("POST", POOLS);
        assertEquals(1, posts.size());
        Map<String, Object> capacity = new LinkedHashMap<>();
        capacity.put("bufferMax", 3);
        capacity.put("bufferMin", 1);
        capacity.put("poolMax", 10);
        capacity.put("poolMin", 0);
        assertEquals(Map.of("apiVersion", "sandbox.opensandbox.io/v1alpha1", "kind", "Pool",
            "metadata", Map.of("name", "warm-python", "namespace", NAMESPACE),
            "spec", Map.of("template", TEMPLATE, "capacitySpec", capacity)), body(posts.get(0)));

        assertEquals("warm-python", created.name());
        assertEquals(CAPACITY, created.capacity());
        assertEquals(TEMPLATE, created.template());
        assertNull(created.status(), "no status before the controller writes one");
        assertNotNull(created.createdAt(), "createdAt is the creationTimestamp");
    }

    @Test
    void aTakenNameIsPoolAlreadyExists() {
        pools.create("warm-python", TEMPLATE, CAPACITY);

        assertError(ConflictException.class, ErrorCodes.POOL_ALREADY_EXISTS, "Pool 'warm-python' already exists.",
            () -> pools.create("warm-python", TEMPLATE, CAPACITY));
    }

    @Test
    void anyOtherApiFailureIsPoolApiError() {
        cluster.answer(r -> r.method().equals("POST") && r.path().startsWith(POOLS), 403);

        RuntimeFailureException e = assertThrows(RuntimeFailureException.class,
            () -> pools.create("warm-python", TEMPLATE, CAPACITY));
        assertEquals(ErrorCodes.POOL_API_ERROR, e.code());
        assertTrue(e.getMessage().startsWith("Failed to create Pool warm-python: "), e.getMessage());
        assertTrue(e.getMessage().contains("injected by the test"), e.getMessage());
    }

    // ---------------------------------------------------------------- read

    @Test
    void getReadsThePoolFromTheApiServer() {
        pools.create("warm-python", TEMPLATE, CAPACITY);

        Pool pool = pools.get("warm-python");

        assertEquals(CAPACITY, pool.capacity());
        assertEquals(TEMPLATE, pool.template());
        assertEquals(1, cluster.requests("GET", POOLS + "/warm-python").size());
    }

    @Test
    void anUnknownPoolIsPoolNotFoundOnGetUpdateAndDelete() {
        for (Executable call : List.<Executable>of(() -> pools.get("missing"),
            () -> pools.updateCapacity("missing", CAPACITY), () -> pools.delete("missing"))) {
            assertError(NotFoundException.class, ErrorCodes.POOL_NOT_FOUND, "Pool 'missing' not found.", call);
        }
    }

    @Test
    void theControllersStatusIsMapped() {
        pools.create("warm-python", TEMPLATE, CAPACITY);
        reportStatus("warm-python", Map.of("total", 4, "allocated", 1, "available", 2, "revision", "0123456789abcdef",
            "updated", 4, "observedGeneration", 1));

        assertEquals(new Pool.Status(4, 1, 2, "0123456789abcdef"), pools.get("warm-python").status());
    }

    @Test
    void aPartialStatusDefaultsToZeroAndAnEmptyRevision() {
        pools.create("warm-python", TEMPLATE, CAPACITY);
        reportStatus("warm-python", Map.of("total", 2));

        assertEquals(new Pool.Status(2, 0, 0, ""), pools.get("warm-python").status());
    }

    @Test
    void missingCapacityValuesReadAsZero() {
        GenericKubernetesResource cr = new GenericKubernetesResource();
        cr.setApiVersion(BatchSandboxes.API_VERSION);
        cr.setKind(KubernetesPools.KIND);
        cr.setMetadata(new ObjectMetaBuilder().withName("hand-made").withNamespace(NAMESPACE).build());
        cr.setAdditionalProperty("spec", Map.of("capacitySpec", Map.of("poolMax", 5)));
        cluster.client().genericKubernetesResources(KubernetesPools.CONTEXT).inNamespace(NAMESPACE).resource(cr).create();

        Pool pool = pools.get("hand-made");

        assertEquals(new Pool.Capacity(0, 0, 5, 0), pool.capacity());
        assertEquals(Map.of(), pool.template());
    }

    @Test
    void listReturnsThePoolsOfTheNamespaceOnly() {
        pools.create("a", TEMPLATE, CAPACITY);
        pools.create("b", TEMPLATE, new Pool.Capacity(1, 1, 1, 1));
        new KubernetesPools(cluster.client(), "elsewhere").create("c", TEMPLATE, CAPACITY);

        List<Pool> listed = pools.list();

        assertEquals(List.of("a", "b"), listed.stream().map(Pool::name).sorted().toList());
        assertEquals(1, cluster.requests(r -> r.method().equals("GET") && r.path().startsWith(POOLS)
            && !r.path().startsWith(POOLS + "/")).size(), "one LIST call");
    }

    @Test
    void listWithoutThePoolCrdIsEmpty() {
        cluster.answer(r -> r.path().startsWith(POOLS), 404);

        assertEquals(List.of(), pools.list());
    }

    @Test
    void listFailuresArePoolApiError() {
        // Not a 5xx: fabric8 retries those with backoff for seconds, the mapping is the same.
        cluster.answer(r -> r.path().startsWith(POOLS), 403);

        SandboxException e = assertThrows(RuntimeFailureException.class, pools::list);
        assertEquals(ErrorCodes.POOL_API_ERROR, e.code());
    }

    // ---------------------------------------------------------------- update

    @Test
    void updateMergePatchesTheCapacityOnly() {
        pools.create("warm-python", TEMPLATE, CAPACITY);
        Pool.Capacity bigger = new Pool.Capacity(6, 2, 20, 1);

        Pool updated = pools.updateCapacity("warm-python", bigger);

        List<MockCluster.Request> patches = cluster.requests("PATCH", POOLS + "/warm-python");
        assertEquals(1, patches.size());
        assertEquals("application/merge-patch+json", patches.get(0).contentType().split(";")[0]);
        assertEquals("{\"spec\":{\"capacitySpec\":{\"bufferMax\":6,\"bufferMin\":2,\"poolMax\":20,\"poolMin\":1}}}",
            patches.get(0).body());
        assertEquals(bigger, updated.capacity());
        assertEquals(TEMPLATE, pools.get("warm-python").template(), "the template is untouched");
        assertEquals(bigger, pools.get("warm-python").capacity());
    }

    @Test
    void updateFailuresArePoolApiError() {
        pools.create("warm-python", TEMPLATE, CAPACITY);
        cluster.answer(r -> r.method().equals("PATCH"), 422);

        SandboxException e = assertThrows(RuntimeFailureException.class, () -> pools.updateCapacity("warm-python", CAPACITY));
        assertEquals(ErrorCodes.POOL_API_ERROR, e.code());
        assertTrue(e.getMessage().startsWith("Failed to update Pool warm-python: "), e.getMessage());
    }

    // ---------------------------------------------------------------- delete

    @Test
    void deleteUsesGracePeriodZero() {
        pools.create("warm-python", TEMPLATE, CAPACITY);

        pools.delete("warm-python");

        List<MockCluster.Request> deletes = cluster.requests("DELETE", POOLS + "/warm-python");
        assertEquals(1, deletes.size());
        assertEquals(0, ((Number) body(deletes.get(0)).get("gracePeriodSeconds")).intValue());
        assertError(NotFoundException.class, ErrorCodes.POOL_NOT_FOUND, "Pool 'warm-python' not found.",
            () -> pools.get("warm-python"));
    }

    @Test
    void deleteFailuresArePoolApiError() {
        cluster.answer(r -> r.method().equals("DELETE"), 401);

        SandboxException e = assertThrows(RuntimeFailureException.class, () -> pools.delete("warm-python"));
        assertEquals(ErrorCodes.POOL_API_ERROR, e.code());
    }
}
