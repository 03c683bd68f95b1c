package dev.opensandbox.it.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.core.service.ServicePolicy;
import dev.opensandbox.core.service.SnapshotService;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.runtime.k8s.KubernetesRuntimeConfig;
import dev.opensandbox.runtime.k8s.KubernetesRuntimeProvider;
import dev.opensandbox.runtime.k8s.testing.FakeBatchSandboxController;
import dev.opensandbox.runtime.k8s.testing.FakeSnapshotController;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import dev.opensandbox.server.http.ApiServer;
import dev.opensandbox.server.http.HttpSettings;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The snapshot API over HTTP with the Kubernetes runtime on fabric8's mock API server: fake
 * controllers play the BatchSandbox and SandboxSnapshot reconcilers. Take a snapshot, see it
 * Ready, restore it, delete it; and a controller failure reaches the snapshot's status.
 */
class SnapshotsOnKubernetesTest {

    private static final String NAMESPACE = "opensandbox-snapshots";
    private static final String API_KEY = "it-key";
    private static final Duration BOUND = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ResourceDefinitionContext BATCH_SANDBOX = context("BatchSandbox", "batchsandboxes");
    private static final ResourceDefinitionContext SANDBOX_SNAPSHOT = context("SandboxSnapshot", "sandboxsnapshots");

    private MockCluster cluster;
    private FakeBatchSandboxController sandboxController;
    private FakeSnapshotController snapshotController;
    private SandboxRuntime runtime;
    private SandboxService sandboxes;
    private ApiServer api;
    private final ExecutorService snapshotWorkers = Executors.newFixedThreadPool(2);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static ResourceDefinitionContext context(String kind, String plural) {
        return new ResourceDefinitionContext.Builder().withGroup(MockCluster.GROUP).withVersion("v1alpha1").withKind(kind)
            .withPlural(plural).withNamespaced(true).build();
    }

    @BeforeEach
    void start() {
        cluster = new MockCluster();
        sandboxController = new FakeBatchSandboxController(cluster.controllerClient(), NAMESPACE);
        snapshotController = new FakeSnapshotController(cluster.controllerClient(), NAMESPACE);
        // The mock stamps creationTimestamp from the wall clock, so the server must use it too.
        Clock clock = Clock.systemUTC();
        runtime = new KubernetesRuntimeProvider().create(KubernetesRuntimeConfig.defaults(NAMESPACE)
            .withSnapshotCreateTimeout(Duration.ofSeconds(30)), cluster.client(), clock);
        InMemorySandboxStore store = new InMemorySandboxStore();
        sandboxes = new SandboxService(runtime, store, clock, ServicePolicy.defaults());
        SnapshotService snapshots = new SnapshotService(sandboxes, store, clock, snapshotWorkers);
        api = new ApiServer(sandboxes, snapshots, new HttpSettings(API_KEY, List.of("*"), null), clock, 32, true)
            .start("127.0.0.1", 0);
    }

    @AfterEach
    void stop() {
        api.close();
        sandboxes.close();
        snapshotWorkers.shutdownNow();
        runtime.close();
        snapshotController.close();
        sandboxController.close();
        cluster.close();
    }

