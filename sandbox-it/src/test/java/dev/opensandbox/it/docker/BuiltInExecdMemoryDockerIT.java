package dev.opensandbox.it.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opensandbox.server.execd.ExecdSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The built-in execd's memory on the real engine, through the whole in-process server: commands
 * with large output leave nothing on the heap once their sandbox is gone, background output stays
 * within its bounds while the sandbox lives, and a client that stops reading gets its command
 * interrupted rather than buffered. The heap figures are printed.
 *
 * <p>Counts: {@code -Dexecd.memory.commands} (default 50) foreground and
 * {@code -Dexecd.memory.background} (default 10) background commands, each printing 10 MiB.
 * Every container carries this class's {@code run} label and is removed after the class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BuiltInExecdMemoryDockerIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MIB = 1024 * 1024;
    private static final int COMMANDS = Integer.getInteger("execd.memory.commands", 50);
    private static final int BACKGROUND = Integer.getInteger("execd.memory.background", 10);
    private static final long OUTPUT_BYTES = 10L * MIB;
    /** Generous: the server's own pools and caches warm up too; what was kept before was 8 MiB per command. */
    private static final long HEAP_GROWTH_BOUND = 64L * MIB;
    /**
     * A write that makes no progress fails after the connection's idle timeout: Jetty's 30 s (the
     * listener is created after {@code ApiServer} sets its own idle timeout, so that setting does not reach it).
     */
    private static final Duration IDLE = Duration.ofSeconds(30);
    private static final HttpClient HTTP = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();

    private final String run = UUID.randomUUID().toString();
    private DockerServerStack stack;

    @BeforeAll
    void startServer(@TempDir Path dir) {
        assumeTrue(ServerOnDockerIT.docker("info").exit() == 0, "no Docker engine reachable: `docker info` failed");
        stack = new DockerServerStack(dir.resolve("store.db"), Map.of("network_mode", "bridge"), Duration.ofSeconds(5));
    }

    @AfterAll
    void removeEverything() {
        if (stack != null) {
            stack.close();
        }
        ServerOnDockerIT.removeContainersOfRun(run);
    }

    @Test
    void commandsWithLargeOutputLeaveNothingOnTheHeapOnceTheirSandboxIsGone() throws Exception {
        String id = createSandbox();
        assertEquals(OUTPUT_BYTES, streamedStdout(id, print(OUTPUT_BYTES)), "warm-up"); // loads classes, fills pools
        long baseline = heapAfterGc();

        long started = System.nanoTime();
        for (int i = 0; i < COMMANDS; i++) {
            assertEquals(OUTPUT_BYTES, streamedStdout(id, print(OUTPUT_BYTES)), "command " + i + " streamed whole");
        }
        double foregroundSeconds = (System.nanoTime() - started) / 1e9;
        long afterForeground = heapAfterGc();

        List<String> background = new ArrayList<>();
        for (int i = 0; i < BACKGROUND; i++) {
            background.add(startInBackground(id, print(OUTPUT_BYTES)));
        }
        for (String command : background) {
            assertTrue(ServerOnDockerIT.waitUntil(Duration.ofSeconds(60), () -> finished(id, command)),
                "background command " + command + " finished");
        }
        checkNewestLogs(id, background.get(background.size() - 1));
        long withBackground = heapAfterGc();

        DockerServerStack.Reply deleted = stack.call("DELETE", "/v1/sandboxes/" + id, null);
        assertEquals(204, deleted.status(), deleted.body());
        long afterDelete = heapAfterGc();

        System.out.printf("built-in execd heap after GC: baseline %.1f MiB; after %d x %d MiB foreground %.1f MiB"
                + " (%.1f s, %.0f MiB/s); after %d x %d MiB background %.1f MiB; after the sandbox was deleted %.1f MiB%n",
            mib(baseline), COMMANDS, OUTPUT_BYTES / MIB, mib(afterForeground), foregroundSeconds,
            COMMANDS * OUTPUT_BYTES / MIB / foregroundSeconds, BACKGROUND, OUTPUT_BYTES / MIB, mib(withBackground),
            mib(afterDelete));
        assertTrue(afterForeground - baseline < HEAP_GROWTH_BOUND,
            "foreground output is not kept: grew " + mib(afterForeground - baseline) + " MiB");
        assertTrue(withBackground - baseline < HEAP_GROWTH_BOUND
                + ExecdSettings.DEFAULT_MAX_LOG_BYTES_PER_SANDBOX,
            "background output within the per-sandbox bound: grew " + mib(withBackground - baseline) + " MiB");
        assertTrue(afterDelete - baseline < HEAP_GROWTH_BOUND,
            "nothing is left once the sandbox is gone: grew " + mib(afterDelete - baseline) + " MiB");
    }

    @Test
    void aClientThatStopsReadingGetsItsCommandInterruptedAfterTheIdleTimeout() throws Exception {
        String id = createSandbox();
        String body = "{\"command\":\"yes stalled-reader | head -c 2000000000\"}";
        long started = System.nanoTime();
        try (Socket socket = new Socket("127.0.0.1", stack.api.port())) {
            socket.getOutputStream().write(("POST /sandboxes/" + id + "/proxy/44772/command HTTP/1.1\r\n"
                + "Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n"
                + body).getBytes(StandardCharsets.US_ASCII));
            byte[] head = socket.getInputStream().readNBytes(12);
            assertEquals("HTTP/1.1 200", new String(head, StandardCharsets.US_ASCII), "the stream started");
            assertTrue(ServerOnDockerIT.waitUntil(Duration.ofSeconds(10), () -> ps(id).contains("yes stalled-reader")),
                "the command runs");
            // Read nothing more: the socket buffers fill, the server's write stalls, the idle timeout fails it.
            assertTrue(ServerOnDockerIT.waitUntil(IDLE.multipliedBy(2), () -> !ps(id).contains("yes stalled-reader")),
                "the command was interrupted; still running: " + ps(id));
        }
        System.out.printf("built-in execd: a stalled reader's command was gone %.1f s after it started (idle timeout %d s)%n",
            (System.nanoTime() - started) / 1e9, IDLE.toSeconds());
    }

    @Test
    void clientMistakesOnFilesAndCommandsAreClientErrors() {
        String id = createSandbox();
        HttpResponse<byte[]> missingSource = execd(id, "POST", "/files/mv",
            "[{\"src\":\"/tmp/no-such-file\",\"dest\":\"/tmp/elsewhere\"}]");
        assertEquals(404, missingSource.statusCode(), text(missingSource));
        assertEquals("FILE_NOT_FOUND", json(missingSource).path("code").asText());

        assertEquals(0, streamedStdout(id, "echo x > /tmp/movable"));
        HttpResponse<byte[]> missingTarget = execd(id, "POST", "/files/mv",
            "[{\"src\":\"/tmp/movable\",\"dest\":\"/tmp/no-such-dir/movable\"}]");
        assertEquals(404, missingTarget.statusCode(), text(missingTarget));
        assertTrue(json(missingTarget).path("message").asText().contains("/tmp/no-such-dir"), text(missingTarget));

        HttpResponse<byte[]> ontoDirectory = execd(id, "POST", "/files/mv", "[{\"src\":\"/tmp\",\"dest\":\"/tmp/movable\"}]");
        assertEquals(400, ontoDirectory.statusCode(), text(ontoDirectory));

        HttpResponse<byte[]> tooLong = execd(id, "POST", "/command", "{\"command\":\"echo " + "a".repeat(200_000) + "\"}");
        assertEquals(400, tooLong.statusCode(), text(tooLong));
        HttpResponse<byte[]> nulInEnv = execd(id, "POST", "/command", "{\"command\":\"true\",\"envs\":{\"A\":\"x\\u0000y\"}}");
        assertEquals(400, nulInEnv.statusCode(), text(nulInEnv));
        HttpResponse<byte[]> emptyName = execd(id, "POST", "/command", "{\"command\":\"true\",\"envs\":{\"\":\"x\"}}");
        assertEquals(400, emptyName.statusCode(), text(emptyName));
    }

    // ------------------------------------------------------------ helpers

    /** In a method of its own, so that the 8 MiB read is unreachable when the heap is measured. */
    private void checkNewestLogs(String id, String command) {
        HttpResponse<byte[]> logs = execd(id, "GET", "/command/" + command + "/logs?cursor=0", null);
        assertEquals(200, logs.statusCode());
        assertEquals(List.of(Long.toString(OUTPUT_BYTES)), logs.headers().allValues("EXECD-COMMANDS-TAIL-CURSOR"),
            "the cursor counts every byte printed");
        assertTrue(logs.body().length <= ExecdSettings.DEFAULT_MAX_LOG_BYTES_PER_COMMAND
                && logs.body().length > ExecdSettings.DEFAULT_MAX_LOG_BYTES_PER_COMMAND / 2,
            "kept the newest bytes up to the per-command bound: " + logs.body().length);
    }

    private String createSandbox() {
        DockerServerStack.Reply reply = stack.call("POST", "/v1/sandboxes",
            "{\"image\":{\"uri\":\"" + ServerOnDockerIT.IMAGE + "\"},\"entrypoint\":[\"sleep\",\"3600\"],"
                + "\"resourceLimits\":{\"cpu\":\"1\",\"memory\":\"128Mi\"},\"timeout\":900,"
                + "\"metadata\":{\"suite\":\"built-in-execd-memory\",\"run\":\"" + run + "\"}}");
        assertEquals(202, reply.status(), reply.body());
        return reply.json().get("id").asText();
    }

    private static String print(long bytes) {
        return "yes | head -c " + bytes;
    }

    private HttpResponse<byte[]> execd(String id, String method, String path, String body) {
        HttpRequest request = HttpRequest.newBuilder(execdUri(id, path)).timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json")
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
            .build();
        return send(request, HttpResponse.BodyHandlers.ofByteArray());
    }

    private static <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body) {
        try {
            return HTTP.send(request, body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private URI execdUri(String id, String path) {
        return URI.create("http://127.0.0.1:" + stack.api.port() + "/sandboxes/" + id + "/proxy/44772" + path);
    }

    /** Runs a foreground command and counts the stdout it streams, reading the events as they come. */
    private long streamedStdout(String id, String command) {
        HttpRequest request = HttpRequest.newBuilder(execdUri(id, "/command")).timeout(Duration.ofSeconds(120))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(JSON.createObjectNode().put("command", command).toString()))
            .build();
        HttpResponse<InputStream> response = send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        long stdout = 0;
        String last = null;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode event = JSON.readTree(line);
                last = event.path("type").asText();
                if (last.equals("stdout")) {
                    stdout += event.path("text").asText().length();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertEquals("execution_complete", last, "the command succeeded: " + command.substring(0, Math.min(60, command.length())));
        return stdout;
    }

    private String startInBackground(String id, String command) {
        HttpResponse<byte[]> response = execd(id, "POST", "/command",
            JSON.createObjectNode().put("command", command).put("background", true).toString());
        assertEquals(200, response.statusCode(), text(response));
        try {
            return JSON.readTree(text(response).split("\n")[0]).path("text").asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private boolean finished(String id, String command) {
        return !json(execd(id, "GET", "/command/status/" + command, null)).path("running").asBoolean(true);
    }

    private String ps(String id) {
        HttpResponse<byte[]> response = execd(id, "POST", "/command", "{\"command\":\"ps\"}");
        StringBuilder out = new StringBuilder();
        for (String line : text(response).split("\n")) {
            if (!line.isBlank()) {
                JsonNode event = parse(line);
                if (event.path("type").asText().equals("stdout")) {
                    out.append(event.path("text").asText());
                }
            }
        }
        // The ps command's own line names what it greps for only through its parent shell: drop it.
        return out.toString().lines().filter(l -> !l.contains(" ps")).reduce("", (a, b) -> a + b + "\n");
    }

    private static String text(HttpResponse<byte[]> response) {
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    private static JsonNode json(HttpResponse<byte[]> response) {
        return parse(text(response));
    }

    private static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }

    /** Heap in use after full collections: the lowest of several tries, so that a collection in flight does not count. */
    private static long heapAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long lowest = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            lowest = Math.min(lowest, memory.getHeapMemoryUsage().getUsed());
        }
        return lowest;
    }

    private static double mib(long bytes) {
        return bytes / (double) MIB;
    }
}
