package dev.opensandbox.it.docker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Snapshots over HTTP on the real Docker engine: taken in the background from running and paused
 * sandboxes, restored with their files and without the source's injected labels and environment,
 * listed, and deleted together with their image.
 *
 * <p>Every sandbox (restored ones included) carries this class's {@code run} metadata label and is
 * removed after the class, and so is every snapshot image a test takes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SnapshotsOnDockerIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration COMMIT_LIMIT = Duration.ofSeconds(60);

    private final String run = UUID.randomUUID().toString();
    private final List<String> snapshots = new CopyOnWriteArrayList<>();
    private DockerServerStack stack;

    @BeforeAll
    void startServer(@TempDir Path dir) {
        assumeTrue(ServerOnDockerIT.docker("info").exit() == 0, "no Docker engine reachable: `docker info` failed");
        stack = new DockerServerStack(dir.resolve("store.db"), Map.of("network_mode", "bridge"), Duration.ofSeconds(5));
    }

    /** Sandboxes first: an image a container uses cannot be removed. */
    @AfterAll
    void removeEverything() {
        if (stack != null) {
            stack.close();
        }
        ServerOnDockerIT.removeContainersOfRun(run);
        for (String snapshot : snapshots) {
            ServerOnDockerIT.docker("rmi", "-f", image(snapshot));
        }
    }

    private static String image(String snapshotId) {
        return "opensandbox-snapshots:" + snapshotId;
    }

    private String createSandbox(String extra) {
        DockerServerStack.Reply reply = stack.call("POST", "/v1/sandboxes", "{\"image\":{\"uri\":\"" + ServerOnDockerIT.IMAGE
            + "\"},\"entrypoint\":[\"sleep\",\"3600\"],\"resourceLimits\":{\"cpu\":\"500m\",\"memory\":\"64Mi\"},"
            + "\"timeout\":600,\"metadata\":{\"suite\":\"snapshots\",\"run\":\"" + run + "\"}" + extra + "}");
        assertEquals(202, reply.status(), reply.body());
        return reply.json().get("id").asText();
    }

    /** A restore as a client sends it: the snapshot id, no image, no entrypoint, no timeout (manual cleanup). */
    private DockerServerStack.Reply restore(String snapshotId) {
        return stack.call("POST", "/v1/sandboxes", "{\"snapshotId\":\"" + snapshotId + "\","
            + "\"resourceLimits\":{\"cpu\":\"500m\",\"memory\":\"64Mi\"},\"metadata\":{\"run\":\"" + run + "\"}}");
    }

    private JsonNode snapshot(String sandboxId, String body) {
        DockerServerStack.Reply reply = stack.call("POST", "/v1/sandboxes/" + sandboxId + "/snapshots", body);
        assertEquals(202, reply.status(), reply.body());
        JsonNode accepted = reply.json();
        snapshots.add(accepted.get("id").asText());
        assertEquals(List.of("/v1/snapshots/" + accepted.get("id").asText()), reply.headers().get("location"));
        return accepted;
    }

    private JsonNode awaitReady(String snapshotId) {
        assertTrue(ServerOnDockerIT.waitUntil(COMMIT_LIMIT, () -> !stack.call("GET", "/v1/snapshots/" + snapshotId, null)
            .json().at("/status/state").asText().equals("Creating")), "the commit finished within " + COMMIT_LIMIT);
        JsonNode snapshot = stack.call("GET", "/v1/snapshots/" + snapshotId, null).json();
        assertEquals("Ready", snapshot.at("/status/state").asText(), snapshot.toString());
        return snapshot;
    }

    /** Runs a shell script through the built-in execd behind the proxy route; its stdout. */
    private String sh(String sandboxId, String script) {
        String body;
        try {
            body = JSON.writeValueAsString(Map.of("command", script));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        DockerServerStack.Reply reply = stack.call("POST", "/sandboxes/" + sandboxId + "/proxy/44772/command", body);
        assertEquals(200, reply.status(), reply.body());
        StringBuilder stdout = new StringBuilder();
        String lastType = "";
        for (String line : reply.body().split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode event = parse(line);
            lastType = event.path("type").asText();
            if (lastType.equals("stdout")) {
                stdout.append(event.path("text").asText());
            }
        }
        assertEquals("execution_complete", lastType, reply.body());
        return stdout.toString();
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode dockerInspect(String object) {
        ServerOnDockerIT.Cli inspect = ServerOnDockerIT.docker("inspect", object);
        assertEquals(0, inspect.exit(), inspect.err());
        return parse(inspect.out()).get(0);
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(item -> texts.add(item.asText()));
        return texts;
    }

    // ------------------------------------------------------------ take and restore

    @Test
    void aSnapshotOfARunningSandboxIsReadyAndARestoreHasItsFilesTheDefaultEntrypointAndNoStaleConfig() {
        String source = createSandbox(",\"env\":{\"FOO\":\"stale\"}");
        assertEquals("", sh(source, "mkdir -p /data && echo from-source > /data/state.txt"));

        JsonNode accepted = snapshot(source, "{\"name\":\"first\"}");
        assertEquals("Creating", accepted.at("/status/state").asText(), accepted.toString());
        assertEquals(source, accepted.get("sandboxId").asText());
        assertEquals("first", accepted.get("name").asText());
        String snapshotId = accepted.get("id").asText();
        JsonNode ready = awaitReady(snapshotId);
        assertEquals("snapshot_runtime_ready", ready.at("/status/reason").asText(), ready.toString());

        JsonNode imageLabels = dockerInspect(image(snapshotId)).at("/Config/Labels");
        assertEquals(snapshotId, imageLabels.path("opensandbox.io/snapshot-id").asText(), imageLabels.toString());
        assertEquals(source, imageLabels.path("opensandbox.io/source-sandbox-id").asText(), imageLabels.toString());

        DockerServerStack.Reply created = restore(snapshotId);
        assertEquals(202, created.status(), created.body());
        String restored = created.json().get("id").asText();

        JsonNode sandbox = stack.call("GET", "/v1/sandboxes/" + restored, null).json();
        assertEquals("Running", sandbox.at("/status/state").asText(), sandbox.toString());
        assertEquals(snapshotId, sandbox.path("snapshotId").asText(), sandbox.toString());
        assertTrue(sandbox.path("image").isMissingNode(), "a restored sandbox reports no image: " + sandbox);
        assertEquals(List.of("tail", "-f", "/dev/null"), texts(sandbox.get("entrypoint")));
        assertEquals(Map.of("run", run), JSON.convertValue(sandbox.get("metadata"), Map.class));
        assertTrue(sandbox.path("expiresAt").isMissingNode(), "no timeout: the source's expiry is not inherited: " + sandbox);
        assertEquals("from-source\n", sh(restored, "cat /data/state.txt"));
        assertFalse(sh(restored, "env").contains("FOO"), "the source's variable is not set in the restore");

        JsonNode config = dockerInspect("sandbox-" + restored).get("Config");
        assertEquals(List.of("tail", "-f", "/dev/null"), texts(config.get("Entrypoint")));
        assertFalse(texts(config.get("Env")).contains("FOO=stale"), config.get("Env").toString());
        JsonNode labels = config.get("Labels");
        assertEquals(restored, labels.path("opensandbox.io/id").asText());
        assertEquals(snapshotId, labels.path("opensandbox.io/snapshot-id").asText());
        assertEquals("true", labels.path("opensandbox.io/manual-cleanup").asText());
        for (String stale : List.of("opensandbox.io/expires-at", "suite")) {
            assertEquals("", labels.path(stale).asText(""), stale + " is not inherited: " + labels);
        }
    }

    @Test
    void aSnapshotOfAPausedSandboxIsReadyAndTheSandboxStaysPaused() {
        String source = createSandbox("");
        assertEquals(202, stack.call("POST", "/v1/sandboxes/" + source + "/pause", null).status());

        awaitReady(snapshot(source, null).get("id").asText());

        assertEquals("Paused", stack.call("GET", "/v1/sandboxes/" + source, null).json().at("/status/state").asText());
    }

    // ------------------------------------------------------------ delete

    @Test
    void deleteRemovesImageAndRecordAnImageInUseIsAConflictAndASecondDeleteIsNotFound() {
        String source = createSandbox("");
        String snapshotId = snapshot(source, "{}").get("id").asText();
        awaitReady(snapshotId);
        DockerServerStack.Reply created = restore(snapshotId);
        assertEquals(202, created.status(), created.body());

        DockerServerStack.Reply inUse = stack.call("DELETE", "/v1/snapshots/" + snapshotId, null);
        assertEquals(409, inUse.status(), inUse.body());
        assertEquals("SNAPSHOT::DELETE_CONFLICT", inUse.json().get("code").asText());
        assertEquals("snapshot image cannot be deleted due to a conflict", inUse.json().get("message").asText());
        assertEquals("Ready", stack.call("GET", "/v1/snapshots/" + snapshotId, null).json().at("/status/state").asText(),
            "not left in Deleting (W5)");
        assertEquals(0, ServerOnDockerIT.docker("image", "inspect", image(snapshotId)).exit());

        assertEquals(204, stack.call("DELETE", "/v1/sandboxes/" + created.json().get("id").asText(), null).status());
        DockerServerStack.Reply deleted = stack.call("DELETE", "/v1/snapshots/" + snapshotId, null);
        assertEquals(204, deleted.status(), deleted.body());

        assertNotEquals(0, ServerOnDockerIT.docker("image", "inspect", image(snapshotId)).exit(), "the image is gone");
        for (String method : List.of("GET", "DELETE")) {
            DockerServerStack.Reply gone = stack.call(method, "/v1/snapshots/" + snapshotId, null);
            assertEquals(404, gone.status(), method + " " + gone.body());
            assertEquals("SNAPSHOT::NOT_FOUND", gone.json().get("code").asText());
        }
        DockerServerStack.Reply restoreGone = restore(snapshotId);
        assertEquals(404, restoreGone.status(), restoreGone.body());
        assertEquals("SNAPSHOT::NOT_FOUND", restoreGone.json().get("code").asText());
    }

    // ------------------------------------------------------------ list and errors

    @Test
    void listFiltersBySourceSandboxAndExactStateNewestFirstAndPages() {
        String a = createSandbox("");
        String b = createSandbox("");
        String a1 = snapshot(a, null).get("id").asText();
        String a2 = snapshot(a, null).get("id").asText();
        String b1 = snapshot(b, null).get("id").asText();
        List.of(a1, a2, b1).forEach(this::awaitReady);

        assertEquals(List.of(a2, a1), ids("/v1/snapshots?sandboxId=" + a));
        assertEquals(List.of(b1), ids("/snapshots?sandboxId=" + b));
        assertEquals(List.of(a2, a1), ids("/v1/snapshots?sandboxId=" + a + "&state=Failed&state=Ready"));
        assertEquals(List.of(), ids("/v1/snapshots?sandboxId=" + a + "&state=Creating"));
        assertEquals(List.of(), ids("/v1/snapshots?sandboxId=" + a + "&state=ready"), "the state filter is case-sensitive");

        JsonNode first = stack.call("GET", "/v1/snapshots?sandboxId=" + a + "&page=1&pageSize=1", null).json();
        JsonNode second = stack.call("GET", "/v1/snapshots?sandboxId=" + a + "&page=2&pageSize=1", null).json();
        assertEquals(List.of(a2), first.get("items").findValuesAsText("id"));
        assertEquals(List.of(a1), second.get("items").findValuesAsText("id"));
        assertEquals(parse("{\"page\":1,\"pageSize\":1,\"totalItems\":2,\"totalPages\":2,\"hasNextPage\":true}"),
            first.get("pagination"));
        assertEquals(parse("{\"page\":2,\"pageSize\":1,\"totalItems\":2,\"totalPages\":2,\"hasNextPage\":false}"),
            second.get("pagination"));
    }

    private List<String> ids(String path) {
        DockerServerStack.Reply reply = stack.call("GET", path, null);
        assertEquals(200, reply.status(), reply.body());
        return reply.json().get("items").findValuesAsText("id");
    }

    @Test
    void aSnapshotOfAnUnknownSandboxIsNotFoundAndRecordsNothing() {
        String unknown = UUID.randomUUID().toString();

        DockerServerStack.Reply reply = stack.call("POST", "/v1/sandboxes/" + unknown + "/snapshots", "{\"name\":\"x\"}");

        assertEquals(404, reply.status(), reply.body());
        assertEquals("DOCKER::SANDBOX_NOT_FOUND", reply.json().get("code").asText());
        assertEquals(List.of(), ids("/v1/snapshots?sandboxId=" + unknown));
    }
}
