package dev.opensandbox.it.docker;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The diagnostics routes on a real container: the engine's view with every secret masked, events
 * synthesized from the container state, the container's own output, the summary of all three,
 * and 501 for the structured API ({@code scope}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DiagnosticsOnDockerIT {

    private final String run = UUID.randomUUID().toString();
    private DockerServerStack stack;
    private String id;

    @BeforeAll
    void startServerAndSandbox(@TempDir Path dir) {
        assumeTrue(ServerOnDockerIT.docker("info").exit() == 0, "no Docker engine reachable: `docker info` failed");
        stack = new DockerServerStack(dir.resolve("store.db"), Map.of("network_mode", "bridge"), Duration.ofSeconds(5));
        DockerServerStack.Reply created = stack.call("POST", "/v1/sandboxes", "{\"image\":{\"uri\":\"" + ServerOnDockerIT.IMAGE
            + "\"},\"entrypoint\":[\"sh\",\"-c\",\"echo hello-from-the-entrypoint; echo oops >&2; sleep 3600\"],"
            + "\"env\":{\"API_TOKEN\":\"s3cret-value\",\"PLAIN\":\"visible-value\"},"
            + "\"resourceLimits\":{\"cpu\":\"500m\",\"memory\":\"64Mi\"},\"timeout\":600,"
            + "\"metadata\":{\"run\":\"" + run + "\",\"team\":\"diag\"}}");
        assertEquals(202, created.status(), created.body());
        id = created.json().get("id").asText();
    }

    @AfterAll
    void removeEverything() {
        if (stack != null) {
            stack.close();
        }
        ServerOnDockerIT.removeContainersOfRun(run);
    }

    private DockerServerStack.Reply get(String route) {
        return stack.call("GET", "/v1/sandboxes/" + id + "/diagnostics/" + route, null);
    }

    @Test
    void inspectShowsTheContainerWithEverySecretMasked() {
        DockerServerStack.Reply inspect = get("inspect");
        assertEquals(200, inspect.status(), inspect.body());
        String text = inspect.body();
        assertTrue(text.contains("Name: sandbox-" + id), text);
        assertTrue(text.contains("Image: " + ServerOnDockerIT.IMAGE), text);
        assertTrue(text.contains("Resources: cpu 0.5 cores, memory 64 MiB"), text);
        assertTrue(text.contains("  opensandbox.io/id=" + id), text);
        assertTrue(text.contains("  team=diag"), text);
        assertTrue(text.contains("  API_TOKEN=***"), text);
        assertTrue(text.contains("  PLAIN=***"), "environment values are masked unless allow-listed: " + text);
        assertTrue(text.contains("  PATH=/"), "PATH is on the default allow-list: " + text);
        assertFalse(text.contains("s3cret-value") || text.contains("visible-value"), "no value appears: " + text);
    }

    @Test
    void eventsAndLogsComeFromTheContainer() {
        DockerServerStack.Reply events = get("events");
        assertEquals(200, events.status(), events.body());
        assertTrue(events.body().contains(" Created") && events.body().contains(" Started"), events.body());
        assertEquals(List.of("true"), events.headers().get("deprecation"));

        String[] logs = {""};
        ServerOnDockerIT.waitUntil(Duration.ofSeconds(10), () -> (logs[0] = get("logs?tail=10&since=5m").body()).contains("oops"));
        assertTrue(logs[0].contains("hello-from-the-entrypoint") && logs[0].contains("oops"), "stdout and stderr: " + logs[0]);
    }

    @Test
    void theSummaryHoldsAllThreeAndScopeIsNotImplemented() {
        String summary = get("summary").body();
        assertTrue(summary.contains("=== INSPECT ===") && summary.contains("=== EVENTS ===")
            && summary.contains("=== LOGS ==="), summary);
        assertFalse(summary.contains("s3cret-value"), summary);

        DockerServerStack.Reply scoped = get("logs?scope=container");
        assertEquals(501, scoped.status(), scoped.body());
        assertEquals("DIAGNOSTICS_NOT_IMPLEMENTED", scoped.json().get("code").asText());
        DockerServerStack.Reply unknown = stack.call("GET", "/v1/sandboxes/" + UUID.randomUUID() + "/diagnostics/inspect", null);
        assertEquals(404, unknown.status(), unknown.body());
    }
}
