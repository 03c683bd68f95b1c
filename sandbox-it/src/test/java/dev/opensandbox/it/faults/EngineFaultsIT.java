package dev.opensandbox.it.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.server.Main;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The whole server, started as {@code Main} starts it, with its {@code DOCKER_HOST} on an
 * {@link EngineFaultProxy} in front of the real engine and {@code [docker] api_timeout = 3}: the
 * engine gone, hung, slow, restarted and dropping a create's answer, and many long-running
 * commands. Every sandbox carries this class's {@code run} label and is removed after each test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EngineFaultsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String API_KEY = "engine-faults-it";
    private static final String IMAGE = System.getenv().getOrDefault("OPENSANDBOX_TEST_BUSYBOX_IMAGE",
        "opensandbox-test/busybox:latest");
    private static final Duration API_TIMEOUT = Duration.ofSeconds(3);
    /** What a call may take beyond its engine waits: the server's own work and this machine's load. */
    private static final Duration MARGIN = Duration.ofSeconds(3);
    /** Long-running commands held open at once; CI runs 50, {@code -Dopensandbox.it.commands=100} the full count. */
    private static final int COMMANDS = Integer.getInteger("opensandbox.it.commands", 50);

    private final String run = UUID.randomUUID().toString();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
    private EngineFaultProxy proxy;
    private Main.Server server;

    @BeforeAll
    void startServerBehindTheProxy(@TempDir Path directory) throws IOException {
        assumeTrue(docker("info").exit() == 0, "no Docker engine reachable: `docker info` failed");
        proxy = new EngineFaultProxy(directory, engineSocket());
        Main.Launch launch = launch(directory.resolve("server"), proxy);
        assertEquals(0, launch.exitCode(), "the server starts against a healthy engine");
        server = launch.server();
    }

    @AfterEach
    void engineBackAndSandboxesRemoved() throws IOException {
        proxy.pass();
        removeContainersOfRun();
    }

    @AfterAll
    void stopEverything() throws IOException {
        if (server != null) {
            server.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        removeContainersOfRun();
    }

    // ------------------------------------------------------------ faults

    @Test
    void aGoneEngineIsA503NamingTheEngineOnEveryRouteAndTheNextCallAfterItReturnsSucceeds() throws IOException {
        String id = createSandbox();
        proxy.gone();

        for (Call call : routes(id)) {
            Reply reply = call.send();
            assertEngineFault(reply, 503, "DOCKER::ENGINE_UNAVAILABLE", call);
        }

        proxy.pass();
        Reply back = new Call("GET", "/v1/sandboxes/" + id, null).send();
        assertEquals(200, back.status(), back.body());
        assertTrue(back.took().compareTo(Duration.ofSeconds(1)) < 0, "first call after the engine returned: " + back.took());
    }

    @Test
    void aHungEngineAnswersEveryCallWithinTheApiTimeoutAndHealthKeepsAnswering() throws IOException {
        String id = createSandbox();
        proxy.hang();

        CompletableFuture<Reply> pending = CompletableFuture.supplyAsync(() -> new Call("GET", "/v1/sandboxes", null).send());
        Reply health = new Call("GET", "/health", null).send();
        assertEquals(200, health.status(), "/health while the engine hangs: " + health.body());
        assertTrue(health.took().compareTo(Duration.ofSeconds(2)) < 0, "/health took " + health.took());
        assertEngineFault(pending.join(), 503, "DOCKER::ENGINE_TIMEOUT", new Call("GET", "/v1/sandboxes", null));

        for (Call call : routes(id)) {
            Reply reply = call.send();
            assertEngineFault(reply, 503, "DOCKER::ENGINE_TIMEOUT", call);
            // A create that failed is cleaned up by the core with a second engine call, which waits too.
            Duration bound = (call.method().equals("POST") ? API_TIMEOUT.multipliedBy(2) : API_TIMEOUT).plus(MARGIN);
            assertTrue(reply.took().compareTo(bound) < 0, call + " took " + reply.took() + ", bound " + bound);
        }

        proxy.pass();
        Reply back = new Call("GET", "/v1/sandboxes/" + id, null).send();
        assertEquals(200, back.status(), back.body());
        assertTrue(back.took().compareTo(Duration.ofSeconds(1)) < 0, "first call after the hang ended: " + back.took());
    }

    @Test
    void aSlowEngineStillServesEveryCall() {
        proxy.slow(Duration.ofMillis(300));

        String id = createSandbox();
        assertEquals(200, new Call("GET", "/v1/sandboxes/" + id, null).send().status());
        assertEquals(200, new Call("GET", "/v1/sandboxes/" + id + "/endpoints/8080", null).send().status());
        Reply deleted = new Call("DELETE", "/v1/sandboxes/" + id, null).send();
        assertEquals(204, deleted.status(), deleted.body());
    }

    @Test
    void afterAnEngineRestartTheNextCallsSucceedAtOnce() {
        String id = createSandbox();
        List<CompletableFuture<Reply>> overlapping = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            overlapping.add(CompletableFuture.supplyAsync(() -> new Call("GET", "/v1/sandboxes/" + id, null).send()));
        }
        overlapping.forEach(reply -> assertEquals(200, reply.join().status()));

        proxy.restart();

        Reply read = new Call("GET", "/v1/sandboxes/" + id, null).send();
        assertEquals(200, read.status(), read.body());
        assertTrue(read.took().compareTo(Duration.ofSeconds(1)) < 0, "first read after the restart: " + read.took());
        proxy.restart();
        Reply paused = new Call("POST", "/v1/sandboxes/" + id + "/pause", null).send();
        assertEquals(202, paused.status(), "a POST on the first connection after a restart: " + paused.body());
    }

    @Test
    void controlCallsStayFastWhileManyCommandsRunThroughTheBuiltInExecd() throws Exception {
        String id = createSandbox();
        List<CompletableFuture<HttpResponse<InputStream>>> commands = new ArrayList<>();
        try {
            for (int i = 0; i < COMMANDS; i++) {
                commands.add(http.sendAsync(request("/sandboxes/" + id + "/proxy/44772/command")
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"command\":\"sleep 45\"}")).build(),
                    HttpResponse.BodyHandlers.ofInputStream()));
            }
            for (CompletableFuture<HttpResponse<InputStream>> command : commands) {
                assertEquals(200, command.get(60, TimeUnit.SECONDS).statusCode(), "a command started");
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> sleepsRunningIn(id) >= COMMANDS);

            Duration slowest = Duration.ZERO;
            for (int i = 0; i < 5; i++) {
                Reply read = new Call("GET", "/v1/sandboxes/" + id, null).send();
                assertEquals(200, read.status(), read.body());
                slowest = read.took().compareTo(slowest) > 0 ? read.took() : slowest;
            }
            System.out.printf("engine-faults: GET /v1/sandboxes/{id} with %d commands running: slowest of 5 %d ms%n",
                COMMANDS, slowest.toMillis());
            assertTrue(slowest.compareTo(Duration.ofSeconds(2)) < 0, "GET with " + COMMANDS + " commands: " + slowest);
        } finally {
            new Call("DELETE", "/v1/sandboxes/" + id, null).send();
            for (CompletableFuture<HttpResponse<InputStream>> command : commands) {
                command.thenAccept(response -> closeQuietly(response.body()));
            }
        }
    }

    @Test
    void mainStartedAgainstAHungEngineExitsWithinTheApiTimeout(@TempDir Path elsewhere) throws IOException {
        try (EngineFaultProxy hung = new EngineFaultProxy(elsewhere, engineSocket())) {
            hung.hang();

            Main.Launch launch = assertTimeoutPreemptively(API_TIMEOUT.plus(MARGIN).plus(MARGIN),
                () -> launch(elsewhere.resolve("server"), hung));

            assertEquals(1, launch.exitCode());
            assertEquals(null, launch.server());
        }
    }

    @Test
    void aCreateWhoseAnswerIsDroppedLeavesNothingOnceTheEngineIsBack() throws IOException {
        // The engine makes the container, the answer is cut and the engine is gone, so the cleanup fails too.
        proxy.dropAnswerTo("POST /containers/create", 12, EngineFaultProxy.Mode.GONE);

        Reply failed = createRequest().send();

        assertEquals(503, failed.status(), failed.body());
        assertEquals("DOCKER::ENGINE_UNAVAILABLE", failed.json().path("code").asText(), failed.body());
        List<String> made = sandboxIdsOfRun();
        assertFalse(made.isEmpty(), "the engine made the container whose answer was dropped");
        proxy.pass();
        for (String id : made) {
            // The client was told the create failed: the sandbox is never shown, only kept as a tombstone.
            assertEquals(404, new Call("GET", "/v1/sandboxes/" + id, null).send().status());
            assertTrue(server.store().find(SandboxId.parse(id)).isPresent(), "the failed create's record is kept");
        }
        // The sweep runs every 2 s: the next passes remove the container the failed create left.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertEquals(List.of(), sandboxIdsOfRun(), "containers the failed create left"));
        System.out.printf("engine-faults: dropped create: the container it left was removed by reconcile%n");
    }

    // ------------------------------------------------------------ the server

    private static Path engineSocket() {
        String dockerHost = System.getenv().getOrDefault("DOCKER_HOST", "unix:///var/run/docker.sock");
        assumeTrue(dockerHost.startsWith("unix://"), "the fault proxy fronts a Unix socket engine; DOCKER_HOST=" + dockerHost);
        return Path.of(dockerHost.substring("unix://".length()));
    }

    private static Main.Launch launch(Path home, EngineFaultProxy engine) throws IOException {
        Files.createDirectories(home);
        Path config = home.resolve("config.toml");
        Files.writeString(config, String.join("\n",
            "[server]",
            "host = \"127.0.0.1\"",
            "port = " + freePort(),
            "api_key = \"" + API_KEY + "\"",
            "sweep_interval_seconds = 2",
            "[runtime]",
            "type = \"docker\"",
            "[docker]",
            "network_mode = \"bridge\"",
            "api_timeout = " + API_TIMEOUT.toSeconds(),
            "[store]",
            "type = \"sqlite\"",
            "path = \"" + home.resolve("store.db") + "\"",
            ""));
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("DOCKER_HOST", engine.dockerHost());
        env.remove("SANDBOX_CONFIG_PATH");
        return Main.launch(new String[] {"--config", config.toString()}, env, home, Clock.systemUTC());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    // ------------------------------------------------------------ calls

    private record Reply(int status, String body, Duration took) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + body, e);
            }
        }
    }

    /** A request to the server under test; {@link #send()} times it. */
    private final class Call {
        private final String method;
        private final String path;
        private final String body;

        Call(String method, String path, String body) {
            this.method = method;
            this.path = path;
            this.body = body;
        }

        String method() {
            return method;
        }

        Reply send() {
            HttpRequest.Builder builder = request(path).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            if (body != null) {
                builder.header("Content-Type", "application/json");
            }
            long started = System.nanoTime();
            try {
                HttpResponse<String> response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
                return new Reply(response.statusCode(), response.body(), Duration.ofNanos(System.nanoTime() - started));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .timeout(Duration.ofSeconds(60))
            .header("OPEN-SANDBOX-API-KEY", API_KEY);
    }

    private Call createRequest() {
        return new Call("POST", "/v1/sandboxes", "{\"image\":{\"uri\":\"" + IMAGE + "\"},\"entrypoint\":[\"sleep\",\"600\"],"
            + "\"resourceLimits\":{\"memory\":\"64Mi\"},\"timeout\":300,"
            + "\"metadata\":{\"suite\":\"engine-faults\",\"run\":\"" + run + "\"}}");
    }

    private String createSandbox() {
        Reply created = createRequest().send();
        assertEquals(202, created.status(), created.body());
        return created.json().path("id").asText();
    }

    /** What a client does with a sandbox, each needing the engine. */
    private List<Call> routes(String id) {
        return List.of(
            new Call("GET", "/v1/sandboxes/" + id, null),
            new Call("GET", "/v1/sandboxes", null),
            createRequest(),
            new Call("DELETE", "/v1/sandboxes/" + id, null),
            new Call("GET", "/v1/sandboxes/" + id + "/endpoints/8080", null));
    }

    private void assertEngineFault(Reply reply, int status, String code, Call call) {
        assertEquals(status, reply.status(), call + ": " + reply.body());
        assertEquals(code, reply.json().path("code").asText(), call + ": " + reply.body());
        String message = reply.json().path("message").asText();
        assertTrue(message.contains(proxy.dockerHost()), call + " names the engine: " + message);
    }

    // ------------------------------------------------------------ the engine, directly

    private List<String> sandboxIdsOfRun() {
        String out = docker("ps", "-a", "--filter", "label=run=" + run, "--filter", "label=opensandbox.io/id",
            "--format", "{{.Label \"opensandbox.io/id\"}}").out().trim();
        return out.isEmpty() ? List.of() : List.of(out.split("\\s+"));
    }

    private int sleepsRunningIn(String id) {
        String processes = docker("top", "sandbox-" + id, "-o", "pid,args").out();
        return (int) processes.lines().filter(line -> line.matches("\\s*\\d+\\s+sleep 45\\s*")).count();
    }

    private void removeContainersOfRun() {
        String left = docker("ps", "-aq", "--filter", "label=run=" + run).out().trim();
        if (!left.isEmpty()) {
            List<String> rm = new ArrayList<>(List.of("rm", "-f"));
            rm.addAll(List.of(left.split("\\s+")));
            docker(rm.toArray(String[]::new));
        }
    }

    private record Cli(int exit, String out) {
    }

    private static Cli docker(String... args) {
        List<String> command = new ArrayList<>(List.of("docker"));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out = process.getInputStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return new Cli(-1, "");
            }
            return new Cli(process.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Cli(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Cli(-1, "");
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // the command ended with its sandbox
        }
    }
}
