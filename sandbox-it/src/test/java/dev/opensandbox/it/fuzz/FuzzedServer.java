package dev.opensandbox.it.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.it.fuzz.FuzzClient.Exchange;
import dev.opensandbox.it.fuzz.FuzzRequest.Header;
import org.awaitility.Awaitility;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server under fuzzing and its fixtures: the real server started by {@code Main} (in-memory
 * or Docker runtime, an API key, logs in files), with pre-created sandboxes so that valid ids
 * reach real handlers — one running (the usual target), one paused, one with secure access, one
 * whose entrypoint has exited, on Docker one stopped behind the server's back, and a scratch
 * sandbox for the routes that delete, pause, resume or change files — plus a snapshot, a
 * background command and a bash session.
 *
 * <p>After every exchange it checks what no single response shows: the stable fixtures are
 * still there in their state (a GET with {@code X-HTTP-Method-Override: DELETE} must not delete
 * anything), and no log line was forged by an encoded line break. It removes what a request
 * created, puts the scratch fixtures back, counts statuses and samples the JVM's live threads.
 */
final class FuzzedServer implements AutoCloseable {

    /**
     * Longer than any run: the client's pool keeps connections for minutes, and a POST sent on one
     * the server is just closing for idleness gets no answer (HTTP/1.1's keep-alive race, not a fault).
     */
    static final long KEEP_ALIVE_SECONDS = 3600;

    static final String API_KEY = "fuzz-api-key-" + UUID.randomUUID();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern TOKEN = Pattern.compile("\\{\\{([a-zA-Z]+)}}");
    private static final Pattern CREATED = Pattern.compile("^(?:/v1)?/sandboxes/?(?:\\?.*)?$");
    private static final Pattern SNAPSHOT_CREATED = Pattern.compile("^(?:/v1)?/sandboxes/[^/]+/snapshots/?(?:\\?.*)?$");

    private final LaunchedServer launched;
    private final FuzzClient client;
    private final Bodies.Scope scope;
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    private final List<String> createdSandboxes = new ArrayList<>();
    private final List<String> createdSnapshots = new ArrayList<>();
    private final Map<String, AtomicInteger> statuses = new TreeMap<>();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong exchangeMillis = new AtomicLong();
    private final Map<Path, Long> logOffsets = new LinkedHashMap<>();
    private final long startNanos = System.nanoTime();
    private int threadBaseline = -1;
    private int threadPeak;
    private final List<String> runningEntrypoint;

    private FuzzedServer(LaunchedServer launched, Bodies.Scope scope, Duration timeout, List<String> runningEntrypoint) {
        this.launched = launched;
        this.runningEntrypoint = runningEntrypoint;
        this.scope = scope;
        this.client = new FuzzClient(launched.port(), timeout);
        tokens.put("key", API_KEY);
        logOffsets.put(launched.serverLog(), 0L);
        logOffsets.put(launched.accessLog(), 0L);
    }

    /** The server on the in-memory runtime. */
    static FuzzedServer inMemory(Path dir) {
        String run = UUID.randomUUID().toString();
        LaunchedServer server = LaunchedServer.config(dir, "in-memory")
            .set("server", "api_key", LaunchedServer.quoted(API_KEY))
            .set("server", "timeout_keep_alive", Long.toString(KEEP_ALIVE_SECONDS))
            .start(Map.of(), Clock.systemUTC());
        FuzzedServer fuzzed = new FuzzedServer(server, new Bodies.Scope(false, "opensandbox-test/busybox:latest", run),
            Duration.ofSeconds(15), List.of("sleep", "3600"));
        try {
            fuzzed.createFixtures(List.of("sh", "-c", "exit 0"));
        } catch (RuntimeException e) {
            fuzzed.close();
            throw e;
        }
        return fuzzed;
    }

