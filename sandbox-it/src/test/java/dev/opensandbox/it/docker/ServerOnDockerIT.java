package dev.opensandbox.it.docker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.core.SandboxId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The server end to end on the real Docker engine: every lifecycle route over HTTP, renewals that
 * survive a restart, adoption and expiry of containers labelled by the upstream server, and
 * creates that fail without leaving anything behind.
 */
class ServerOnDockerIT {

    static final String IMAGE = System.getenv().getOrDefault("OPENSANDBOX_TEST_BUSYBOX_IMAGE", "opensandbox-test/busybox:latest");
    private static final Map<String, Object> BRIDGE = Map.of("network_mode", "bridge");

    @TempDir
    Path dir;

    private final List<String> createdIds = new ArrayList<>();
    /** Carried as metadata by every sandbox this test creates, so checks never see other tests' containers. */
    private final String run = java.util.UUID.randomUUID().toString();
    private DockerServerStack stack;

    @BeforeAll
    static void requireEngine() {
        assumeTrue(docker("info").exit() == 0, "no Docker engine reachable: `docker info` failed");
    }

    @AfterEach
    void cleanUp() {
        if (stack != null) {
            stack.close();
        }
        for (String id : createdIds) {
            String containers = docker("ps", "-aq", "--filter", "label=opensandbox.io/id=" + id).out().trim();
            if (!containers.isEmpty()) {
                List<String> rm = new ArrayList<>(List.of("rm", "-f"));
                rm.addAll(List.of(containers.split("\\s+")));
                docker(rm.toArray(String[]::new));
            }
        }
    }

    private String createBody(int timeoutSeconds, String extra) {
        return "{\"image\":{\"uri\":\"" + IMAGE + "\"},\"entrypoint\":[\"sleep\",\"3600\"],"
            + "\"resourceLimits\":{\"cpu\":\"500m\",\"memory\":\"64Mi\"},\"timeout\":" + timeoutSeconds
            + ",\"metadata\":{\"suite\":\"server-on-docker\",\"run\":\"" + run + "\"}" + extra + "}";
    }

    private String create(String prefix, int timeoutSeconds) {
        DockerServerStack.Reply reply = stack.call("POST", prefix + "/sandboxes", createBody(timeoutSeconds, ""));
        assertEquals(202, reply.status(), reply.body());
        String id = reply.json().get("id").asText();
        createdIds.add(id);
        return id;
    }

