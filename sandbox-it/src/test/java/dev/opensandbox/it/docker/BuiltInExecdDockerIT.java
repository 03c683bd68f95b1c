package dev.opensandbox.it.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The execd API answered by the server itself (built-in execd) on the real Docker engine, through
 * the reverse-proxy route {@code /sandboxes/{id}/proxy/44772/...} with no API key: ping and the
 * endpoint route, commands streamed as events (foreground, background, interrupt, timeout), the
 * file and directory endpoints, metrics, the 501 areas, a paused sandbox, and secure access.
 *
 * <p>One sandbox (busybox, {@code sleep 3600}) serves every test; each test works on paths of its
 * own so the order does not matter. Every container carries this class's {@code run} metadata
 * label and is removed after the class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BuiltInExecdDockerIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final String run = UUID.randomUUID().toString();
    /** A plain client: the proxy route must answer without the API key. */
    private static final HttpClient HTTP = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();

    private DockerServerStack stack;
    private String id;

    /** The image of the sandbox every test uses; a subclass runs the same tests on another. */
    String image() {
        return ServerOnDockerIT.IMAGE;
    }

    @BeforeAll
    void startServerAndSandbox(@TempDir Path dir) {
        assumeTrue(ServerOnDockerIT.docker("info").exit() == 0, "no Docker engine reachable: `docker info` failed");
        stack = new DockerServerStack(dir.resolve("store.db"), Map.of("network_mode", "bridge"), Duration.ofSeconds(5));
        id = createSandbox("");
    }

    @AfterAll
    void removeEverything() {
        if (stack != null) {
            stack.close();
        }
        ServerOnDockerIT.removeContainersOfRun(run);
    }

    private String createSandbox(String extra) {
        DockerServerStack.Reply reply = stack.call("POST", "/v1/sandboxes",
            "{\"image\":{\"uri\":\"" + image() + "\"},\"entrypoint\":[\"sleep\",\"3600\"],"
                + "\"resourceLimits\":{\"cpu\":\"500m\",\"memory\":\"64Mi\"},\"timeout\":600,"
                + "\"metadata\":{\"suite\":\"built-in-execd\",\"run\":\"" + run + "\"}" + extra + "}");
        assertEquals(202, reply.status(), reply.body());
        return reply.json().get("id").asText();
    }

    // ------------------------------------------------------------ ping and endpoint

    @Test
    void pingAnswersWithoutApiKeyAndTheEndpointRoutePointsAtTheProxyRoute() {
        Response ping = execd("GET", "/ping");
        assertEquals(200, ping.status(), ping.text());

        DockerServerStack.Reply reply = stack.call("GET", "/v1/sandboxes/" + id + "/endpoints/44772", null);
        assertEquals(200, reply.status(), reply.body());
        String endpoint = reply.json().get("endpoint").asText();
        assertTrue(endpoint.endsWith("/sandboxes/" + id + "/proxy/44772"), endpoint);
        assertFalse(endpoint.contains("/v1/"), "the execd endpoint has no /v1 prefix: " + endpoint);

        Response viaEndpoint = send(request("http://" + endpoint + "/ping").GET());
        assertEquals(200, viaEndpoint.status(), viaEndpoint.text());
    }

    // ------------------------------------------------------------ foreground commands

    @Test
    void commandEventsAreJsonObjectsSeparatedByBlankLinesFromInitToExecutionComplete() {
        Response response = execd("POST", "/command", "{\"command\":\"echo out; echo err >&2; exit 0\"}");
        assertEquals(200, response.status(), response.text());
        String body = response.text();
        assertTrue(body.endsWith("\n\n"), "every event ends with a blank line: " + body);
        List<JsonNode> events = new ArrayList<>();
        for (String chunk : body.substring(0, body.length() - 2).split("\n\n", -1)) {
            assertFalse(chunk.isEmpty() || chunk.contains("\n"), "one JSON line per event: " + body);
            JsonNode event = parse(chunk);
            assertTrue(event.isObject(), chunk);
            if (!event.path("type").asText().equals("ping")) {
                events.add(event);
            }
        }

        JsonNode first = events.get(0);
        JsonNode last = events.get(events.size() - 1);
        assertAll(
            () -> assertEquals("init", first.path("type").asText(), body),
            () -> assertTrue(first.path("text").isTextual() && !first.path("text").asText().isEmpty(), body),
            () -> assertEquals("out\n", texts(events, "stdout"), body),
            () -> assertEquals("err\n", texts(events, "stderr"), body),
            () -> assertEquals("execution_complete", last.path("type").asText(), body),
            () -> assertTrue(last.path("execution_time").isNumber(), body));
    }

    @Test
    void aNonzeroExitEndsWithACommandExecErrorCarryingTheExitCode() {
        List<Event> events = command("{\"command\":\"exit 3\"}");
        JsonNode last = events.get(events.size() - 1).json();
        assertEquals("error", last.path("type").asText(), last.toString());
        assertEquals("CommandExecError", last.at("/error/ename").asText(), last.toString());
        assertEquals("3", last.at("/error/evalue").asText(), last.toString());
    }

    @Test
    void cwdEnvsAndUserApplyToTheCommand() {
        assertEquals("/tmp\n", stdout(command("{\"command\":\"pwd\",\"cwd\":\"/tmp\"}")));
        assertEquals("bar\n", stdout(command("{\"command\":\"echo $FOO\",\"envs\":{\"FOO\":\"bar\"}}")));
        assertEquals("1234\n1234\n", stdout(command("{\"command\":\"id -u; id -g\",\"uid\":1234,\"gid\":1234}")));
    }

    @Test
    void outputIsStreamedAsItIsWritten() {
        List<Event> stdout = command("{\"command\":\"echo first; sleep 2; echo second\"}").stream()
            .filter(e -> e.type().equals("stdout")).toList();
        assertEquals("first\nsecond\n", stdout.stream().map(e -> e.json().path("text").asText()).collect(Collectors.joining()));
        Event first = stdout.stream().filter(e -> e.json().path("text").asText().contains("first")).findFirst().orElseThrow();
        Event second = stdout.stream().filter(e -> e.json().path("text").asText().contains("second")).findFirst().orElseThrow();
        long gapMillis = (second.arrivedNanos() - first.arrivedNanos()) / 1_000_000;
        assertTrue(gapMillis >= 1000, "the first line reached the client " + gapMillis + " ms before the second (expected >= 1000)");
    }

    // ------------------------------------------------------------ background, interrupt, timeout

    @Test
    void aBackgroundCommandCompletesAtOnceAndKeepsStatusAndLogs() {
        long start = System.nanoTime();
        List<Event> events = command("{\"command\":\"echo bg; sleep 1; echo done\",\"background\":true}");
        long answeredMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(List.of("init", "execution_complete"), events.stream().map(Event::type).toList());
        assertTrue(answeredMillis < 900, "answered before the command ended, after " + answeredMillis + " ms");
        String commandId = events.get(0).json().path("text").asText();

        JsonNode running = execd("GET", "/command/status/" + commandId).json();
        assertTrue(running.path("running").asBoolean(), running.toString());
        assertTrue(ServerOnDockerIT.waitUntil(Duration.ofSeconds(10),
            () -> !execd("GET", "/command/status/" + commandId).json().path("running").asBoolean(true)),
            "the background command finished");
        JsonNode finished = execd("GET", "/command/status/" + commandId).json();
        assertEquals(0, finished.path("exit_code").asInt(-1), finished.toString());

        Response logs = execd("GET", "/command/" + commandId + "/logs");
        assertEquals(200, logs.status(), logs.text());
        assertEquals("bg\ndone\n", logs.text());
        assertEquals(List.of("8"), logs.headers().get("execd-commands-tail-cursor"), logs.headers().toString());
        Response tail = execd("GET", "/command/" + commandId + "/logs?cursor=3");
        assertEquals("done\n", tail.text());
    }

    @Test
    void anInterruptKillsTheCommandsWholeProcessGroup() {
        List<Event> events = command("{\"command\":\"sh -c 'sleep 300 & sleep 300; wait'\",\"background\":true}");
        String commandId = events.get(0).json().path("text").asText();
        assertTrue(ServerOnDockerIT.waitUntil(Duration.ofSeconds(10), () -> sleepers(psLines()) >= 2),
            "both sleeps started: " + psLines());

        Response interrupt = execd("DELETE", "/command?id=" + commandId);
        assertEquals(200, interrupt.status(), interrupt.text());
        assertTrue(ServerOnDockerIT.waitUntil(Duration.ofSeconds(10),
            () -> !execd("GET", "/command/status/" + commandId).json().path("running").asBoolean(true)),
            "the interrupted command is no longer running");
        JsonNode status = execd("GET", "/command/status/" + commandId).json();
        assertTrue(status.path("exit_code").isInt() && status.path("exit_code").asInt() != 0,
            "an interrupted command does not report success: " + status);
        List<String> left = psLines().stream().filter(line -> line.contains("sleep 300")).toList();
        assertEquals(List.of(), left, "no process of the interrupted group is left");
    }

    @Test
    void aForegroundCommandPastItsTimeoutEndsWithAnError() {
        long start = System.nanoTime();
        List<Event> events = command("{\"command\":\"sleep 30\",\"timeout\":1000}");
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        JsonNode last = events.get(events.size() - 1).json();
        assertEquals("error", last.path("type").asText(), last.toString());
        assertEquals("CommandExecError", last.at("/error/ename").asText(), last.toString());
        assertTrue(tookMillis < 8000, "ended " + tookMillis + " ms after the start, well before the sleep");
        System.out.printf("built-in execd: timeout of 1000 ms ended the command after %d ms with %s%n", tookMillis, last);
    }

    // ------------------------------------------------------------ files and directories

    @Test
    void anUploadedFileDownloadsWholeAndByRange() {
        byte[] content = {'h', 'e', 'l', 'l', 'o', 0, (byte) 0xff, '\n'};
        Response upload = upload("/tmp/up/a.txt", 600, content);
        assertEquals(200, upload.status(), upload.text());

        Response whole = execd("GET", "/files/download?path=" + q("/tmp/up/a.txt"));
        assertEquals(200, whole.status(), whole.text());
        assertArrayEquals(content, whole.body());
        String disposition = whole.header("content-disposition");
        assertNotNull(disposition, whole.headers().toString());
        assertTrue(disposition.contains("a.txt"), disposition);

        Response slice = send(execdRequest("/files/download?path=" + q("/tmp/up/a.txt")).header("Range", "bytes=2-4").GET());
        assertEquals(206, slice.status(), slice.text());
        assertEquals("bytes 2-4/8", slice.header("content-range"));
        assertArrayEquals(new byte[] {'l', 'l', 'o'}, slice.body());

        Response beyond = send(execdRequest("/files/download?path=" + q("/tmp/up/a.txt")).header("Range", "bytes=999-").GET());
        assertEquals(416, beyond.status(), beyond.text());
        assertTrue(beyond.json().path("code").isTextual() && beyond.json().path("message").isTextual(), beyond.text());
    }

    @Test
    void fileInfoReportsModeSizeTypeAndOwnerAndFollowsPermissionChangesAndRemoval() {
        String path = "/tmp/info/a.txt";
        assertEquals(200, upload(path, 600, "12345".getBytes(StandardCharsets.UTF_8)).status());

        JsonNode info = execd("GET", "/files/info?path=" + q(path)).json().path(path);
        assertAll(
            () -> assertEquals(600, info.path("mode").asInt(), info.toString()),
            () -> assertEquals(5, info.path("size").asLong(), info.toString()),
            () -> assertEquals("file", info.path("type").asText(), info.toString()),
            () -> assertEquals("root", info.path("owner").asText(), info.toString()));

        Response missing = execd("GET", "/files/info?path=" + q("/tmp/info/nope.txt"));
        assertEquals(404, missing.status(), missing.text());
        assertEquals("FILE_NOT_FOUND", missing.json().path("code").asText(), missing.text());

        Response chmod = execd("POST", "/files/permissions", "{\"" + path + "\":{\"mode\":644}}");
        assertEquals(200, chmod.status(), chmod.text());
        assertEquals(644, execd("GET", "/files/info?path=" + q(path)).json().path(path).path("mode").asInt());

        Response delete = execd("DELETE", "/files?path=" + q(path));
        assertEquals(200, delete.status(), delete.text());
        assertEquals(404, execd("GET", "/files/info?path=" + q(path)).status());
    }

    @Test
    void directoriesAreCreatedListedInOrderAndRemoved() {
        Response made = execd("POST", "/directories",
            "{\"/tmp/d1/d2\":{\"mode\":755},\"/tmp/d1/a\":{\"mode\":700},\"/tmp/d1/d2/x\":{\"mode\":755}}");
        assertEquals(200, made.status(), made.text());

        Response list = execd("GET", "/directories/list?path=" + q("/tmp/d1") + "&depth=2");
        assertEquals(200, list.status(), list.text());
        List<String> paths = new ArrayList<>();
        list.json().forEach(entry -> paths.add(entry.path("path").asText()));
        assertEquals(List.of("/tmp/d1/a", "/tmp/d1/d2", "/tmp/d1/d2/x"), paths, list.text());
        JsonNode d2 = list.json().get(1);
        assertEquals("directory", d2.path("type").asText(), d2.toString());
        assertEquals(755, d2.path("mode").asInt(), d2.toString());
        assertEquals(700, list.json().get(0).path("mode").asInt(), list.text());

        Response removed = execd("DELETE", "/directories?path=" + q("/tmp/d1"));
        assertEquals(200, removed.status(), removed.text());
        assertEquals(404, execd("GET", "/files/info?path=" + q("/tmp/d1")).status());
    }

    @Test
    void searchFindsByGlobAndMoveAndReplaceChangeTheFile() {
        assertEquals(200, upload("/tmp/search/a.txt", 644, "hello hello\n".getBytes(StandardCharsets.UTF_8)).status());
        assertEquals(200, upload("/tmp/search/b.log", 644, "x\n".getBytes(StandardCharsets.UTF_8)).status());

        Response found = execd("GET", "/files/search?path=" + q("/tmp/search") + "&pattern=" + q("*.txt"));
        assertEquals(200, found.status(), found.text());
        List<String> matches = new ArrayList<>();
        found.json().forEach(entry -> matches.add(entry.path("path").asText()));
        assertEquals(List.of("/tmp/search/a.txt"), matches, found.text());

        Response moved = execd("POST", "/files/mv", "[{\"src\":\"/tmp/search/a.txt\",\"dest\":\"/tmp/search/c.txt\"}]");
        assertEquals(200, moved.status(), moved.text());
        assertEquals(404, execd("GET", "/files/info?path=" + q("/tmp/search/a.txt")).status());

        Response replaced = execd("POST", "/files/replace?verbose=true",
            "{\"/tmp/search/c.txt\":{\"old\":\"hello\",\"new\":\"bye\"}}");
        assertEquals(200, replaced.status(), replaced.text());
        assertEquals(2, replaced.json().path("/tmp/search/c.txt").path("replacedCount").asInt(-1), replaced.text());
        assertEquals("bye bye\n", execd("GET", "/files/download?path=" + q("/tmp/search/c.txt")).text());

        assertEquals(200, execd("DELETE", "/directories?path=" + q("/tmp/search")).status());
    }

    // ------------------------------------------------------------ metrics, 501s, 404, paused

    @Test
    void metricsReportTheSandboxsResources() {
        Response response = execd("GET", "/metrics");
        assertEquals(200, response.status(), response.text());
        JsonNode metrics = response.json();
        System.out.printf("built-in execd: metrics of a 500m/64Mi sandbox: %s%n", metrics);
        double cpu = metrics.path("cpu_used_pct").asDouble(-1);
        assertAll(
            () -> assertTrue(metrics.path("cpu_count").asDouble() > 0, metrics.toString()),
            () -> assertTrue(metrics.path("mem_total_mib").asDouble() > 0, metrics.toString()),
            () -> assertTrue(cpu >= 0 && cpu <= 100, metrics.toString()),
            () -> assertTrue(metrics.path("timestamp").isNumber(), metrics.toString()));
    }

    @Test
    void metricsWatchStreamsOneJsonLinePerSecond() throws IOException {
        HttpRequest request = execdRequest("/metrics/watch").GET().build();
        List<JsonNode> lines = new ArrayList<>();
        long start = System.nanoTime();
        try {
            HttpResponse<InputStream> response = HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, response.statusCode());
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                while (lines.size() < 2) {
                    String line = reader.readLine();
                    assertNotNull(line, "the stream ended early after " + lines);
                    if (!line.isBlank()) {
                        lines.add(parse(line));
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(lines.get(1).path("timestamp").asLong() > lines.get(0).path("timestamp").asLong(), lines.toString());
        assertTrue(lines.stream().allMatch(l -> l.path("cpu_count").asDouble() > 0), lines.toString());
        assertTrue(elapsedMillis >= 900, "one line per second, not a burst: " + elapsedMillis + " ms for two");
    }

    @Test
    void codeIsNotImplementedAndUnknownPathsAreNotFound() {
        for (Response response : List.of(execd("POST", "/code", "{\"code\":\"print(1)\"}"), execd("GET", "/code/contexts"))) {
            assertEquals(501, response.status(), response.text());
            assertTrue(response.json().path("code").isTextual() && response.json().path("message").isTextual(), response.text());
        }
        Response unknown = execd("GET", "/no/such/route");
        assertEquals(404, unknown.status(), unknown.text());
        assertTrue(unknown.json().path("code").isTextual() && unknown.json().path("message").isTextual(), unknown.text());
    }

    @Test
    void aSessionKeepsItsDirectoryAndExportedEnvironmentFromRunToRun() {
        Response created = execd("POST", "/session", "{\"cwd\":\"/tmp\"}");
        assertEquals(200, created.status(), created.text());
        String session = created.json().path("session_id").asText();
        assertFalse(session.isEmpty(), created.text());
        String run = "/session/" + session + "/run";

        assertEquals("/tmp\n", stdout(command(run, "{\"command\":\"pwd\"}")));
        assertEquals("", stdout(command(run, "{\"command\":\"mkdir -p /tmp/s1 && cd /tmp/s1 && export GREETING=hello\"}")));
        assertEquals("/tmp/s1 hello\n", stdout(command(run, "{\"command\":\"echo $(pwd) $GREETING\"}")));
        List<Event> failed = command(run, "{\"command\":\"cd / && export GREETING=bye && exit 4\"}");
        assertEquals("4", failed.get(failed.size() - 1).json().path("error").path("evalue").asText(), failed.toString());
        assertEquals("/ bye\n", stdout(command(run, "{\"command\":\"echo $(pwd) $GREETING\"}")),
            "state is saved even when the command exits non-zero");
        assertEquals("/etc\n", stdout(command(run, "{\"command\":\"pwd\",\"cwd\":\"/etc\"}")), "a run's own cwd");

        Response other = execd("POST", "/session", "");
        assertEquals(200, other.status(), other.text());
        String second = other.json().path("session_id").asText();
        assertEquals("\n", stdout(command("/session/" + second + "/run", "{\"command\":\"echo $GREETING\"}")),
            "sessions do not share state");

        assertEquals(400, execd("POST", "/session", "{\"cwd\":\"/no/such/dir\"}").status());
        assertEquals(200, execd("DELETE", "/session/" + session).status());
        assertEquals(404, execd("DELETE", "/session/" + session).status());
        assertEquals(404, execd("POST", run, "{\"command\":\"pwd\"}").status());
        assertEquals(200, execd("DELETE", "/session/" + second).status());
    }

    @Test
    void aPausedSandboxAnswersConflictUntilResumed() {
        assertEquals(202, stack.call("POST", "/v1/sandboxes/" + id + "/pause", null).status());
        try {
            Response paused = execd("GET", "/ping");
            assertEquals(409, paused.status(), paused.text());
        } finally {
            assertEquals(202, stack.call("POST", "/v1/sandboxes/" + id + "/resume", null).status());
        }
        Response resumed = execd("GET", "/ping");
        assertEquals(200, resumed.status(), resumed.text());
    }

    // ------------------------------------------------------------ secure access

    @Test
    void aSecureAccessSandboxNeedsItsTokenOnTheExecdRoute() {
        String secure = createSandbox(",\"secureAccess\":true");
        try {
            JsonNode endpoint = stack.call("GET", "/v1/sandboxes/" + secure + "/endpoints/44772", null).json();
            String token = endpoint.at("/headers/OpenSandbox-Secure-Access").asText("");
            assertFalse(token.isEmpty(), endpoint.toString());
            String ping = "http://" + endpoint.get("endpoint").asText() + "/ping";

            Response without = send(request(ping).GET());
            assertEquals(401, without.status(), without.text());
            Response with = send(request(ping).header("OpenSandbox-Secure-Access", token).GET());
            assertEquals(200, with.status(), with.text());
        } finally {
            stack.call("DELETE", "/v1/sandboxes/" + secure, null);
        }
    }

    // ------------------------------------------------------------ helpers

    record Response(int status, Map<String, List<String>> headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        JsonNode json() {
            return parse(text());
        }

        String header(String name) {
            return headers.getOrDefault(name.toLowerCase(java.util.Locale.ROOT), List.of()).stream().findFirst().orElse(null);
        }
    }

    /** One event of a command's stream and when the client read it. */
    record Event(long arrivedNanos, JsonNode json) {
        String type() {
            return json.path("type").asText();
        }
    }

    private static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }

    private static String q(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private HttpRequest.Builder request(String url) {
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
    }

    private HttpRequest.Builder execdRequest(String pathAndQuery) {
        return request("http://127.0.0.1:" + stack.api.port() + "/sandboxes/" + id + "/proxy/44772" + pathAndQuery);
    }

    Response execd(String method, String pathAndQuery) {
        return send(execdRequest(pathAndQuery).method(method, HttpRequest.BodyPublishers.noBody()));
    }

    Response execd(String method, String pathAndQuery, String json) {
        return send(execdRequest(pathAndQuery).header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(json)));
    }

    static Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<byte[]> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Response(response.statusCode(), response.headers().map(), response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Runs a command and reads its events line by line as they arrive; keep-alive pings are left out. */
    List<Event> command(String body) {
        return command("/command", body);
    }

    List<Event> command(String path, String body) {
        HttpRequest request = execdRequest(path).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        try {
            HttpResponse<Stream<String>> response = HTTP.send(request, HttpResponse.BodyHandlers.ofLines());
            List<Event> events = new ArrayList<>();
            try (Stream<String> lines = response.body()) {
                lines.forEach(line -> {
                    if (!line.isBlank()) {
                        events.add(new Event(System.nanoTime(), parse(line)));
                    }
                });
            }
            assertEquals(200, response.statusCode(), events.toString());
            assertFalse(events.isEmpty(), "no events for " + body);
            assertEquals("init", events.get(0).type(), events.toString());
            return events.stream().filter(e -> !e.type().equals("ping")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String texts(List<JsonNode> events, String type) {
        return events.stream().filter(e -> e.path("type").asText().equals(type))
            .map(e -> e.path("text").asText()).collect(Collectors.joining());
    }

    static String stdout(List<Event> events) {
        JsonNode last = events.get(events.size() - 1).json();
        assertEquals("execution_complete", last.path("type").asText(), events.toString());
        return texts(events.stream().map(Event::json).toList(), "stdout");
    }

    private List<String> psLines() {
        return Arrays.asList(stdout(command("{\"command\":\"ps\"}")).split("\n"));
    }

    private static long sleepers(List<String> psLines) {
        return psLines.stream().filter(line -> line.strip().endsWith(" sleep 300")).count();
    }

    private Response upload(String path, int mode, byte[] content) {
        String boundary = "opensandbox-it-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        String metadata = "--" + boundary + "\r\n"
            + "Content-Disposition: form-data; name=\"metadata\"\r\n"
            + "Content-Type: application/json\r\n\r\n"
            + "{\"path\":\"" + path + "\",\"mode\":" + mode + "}\r\n";
        String file = "--" + boundary + "\r\n"
            + "Content-Disposition: form-data; name=\"file\"; filename=\"" + Path.of(path).getFileName() + "\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n";
        body.writeBytes(metadata.getBytes(StandardCharsets.UTF_8));
        body.writeBytes(file.getBytes(StandardCharsets.UTF_8));
        body.writeBytes(content);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return send(execdRequest("/files/upload").header("Content-Type", "multipart/form-data; boundary=" + boundary)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
    }
}