    private record Reply(int status, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + body, e);
            }
        }
    }

    private Reply call(String method, String path, String body) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path))
            .timeout(Duration.ofSeconds(30)).header("OPEN-SANDBOX-API-KEY", API_KEY)
            .header("Content-Type", "application/json")
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
            .build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Reply(response.statusCode(), response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String createSandbox() {
        Reply reply = call("POST", "/v1/sandboxes", "{\"image\":{\"uri\":\"python:3.11\"},\"entrypoint\":[\"sleep\","
            + "\"3600\"],\"resourceLimits\":{\"cpu\":\"500m\",\"memory\":\"64Mi\"},\"timeout\":600}");
        assertEquals(202, reply.status(), reply.body());
        return reply.json().get("id").asText();
    }

    private String snapshot(String sandboxId) {
        Reply reply = call("POST", "/v1/sandboxes/" + sandboxId + "/snapshots", "{}");
        assertEquals(202, reply.status(), reply.body());
        return reply.json().get("id").asText();
    }

    private JsonNode awaitSettled(String snapshotId) {
        await().atMost(BOUND).until(() -> !call("GET", "/v1/snapshots/" + snapshotId, null).json()
            .at("/status/state").asText().equals("Creating"));
        return call("GET", "/v1/snapshots/" + snapshotId, null).json();
    }

    private GenericKubernetesResource cr(ResourceDefinitionContext kind, String name) {
        return cluster.client().genericKubernetesResources(kind).inNamespace(NAMESPACE).withName(name).get();
    }

    private static String snapshotCrName(String snapshotId) {
        return "osb-snap-" + snapshotId.replace("-", "");
    }

    @Test
    void aSnapshotIsReadyRestoresIntoABatchSandboxOfItsImageAndIsDeletedWithItsCustomResource() {
        String source = createSandbox();
        String snapshotId = snapshot(source);

        JsonNode ready = awaitSettled(snapshotId);
        assertEquals("Ready", ready.at("/status/state").asText(), ready.toString());
        GenericKubernetesResource snapshotCr = cr(SANDBOX_SNAPSHOT, snapshotCrName(snapshotId));
        assertEquals(Map.of("sandboxName", source), snapshotCr.getAdditionalProperties().get("spec"));

        Reply restore = call("POST", "/v1/sandboxes", "{\"snapshotId\":\"" + snapshotId + "\","
            + "\"resourceLimits\":{\"cpu\":\"500m\",\"memory\":\"64Mi\"},\"timeout\":600}");
        assertEquals(202, restore.status(), restore.body());
        String restoredId = restore.json().get("id").asText();
        JsonNode restored = call("GET", "/v1/sandboxes/" + restoredId, null).json();
        assertEquals(snapshotId, restored.path("snapshotId").asText(), restored.toString());
        assertTrue(restored.path("image").isMissingNode() || restored.path("image").isNull(), restored.toString());
        GenericKubernetesResource batchSandbox = cr(BATCH_SANDBOX, restoredId);
        assertEquals(snapshotId, batchSandbox.getMetadata().getLabels().get("opensandbox.io/snapshot-id"));
        assertTrue(JSON.valueToTree(batchSandbox.getAdditionalProperties().get("spec")).toString()
            .contains(FakeSnapshotController.image(source, snapshotCrName(snapshotId))), "runs the snapshot image");

        Reply delete = call("DELETE", "/v1/snapshots/" + snapshotId, null);
        assertEquals(204, delete.status(), delete.body());
        assertNull(cr(SANDBOX_SNAPSHOT, snapshotCrName(snapshotId)));
        assertEquals(404, call("GET", "/v1/snapshots/" + snapshotId, null).status());
    }

    @Test
    void theControllersFailureReachesTheSnapshotStatusAndTheFailedSnapshotCanBeDeleted() {
        String source = createSandbox();
        snapshotController.behave(source, FakeSnapshotController.Behavior.FAIL);
        String snapshotId = snapshot(source);

        JsonNode failed = awaitSettled(snapshotId);

        assertEquals("Failed", failed.at("/status/state").asText(), failed.toString());
        assertEquals("RegistryNotConfigured", failed.at("/status/reason").asText(), failed.toString());
        assertEquals("snapshot registry is not configured", failed.at("/status/message").asText());
        assertNull(cr(SANDBOX_SNAPSHOT, snapshotCrName(snapshotId)), "the failed commit's resource is deleted");
        assertEquals(204, call("DELETE", "/v1/snapshots/" + snapshotId, null).status());
        assertFalse(call("GET", "/v1/snapshots", null).body().contains(snapshotId));
    }
}