    @Test
    void everyLifecycleRouteAnswersOnRealContainers() {
        stack = new DockerServerStack(dir.resolve("store.db"), BRIDGE, Duration.ofSeconds(5));
        for (String prefix : List.of("", "/v1")) {
            String id = create(prefix, 600);
            assertEquals(1, docker("ps", "-q", "--filter", "label=opensandbox.io/id=" + id).out().trim().lines().count(),
                "one running container carries the sandbox's label");

            JsonNode sandbox = stack.call("GET", prefix + "/sandboxes/" + id, null).json();
            assertEquals("Running", sandbox.at("/status/state").asText());
            assertEquals(IMAGE, sandbox.at("/image/uri").asText());
            assertEquals("server-on-docker", sandbox.at("/metadata/suite").asText());

            JsonNode page = stack.call("GET", prefix + "/sandboxes?metadata=suite%3Dserver-on-docker&state=running", null).json();
            assertTrue(page.get("items").findValuesAsText("id").contains(id), page.toString());

            JsonNode execd = stack.call("GET", prefix + "/sandboxes/" + id + "/endpoints/44772", null).json();
            assertTrue(execd.get("endpoint").asText().endsWith("/proxy/44772"), execd.toString());
            JsonNode http = stack.call("GET", prefix + "/sandboxes/" + id + "/endpoints/8080", null).json();
            assertTrue(http.get("endpoint").asText().matches("[^/]+:\\d+"), http.toString());

            DockerServerStack.Reply pause = stack.call("POST", prefix + "/sandboxes/" + id + "/pause", null);
            assertEquals(202, pause.status(), pause.body());
            assertEquals("Paused", stack.call("GET", prefix + "/sandboxes/" + id, null).json().at("/status/state").asText());
            assertEquals("true", docker("inspect", "-f", "{{.State.Paused}}", "sandbox-" + id).out().trim());
            DockerServerStack.Reply again = stack.call("POST", prefix + "/sandboxes/" + id + "/pause", null);
            assertEquals(409, again.status(), again.body());
            assertEquals("DOCKER::SANDBOX_NOT_RUNNING", again.json().get("code").asText());
            assertEquals(202, stack.call("POST", prefix + "/sandboxes/" + id + "/resume", null).status());
            assertEquals("Running", stack.call("GET", prefix + "/sandboxes/" + id, null).json().at("/status/state").asText());

            String renewed = Instant.now().plus(Duration.ofHours(2)).toString();
            DockerServerStack.Reply renew = stack.call("POST", prefix + "/sandboxes/" + id + "/renew-expiration",
                "{\"expiresAt\":\"" + renewed + "\"}");
            assertEquals(200, renew.status(), renew.body());

            JsonNode patched = stack.call("PATCH", prefix + "/sandboxes/" + id + "/metadata",
                "{\"suite\":null,\"team\":\"infra\"}").json();
            assertEquals("infra", patched.at("/metadata/team").asText());
            assertTrue(patched.at("/metadata/suite").isMissingNode(), patched.toString());

            DockerServerStack.Reply logs = stack.call("GET", prefix + "/sandboxes/" + id + "/diagnostics/logs", null);
            assertEquals(200, logs.status(), logs.body());

            DockerServerStack.Reply delete = stack.call("DELETE", prefix + "/sandboxes/" + id, null);
            assertEquals(204, delete.status(), delete.body());
            assertEquals("", docker("ps", "-aq", "--filter", "label=opensandbox.io/id=" + id).out().trim());
            DockerServerStack.Reply gone = stack.call("GET", prefix + "/sandboxes/" + id, null);
            assertEquals(404, gone.status());
            assertEquals("DOCKER::SANDBOX_NOT_FOUND", gone.json().get("code").asText());
            assertEquals(404, stack.call("DELETE", prefix + "/sandboxes/" + id, null).status());
        }
    }