    /**
     * The server on the real engine in bridge mode (the proxy then dials only this test's
     * containers), with its sandboxes on an image tag of this run, so that everything the run
     * created can be found and removed even when a failed create left it unrecorded.
     */
    static FuzzedServer onDocker(Path dir, String baseImage) {
        String run = UUID.randomUUID().toString();
        String image = "opensandbox-test/fuzz-" + run.substring(0, 8) + ":latest";
        DockerCli.run("tag", baseImage, image).orFail();
        // Its own deployment: the server sees, adopts and reaps only what this run created.
        LaunchedServer server = LaunchedServer.config(dir, "docker")
            .set("deployment", "id", LaunchedServer.quoted("fuzz-" + run.substring(0, 8)))
            .set("server", "api_key", LaunchedServer.quoted(API_KEY))
            .set("server", "timeout_keep_alive", Long.toString(KEEP_ALIVE_SECONDS))
            .set("server", "sweep_interval_seconds", "3600")
            .set("docker", "network_mode", LaunchedServer.quoted("bridge"))
            .set("docker", "port_bind_address", LaunchedServer.quoted("127.0.0.1"))
            .set("docker", "api_timeout", "60")
            .start(Map.of(), Clock.systemUTC());
        FuzzedServer fuzzed = new FuzzedServer(server, new Bodies.Scope(true, image, run), Duration.ofSeconds(40),
            List.of("sleep", "3600"));
        try {
            fuzzed.createFixtures(List.of("true"));
            String stopped = fuzzed.createSandbox(List.of("sleep", "3600"), false);
            DockerCli.run("stop", "-t", "0", "sandbox-" + stopped).orFail();
            fuzzed.tokens.put("stopped", stopped);
        } catch (RuntimeException e) {
            fuzzed.close();
            throw e;
        }
        return fuzzed;
    }

    Bodies.Scope scope() {
        return scope;
    }

    LaunchedServer launched() {
        return launched;
    }

    SandboxService sandboxes() {
        return launched.server().sandboxes();
    }

    // ------------------------------------------------------------------ fixtures

    /**
     * On the real engine the running fixture serves HTTP on 8080, so that the proxy reaches a real
     * backend: one fixed answer to any request, marked with {@link ResponseRules#BACKEND_HEADER}.
     */
    private static final String BACKEND_SCRIPT = "#!/bin/sh\n"
        + "while IFS= read -r line; do [ \"$(printf %s \"$line\" | tr -d '\\r')\" = \"\" ] && break; done\n"
        + "printf 'HTTP/1.1 200 OK\\r\\n" + ResponseRules.BACKEND_HEADER + ": yes\\r\\nContent-Type: text/plain\\r\\n"
        + "Content-Length: 6\\r\\nConnection: close\\r\\n\\r\\nhello\\n'\n";

    private void startBackend(String sandbox) {
        try {
            String write = "mkdir -p /tmp/www && printf %s " + shellQuote(BACKEND_SCRIPT) + " > /tmp/backend.sh"
                + " && chmod +x /tmp/backend.sh";
            expect(200, call("POST", execd(sandbox, "command"), JSON.writeValueAsString(Map.of("command", write,
                "timeout", 10000))));
            expect(200, call("POST", execd(sandbox, "command"), JSON.writeValueAsString(Map.of(
                "command", "nc -ll -p 8080 -e /tmp/backend.sh", "background", true))));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Awaitility.await("backend of " + sandbox).pollDelay(Duration.ZERO).atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> call("GET", "/sandboxes/" + sandbox + "/proxy/8080/", null).header("x-fuzz-backend") != null);
    }

    private static String shellQuote(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }

    private void createFixtures(List<String> exitingEntrypoint) {
        String running = createSandbox(runningEntrypoint, false);
        tokens.put("running", running);
        if (scope.realEngine()) {
            startBackend(running);
        }
        String paused = createSandbox(List.of("sleep", "3600"), false);
        expect(202, call("POST", "/v1/sandboxes/" + paused + "/pause", null));
        tokens.put("paused", paused);
        String secure = createSandbox(List.of("sleep", "3600"), true);
        tokens.put("secure", secure);
        tokens.put("secureToken", sandboxes().accessToken(SandboxId.parse(secure)).orElseThrow());
        tokens.put("exited", createSandbox(exitingEntrypoint, false));
        seedFiles(running);
        tokens.put("command", backgroundCommand(running));
        // The in-memory runtime's small shell cannot host a bash session: then the session routes see an unknown id.
        Exchange session = call("POST", execd(running, "session"), "{}");
        tokens.put("session", session.status() == 200 ? json(session).path("session_id").asText() : "no-such-session");
        tokens.put("snapshot", createSnapshot(running));
        renewScratch();
        renewScratchSnapshot();
    }