    @Test
    void aRenewedExpirySurvivesAServerRestart() {
        Path database = dir.resolve("store.db");
        stack = new DockerServerStack(database, BRIDGE, Duration.ofSeconds(5));
        String id = create("/v1", 600);
        Instant renewed = Instant.now().plus(Duration.ofHours(3)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        assertEquals(200, stack.call("POST", "/v1/sandboxes/" + id + "/renew-expiration",
            "{\"expiresAt\":\"" + renewed + "\"}").status());
        stack.close();

        stack = new DockerServerStack(database, BRIDGE, Duration.ofSeconds(5));

        JsonNode sandbox = stack.call("GET", "/v1/sandboxes/" + id, null).json();
        assertEquals(renewed, Instant.parse(sandbox.get("expiresAt").asText()),
            "the container's label still says +600 s; the store's renewal must win");
        assertEquals(renewed, stack.sandboxes.expiry().deadlineOf(SandboxId.parse(id)).orElseThrow());
    }

    @Test
    void aContainerLabelledByTheUpstreamServerIsAdoptedAndExpiresOnTime() {
        String id = java.util.UUID.randomUUID().toString();
        createdIds.add(id);
        // Upstream writes Python's isoformat of the UTC expiry.
        String expiresAt = OffsetDateTime.now(ZoneOffset.UTC).plusSeconds(4)
            .format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSxxx"));
        Cli run = docker("run", "-d", "--name", "sandbox-" + id, "--label", "opensandbox.io/id=" + id,
            "--label", "opensandbox.io/expires-at=" + expiresAt, "--label", "team=upstream", IMAGE, "sleep", "3600");
        assertEquals(0, run.exit(), run.err());

        stack = new DockerServerStack(dir.resolve("store.db"), BRIDGE, Duration.ofSeconds(1));
        JsonNode adopted = stack.call("GET", "/v1/sandboxes/" + id, null).json();
        assertEquals("Running", adopted.at("/status/state").asText(), adopted.toString());
        assertEquals("upstream", adopted.at("/metadata/team").asText());
        assertEquals(OffsetDateTime.parse(expiresAt).toInstant(), Instant.parse(adopted.get("expiresAt").asText()));

        long start = System.nanoTime();
        assertTrue(waitUntil(Duration.ofSeconds(20), () -> docker("ps", "-aq", "--filter", "name=sandbox-" + id).out().isBlank()),
            "the adopted sandbox was removed at its expiry");
        long afterExpiryMillis = Duration.between(OffsetDateTime.parse(expiresAt).toInstant(), Instant.now()).toMillis();
        System.out.printf("adopted sandbox removed %d ms after its expiry (waited %d ms)%n", afterExpiryMillis,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        assertTrue(afterExpiryMillis < 5_000, "removed within the sweep period plus the removal time");
        assertTrue(stack.store.find(SandboxId.parse(id)).isEmpty(), "and its record is gone");
    }

    @Test
    void aFailedCreateLeavesNoContainerAndNoRecord() {
        stack = new DockerServerStack(dir.resolve("store.db"), BRIDGE, Duration.ofSeconds(5));

        // A registry on loopback port 9 (discard; nothing listens): the engine's pull fails at once
        // without sending anything off this machine.
        DockerServerStack.Reply badImage = stack.call("POST", "/v1/sandboxes",
            createBody(600, "").replace(IMAGE, "127.0.0.1:9/opensandbox-test/does-not-exist:nope"));
        assertEquals(500, badImage.status(), badImage.body());
        assertEquals("DOCKER::SANDBOX_IMAGE_PULL_FAILED", badImage.json().get("code").asText());

        DockerServerStack.Reply badLimits = stack.call("POST", "/v1/sandboxes", createBody(600, "").replace("64Mi", "1.5Gi"));
        assertEquals(400, badLimits.status(), badLimits.body());
        assertEquals("SANDBOX::INVALID_PARAMETER", badLimits.json().get("code").asText());

        assertEquals("", docker("ps", "-aq", "--filter", "label=run=" + run).out().trim(), "no container left");
        assertTrue(stack.store.findAll().stream().noneMatch(r -> run.equals(r.metadata().get("run"))), "no store row");
    }

    @Test
    void aCreateThatFailsWhenTheContainerStartsLeavesNoContainerAndNoRecord() {
        // Publishing on an address this machine does not have makes the engine fail at start,
        // after the container exists: the runtime must remove it again.
        stack = new DockerServerStack(dir.resolve("store.db"),
            Map.of("network_mode", "bridge", "port_bind_address", "192.0.2.199"), Duration.ofSeconds(5));
        DockerServerStack.Reply reply = stack.call("POST", "/v1/sandboxes", createBody(600, ""));

        assertEquals(500, reply.status(), reply.body());
        assertEquals("DOCKER::SANDBOX_START_FAILED", reply.json().get("code").asText());
        assertEquals("", docker("ps", "-aq", "--filter", "label=run=" + run).out().trim(), "no container left");
        assertTrue(stack.store.findAll().stream().noneMatch(r -> run.equals(r.metadata().get("run"))), "no store row");
    }

    // ------------------------------------------------------------ helpers

    record Cli(int exit, String out, String err) {
    }

    static Cli docker(String... args) {
        List<String> command = new ArrayList<>();
        command.add("docker");
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).start();
            byte[] out = process.getInputStream().readAllBytes();
            byte[] err = process.getErrorStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return new Cli(-1, "", "timed out: " + command);
            }
            return new Cli(process.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Cli(-1, "", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Cli(-1, "", e.toString());
        }
    }

    /** Force-removes every container labelled {@code run=<run>} (sandboxes carry their metadata as labels). */
    static void removeContainersOfRun(String run) {
        String left = docker("ps", "-aq", "--filter", "label=run=" + run).out().trim();
        if (!left.isEmpty()) {
            List<String> rm = new ArrayList<>(List.of("rm", "-f"));
            rm.addAll(List.of(left.split("\\s+")));
            docker(rm.toArray(String[]::new));
        }
    }

    static boolean waitUntil(Duration limit, BooleanSupplier condition) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return condition.getAsBoolean();
    }
}