    private String createSandbox(List<String> entrypoint, boolean secureAccess) {
        String body;
        try {
            body = "{\"image\":{\"uri\":\"" + scope.image() + "\"},\"entrypoint\":" + JSON.writeValueAsString(entrypoint)
                + ",\"timeout\":3600,\"resourceLimits\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"},"
                + "\"metadata\":{\"fuzz-run\":\"" + scope.run() + "\"},\"secureAccess\":" + secureAccess + "}";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        String id = json(expect(202, call("POST", "/v1/sandboxes", body))).path("id").asText();
        synchronized (createdSandboxes) {
            createdSandboxes.add(id);
        }
        return id;
    }

    private void seedFiles(String sandbox) {
        call("POST", execd(sandbox, "command"),
            "{\"command\":\"mkdir -p /tmp/fuzz/d && echo abc > /tmp/fuzz/a.txt\",\"timeout\":10000}");
    }

    private String backgroundCommand(String sandbox) {
        Exchange started = expect(200, call("POST", execd(sandbox, "command"),
            "{\"command\":\"echo background\",\"background\":true}"));
        Matcher id = Pattern.compile("\"text\"\\s*:\\s*\"([^\"]+)\"").matcher(started.bodyText());
        if (!id.find()) {
            throw new IllegalStateException("no command id in " + started);
        }
        return id.group(1);
    }

    private String createSnapshot(String sandbox) {
        String id = json(expect(202, call("POST", "/v1/sandboxes/" + sandbox + "/snapshots", "{\"name\":\"fixture\"}")))
            .path("id").asText();
        synchronized (createdSnapshots) {
            createdSnapshots.add(id);
        }
        Awaitility.await("snapshot " + id + " done").pollDelay(Duration.ZERO).atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(100))
            .until(() -> json(call("GET", "/v1/snapshots/" + id, null)).at("/status/state").asText(), state ->
                state.equals("Ready") || state.equals("Failed"));
        return id;
    }

    private void renewScratch() {
        String old = tokens.get("scratch");
        if (old != null) {
            removeQuietly(old);
        }
        String scratch = createSandbox(List.of("sleep", "3600"), false);
        seedFiles(scratch);
        tokens.put("scratch", scratch);
    }

    private void renewScratchSnapshot() {
        tokens.put("scratchSnapshot", createSnapshot(tokens.get("running")));
    }

    private static String execd(String sandbox, String path) {
        return "/sandboxes/" + sandbox + "/proxy/44772/" + path;
    }

    /** A request of the fixture itself (not counted, not checked). */
    Exchange call(String method, String path, String body) {
        List<Header> headers = new ArrayList<>(List.of(new Header(RequestArbitraries.KEY_HEADER, API_KEY)));
        if (body != null) {
            headers.add(new Header("Content-Type", "application/json"));
        }
        return client.send(FuzzRequest.of("fixture", method, path, headers, body));
    }

    private static Exchange expect(int status, Exchange exchange) {
        if (exchange.status() != status) {
            throw new IllegalStateException("fixture request failed, wanted " + status + ":\n" + exchange.sent() + "\n-> "
                + exchange);
        }
        return exchange;
    }

    private static JsonNode json(Exchange exchange) {
        try {
            return JSON.readTree(exchange.bodyText());
        } catch (IOException e) {
            return JSON.missingNode();
        }
    }

    // ------------------------------------------------------------------ exchanges

    /** The request with its fixture tokens replaced by today's ids, token and timestamps. */
    FuzzRequest resolve(FuzzRequest request) {
        List<Header> headers = request.headers().stream()
            .map(h -> new Header(resolve(h.name()), resolve(h.value()))).toList();
        byte[] body = request.body().length == 0 ? request.body()
            : resolve(new String(request.body(), StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1);
        return new FuzzRequest(request.family(), request.method(), resolve(request.target()), headers, body, request.framing(),
            request.version(), request.raw(), request.malformed());
    }

    private String resolve(String text) {
        if (!text.contains("{{")) {
            return text;
        }
        Matcher m = TOKEN.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String value = name.equals("future")
                ? Instant.now().plus(2, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString()
                : tokens.getOrDefault(name, m.group());
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Sends one generated request and checks every rule; the broken ones come back, each on one line. */
    Outcome exchange(FuzzRequest generated) {
        FuzzRequest request = resolve(generated);
        Exchange exchange = client.send(request);
        requests.incrementAndGet();
        noteSlow(exchange);
        exchangeMillis.addAndGet(exchange.millis());
        statuses.computeIfAbsent(exchange.status() < 0 ? "none" : exchange.status() / 100 + "xx", k -> new AtomicInteger())
            .incrementAndGet();
        List<String> broken = new ArrayList<>(ResponseRules.violations(exchange));
        broken.addAll(forgedLogLines());
        broken.addAll(fixturesIntact());
        cleanUpAfter(generated, exchange);
        if (scope.realEngine() && generated.method().equals("POST") && CREATED.matcher(exchange.sent().target()).matches()) {
            broken.addAll(leftoversOfCreate(exchange.status()));
        }
        sampleThreads();
        return new Outcome(exchange, broken);
    }

    /** One exchange and the rules it broke. */
    record Outcome(Exchange exchange, List<String> broken) {
        String report() {
            return "rules broken:\n  - " + String.join("\n  - ", broken) + "\n\nrequest:\n" + exchange.sent()
                + "\n\nresponse:\n" + exchange;
        }
    }

    /** Lines the server logged since the last exchange that start with the injected marker. */
    private List<String> forgedLogLines() {
        List<String> forged = new ArrayList<>();
        for (Map.Entry<Path, Long> log : logOffsets.entrySet()) {
            Path file = log.getKey();
            if (!Files.exists(file)) {
                continue;
            }
            try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
                long length = in.length();
                long from = Math.min(log.getValue(), length);
                byte[] fresh = new byte[(int) Math.min(length - from, 16 * 1024 * 1024)];
                in.seek(from);
                in.readFully(fresh);
                log.setValue(from + fresh.length);
                for (String line : new String(fresh, StandardCharsets.UTF_8).split("\r?\n|\r")) {
                    if (line.startsWith(Values.FORGED)) {
                        forged.add("forged log line in " + file.getFileName() + ": " + FuzzRequest.printable(line, 200));
                    }
                }
            } catch (IOException e) {
                forged.add("cannot read " + file + ": " + e);
            }
        }
        return forged;
    }

    /** The stable fixtures exist in their states; one that does not is reported and made again. */
    private List<String> fixturesIntact() {
        List<String> broken = new ArrayList<>();
        for (Map.Entry<String, SandboxState> fixture : Map.of("running", SandboxState.RUNNING, "paused", SandboxState.PAUSED,
            "secure", SandboxState.RUNNING).entrySet()) {
            String id = tokens.get(fixture.getKey());
            SandboxState state = stateOf(id, fixture.getValue());
            if (state != fixture.getValue() && state != null && scope.realEngine()) {
                // A snapshot pauses its container while the engine commits it: give the state time to come back.
                try {
                    Awaitility.await().pollDelay(Duration.ZERO).atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> stateOf(id, fixture.getValue()) == fixture.getValue());
                } catch (org.awaitility.core.ConditionTimeoutException stays) {
                    // reported below
                }
                state = stateOf(id, fixture.getValue());
            }
            if (state != fixture.getValue()) {
                broken.add("the request changed fixture sandbox '" + fixture.getKey() + "' (" + id + "): now "
                    + (state == null ? "gone" : state.wireName()) + ", was " + fixture.getValue().wireName());
                repair(fixture.getKey(), id, state);
            }
        }
        return broken;
    }

    /** The sandbox's state; null when it is gone; {@code expected} when the platform cannot say right now. */
    private SandboxState stateOf(String id, SandboxState expected) {
        try {
            return sandboxes().get(SandboxId.parse(id)).status().state();
        } catch (NotFoundException e) {
            return null;
        } catch (SandboxException e) {
            return expected;
        }
    }

    private void repair(String name, String id, SandboxState state) {
        if (state == SandboxState.PAUSED && name.equals("paused")) {
            return;
        }
        try {
            if (state == SandboxState.PAUSED) {
                sandboxes().resume(SandboxId.parse(id));
                return;
            }
            if (name.equals("paused") && state == SandboxState.RUNNING) {
                sandboxes().pause(SandboxId.parse(id));
                return;
            }
        } catch (SandboxException e) {
            // made again below
        }
        removeQuietly(id);
        String again = createSandbox(name.equals("running") ? runningEntrypoint : List.of("sleep", "3600"),
            name.equals("secure"));
        if (name.equals("paused")) {
            call("POST", "/v1/sandboxes/" + again + "/pause", null);
        }
        if (name.equals("secure")) {
            tokens.put("secureToken", sandboxes().accessToken(SandboxId.parse(again)).orElseThrow());
        }
        if (name.equals("running")) {
            seedFiles(again);
            if (scope.realEngine()) {
                startBackend(again);
            }
        }
        tokens.put(name, again);
    }

    /** Removes sandboxes a create made, records snapshots, and puts the scratch fixtures back when a request used them. */
    private void cleanUpAfter(FuzzRequest generated, Exchange exchange) {
        String target = exchange.sent().target();
        if (exchange.status() == 202 && generated.method().equals("POST") && CREATED.matcher(target).matches()) {
            String id = json(exchange).path("id").asText("");
            if (!id.isEmpty()) {
                synchronized (createdSandboxes) {
                    createdSandboxes.add(id);
                }
                awaitCreated(id);
                removeQuietly(id);
            }
        }
        if (exchange.status() == 202 && generated.method().equals("POST") && SNAPSHOT_CREATED.matcher(exchange.sent().path()).matches()) {
            String id = json(exchange).path("id").asText("");
            if (!id.isEmpty()) {
                synchronized (createdSnapshots) {
                    createdSnapshots.add(id);
                }
            }
        }
        String all = generated.target() + generated.headers() + new String(generated.body(), StandardCharsets.ISO_8859_1);
        if (all.contains("{{scratch}}")) {
            try {
                if (sandboxes().get(SandboxId.parse(tokens.get("scratch"))).status().state() != SandboxState.RUNNING) {
                    renewScratch();
                }
            } catch (SandboxException gone) {
                renewScratch();
            }
        }
        if (all.contains("{{scratchSnapshot}}") && exchange.status() == 204) {
            renewScratchSnapshot();
        }
    }

    /**
     * What a create left on the engine once its sandbox is gone again (a failed create must leave
     * nothing, a deleted sandbox no container): containers of this run's image that are no
     * fixture, and after a failed create volumes with this run's prefix. Reported, then removed.
     */
    private List<String> leftoversOfCreate(int status) {
        List<String> broken = new ArrayList<>();
        Set<String> fixtures = Set.copyOf(tokens.values());
        List<String> stray = new ArrayList<>();
        for (String line : DockerCli.run("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Image}} {{.Label \"opensandbox.io/id\"}}")
            .out().split("\n")) {
            String[] parts = line.trim().split(" ");
            if (parts.length >= 2 && parts[1].equals(scope.image()) && (parts.length < 3 || !fixtures.contains(parts[2]))) {
                stray.add(parts[0]);
                broken.add("a create answered " + status + " left container " + parts[0].substring(0, 12) + " (sandbox "
                    + (parts.length < 3 ? "?" : parts[2]) + ") on the engine");
            }
        }
        DockerCli.removeContainers(stray);
        for (String volume : DockerCli.run("volume", "ls", "-q", "--filter", "name=" + scope.volumePrefix()).out().split("\\s+")) {
            // After a successful create the volume may stay by design (deleteOnSandboxTermination false).
            if (volume.startsWith(scope.volumePrefix())) {
                if (status != 202) {
                    broken.add("a create answered " + status + " left volume " + volume + " on the engine");
                }
                DockerCli.run("volume", "rm", "-f", volume);
            }
        }
        return broken;
    }

    /** With {@code Prefer: respond-async} a create answers Pending and goes on: let it finish before removing it. */
    private void awaitCreated(String id) {
        try {
            Awaitility.await().pollDelay(Duration.ZERO).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .until(() -> stateOf(id, SandboxState.RUNNING) != SandboxState.PENDING);
        } catch (org.awaitility.core.ConditionTimeoutException stillPending) {
            // removed anyway; a container it leaves is reported by the leftover check
        }
    }

    private void removeQuietly(String id) {
        SandboxId.tryParse(id).ifPresent(sandbox -> {
            try {
                sandboxes().delete(sandbox);
            } catch (SandboxException e) {
                // already gone, or removed by the final clean-up
            }
        });
    }

    private final java.util.PriorityQueue<Exchange> slowest = new java.util.PriorityQueue<>(
        java.util.Comparator.comparingLong(Exchange::millis));

    private void noteSlow(Exchange exchange) {
        slowest.add(exchange);
        if (slowest.size() > 5) {
            slowest.poll();
        }
    }

    /** The five slowest exchanges, slowest first: where a run's time went. */
    String slowestExchanges() {
        return slowest.stream().sorted(java.util.Comparator.comparingLong(Exchange::millis).reversed())
            .map(e -> e.millis() + " ms:\n" + FuzzRequest.printable(e.sent().toString(), 600) + "\n-> "
                + FuzzRequest.printable(e.toString(), 400))
            .collect(java.util.stream.Collectors.joining("\n\n"));
    }

    private void sampleThreads() {
        int live = ManagementFactory.getThreadMXBean().getThreadCount();
        if (threadBaseline < 0) {
            threadBaseline = live;
        }
        threadPeak = Math.max(threadPeak, live);
    }

    int threadBaseline() {
        return threadBaseline;
    }

    int threadPeak() {
        return threadPeak;
    }

    /** The live threads by name, digits folded, most numerous first: what grew, when the bound is broken. */
    static String threadCensus() {
        Map<String, Integer> byName = new TreeMap<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            byName.merge(thread.getName().replaceAll("\\d+", "#"), 1, Integer::sum);
        }
        return byName.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(12)
            .map(e -> e.getValue() + " " + e.getKey()).toList().toString();
    }

    /** One line: requests, statuses, time, threads. */
    String summary() {
        return String.format("%d requests in %d s (%d s waiting for answers), statuses %s, %d sent again on a fresh "
                + "connection, JVM threads %d at start, %d at most, %d now", requests.get(),
            (System.nanoTime() - startNanos) / 1_000_000_000L, exchangeMillis.get() / 1000, statuses,
            client.resentOnAFreshConnection.get(), threadBaseline, threadPeak,
            ManagementFactory.getThreadMXBean().getThreadCount());
    }

    long requests() {
        return requests.get();
    }

    // ------------------------------------------------------------------ clean-up

    @Override
    public void close() {
        List<String> snapshots;
        synchronized (createdSnapshots) {
            snapshots = List.copyOf(createdSnapshots);
        }
        for (String snapshot : snapshots) {
            call("DELETE", "/v1/snapshots/" + snapshot, null);
        }
        List<String> sandboxIds;
        synchronized (createdSandboxes) {
            sandboxIds = List.copyOf(createdSandboxes);
        }
        sandboxIds.forEach(this::removeQuietly);
        client.close();
        launched.close();
        if (scope.realEngine()) {
            removeEverythingOfRun(sandboxIds, snapshots);
        }
    }

    /**
     * Removes from the engine what this run made and the server may have left: containers of the
     * run's image tag or with a recorded id, volumes with the run's prefix that the server created,
     * snapshot images of recorded snapshots, and the tag itself.
     */
    private void removeEverythingOfRun(List<String> sandboxIds, List<String> snapshots) {
        List<String> containers = new ArrayList<>();
        for (String line : DockerCli.run("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Image}}").out().split("\n")) {
            String[] parts = line.trim().split(" ");
            if (parts.length == 2 && parts[1].equals(scope.image())) {
                containers.add(parts[0]);
            }
        }
        for (String id : sandboxIds) {
            containers.addAll(DockerCli.containersLabelled("opensandbox.io/id", id));
        }
        DockerCli.removeContainers(containers.stream().distinct().toList());
        Set<String> volumes = Set.of(DockerCli.run("volume", "ls", "-q", "--filter", "label=opensandbox.io/volume-managed-by")
            .out().split("\\s+"));
        for (String volume : volumes) {
            if (volume.startsWith(scope.volumePrefix())) {
                DockerCli.run("volume", "rm", "-f", volume);
            }
        }
        for (String snapshot : snapshots) {
            DockerCli.run("rmi", "-f", "opensandbox-snapshots:" + snapshot);
        }
        DockerCli.run("rmi", scope.image());
    }
}
