package dev.opensandbox.it.load;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.it.reliability.Api;
import dev.opensandbox.it.reliability.Engine;
import dev.opensandbox.it.reliability.InProcessServer;
import dev.opensandbox.it.reliability.ReliabilityRun;
import dev.opensandbox.it.reliability.Scale;
import dev.opensandbox.it.reliability.ServerToml;
import dev.opensandbox.it.reliability.StoreRows;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many clients at once over a few sandboxes on the real engine, against the whole server in this
 * JVM: creates, deletes, renewals, pauses, resumes and metadata patches racing each other on the
 * same sandboxes for a bounded time and a bounded number of requests.
 *
 * <p>It checks: no 5xx and no failed connection; every acknowledged renewal is what a GET right
 * after it reports, unless another renewal or a delete of the same sandbox overlapped it or came
 * later (operations are recorded per sandbox with the times they were sent and answered, so "later"
 * means sent after the other was acknowledged); and once the clients have stopped, every
 * sandbox is where the acknowledged operations left it — gone after an acknowledged delete, else
 * there with the expiry, pause state and metadata of its last acknowledged operations — and the
 * containers, the store's rows and the API's listing name exactly those sandboxes.
 */
class ConcurrentClientsIT extends ReliabilityRun {

    private static final String SLOT_KEY = "reliability-slot";
    private static final int PATCHED_KEYS = 4;

    private InProcessServer server;

    @Override
    protected void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    private enum Kind { CREATE, DELETE, RENEW, PAUSE, RESUME, PATCH, GET }

    /**
     * One request to one sandbox: when it was sent and answered (nanoTime; 0 while in flight), its
     * status (0 while in flight, -1 for no answer) and the value it set (expiry, metadata key=value).
     */
    private static final class Op {
        final Kind kind;
        final String key;
        final String value;
        final long sent = System.nanoTime();
        volatile long answered;
        volatile int status;
        volatile String result;

        Op(Kind kind, String key, String value) {
            this.kind = kind;
            this.key = key;
            this.value = value;
        }

        boolean acknowledged() {
            return switch (kind) {
                case CREATE, PAUSE, RESUME -> status == 202;
                case DELETE -> status == 204;
                case RENEW, PATCH, GET -> status == 200;
            };
        }

        /** Sent after {@code other} was acknowledged. */
        boolean after(Op other) {
            return other.answered != 0 && sent > other.answered;
        }
    }

    /** A sandbox slot: at most one live sandbox, re-created after an acknowledged delete. */
    private static final class Slot {
        final int number;
        final AtomicReference<String> id = new AtomicReference<>();
        final AtomicBoolean creating = new AtomicBoolean();

        Slot(int number) {
            this.number = number;
        }
    }

    private final Map<String, List<Op>> history = new ConcurrentHashMap<>();
    private final Map<Kind, LongAdder> sent = new EnumMap<>(Kind.class);
    private final Problems problems = new Problems();
    private final LongAdder serverErrors = new LongAdder();
    private final LongAdder renewalsReadBack = new LongAdder();
    private final LongAdder lostRenewals = new LongAdder();
    private final LongAdder staleReadsDuringDelete = new LongAdder();
    private String finalCounts = "";
    private final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();

    /** The first problems seen, in words (kept short: the rest are only counted). */
    private static final class Problems {
        final ConcurrentLinkedQueue<String> items = new ConcurrentLinkedQueue<>();
        final AtomicInteger count = new AtomicInteger();

        void add(String problem) {
            if (count.incrementAndGet() <= 30) {
                items.add(problem);
            }
        }
    }

    @Test
    void manyClientsOverFewSandboxesLoseNothingAndLeaveConsistentState() throws InterruptedException {
        int clients = Scale.count("load.clients", 40, 200);
        int sandboxes = Scale.count("load.sandboxes", 10, 50);
        int seconds = Scale.count("load.seconds", 20, 60);
        int maxRequests = Scale.count("load.maxRequests", 20_000, 200_000);
        for (Kind kind : Kind.values()) {
            sent.put(kind, new LongAdder());
        }
        server = InProcessServer.start(dir, 2, Duration.ofSeconds(60));
        Path serverLog = server.log();
        Api api = server.api();
        List<Slot> slots = new ArrayList<>();
        for (int i = 0; i < sandboxes; i++) {
            slots.add(new Slot(i));
        }

        long began = System.nanoTime();
        long deadline = began + TimeUnit.SECONDS.toNanos(seconds);
        AtomicInteger budget = new AtomicInteger(maxRequests);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        for (int c = 0; c < clients; c++) {
            pool.execute(() -> {
                while (System.nanoTime() < deadline && budget.decrementAndGet() >= 0) {
                    Slot slot = slots.get(ThreadLocalRandom.current().nextInt(slots.size()));
                    step(api, slot);
                    sleep(ThreadLocalRandom.current().nextInt(20));
                }
            });
        }
        pool.shutdown();
        boolean stopped = pool.awaitTermination(seconds + 120L, TimeUnit.SECONDS);
        long loadNanos = System.nanoTime() - began;
        assertTrue(stopped, "clients still busy 120 s after the load ended");

        List<String> finalProblems = checkFinalState(api);
        long requests = sent.values().stream().mapToLong(LongAdder::sum).sum();
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        long p50 = percentile(sorted, 0.50);
        long p99 = percentile(sorted, 0.99);
        System.out.printf("load (%s): %d clients over %d sandboxes for %d s: %d requests (%s), %d 5xx, %d renewals read back, "
                + "%d lost (%d read during a delete), latency p50 %d ms p99 %d ms; final %s; %d problems%n", Scale.label(), clients, sandboxes, loadNanos / 1_000_000_000L, requests,
            sent.entrySet().stream().map(e -> e.getKey().name().toLowerCase() + " " + e.getValue().sum())
                .collect(Collectors.joining(", ")), serverErrors.sum(), renewalsReadBack.sum(), lostRenewals.sum(), staleReadsDuringDelete.sum(),
            p50 / 1_000_000, p99 / 1_000_000, finalCounts, problems.count.get() + finalProblems.size());

        List<String> all = new ArrayList<>(problems.items);
        all.addAll(finalProblems);
        assertTrue(all.isEmpty(), (problems.count.get() + finalProblems.size()) + " problems, the first ones:\n"
            + String.join("\n", all.subList(0, Math.min(all.size(), 40))) + "\nserver log: " + serverLog + "\n"
            + ServerToml.tail(serverLog, 20));
    }

    private static long percentile(List<Long> sorted, double fraction) {
        return sorted.isEmpty() ? 0 : sorted.get((int) Math.min(sorted.size() - 1, Math.floor(sorted.size() * fraction)));
    }

    // ------------------------------------------------------------------ one client step

    private void step(Api api, Slot slot) {
        String id = slot.id.get();
        if (id == null) {
            if (slot.creating.compareAndSet(false, true)) {
                try {
                    create(api, slot);
                } finally {
                    slot.creating.set(false);
                }
            }
            return;
        }
        int dice = ThreadLocalRandom.current().nextInt(100);
        if (dice < 30) {
            renew(api, id);
        } else if (dice < 42) {
            send(api, id, new Op(Kind.PAUSE, null, null), "POST", "/v1/sandboxes/" + id + "/pause", null);
        } else if (dice < 54) {
            send(api, id, new Op(Kind.RESUME, null, null), "POST", "/v1/sandboxes/" + id + "/resume", null);
        } else if (dice < 80) {
            String key = "k" + ThreadLocalRandom.current().nextInt(PATCHED_KEYS);
            String value = ThreadLocalRandom.current().nextInt(4) == 0 ? null : "v" + ThreadLocalRandom.current().nextInt(1000);
            send(api, id, new Op(Kind.PATCH, key, value), "PATCH", "/v1/sandboxes/" + id + "/metadata",
                "{\"" + key + "\":" + (value == null ? "null" : "\"" + value + "\"") + "}");
        } else if (dice < 95) {
            send(api, id, new Op(Kind.GET, null, null), "GET", "/v1/sandboxes/" + id, null);
        } else {
            Op delete = new Op(Kind.DELETE, null, null);
            send(api, id, delete, "DELETE", "/v1/sandboxes/" + id, null);
            if (delete.acknowledged()) {
                slot.id.compareAndSet(id, null);
            }
        }
    }

    private void create(Api api, Slot slot) {
        String body = "{\"image\":{\"uri\":\"" + ServerToml.BUSYBOX + "\"},\"entrypoint\":[\"sleep\",\"3600\"],"
            + "\"resourceLimits\":{\"cpu\":\"250m\",\"memory\":\"32Mi\"},\"timeout\":900,"
            + "\"metadata\":{\"" + RUN_KEY + "\":\"" + run + "\",\"" + SLOT_KEY + "\":\"s" + slot.number + "\"}}";
        Op op = new Op(Kind.CREATE, null, null);
        Api.Reply reply = exchange(api, op, "POST", "/v1/sandboxes", body);
        if (reply != null && op.acknowledged()) {
            JsonNode created = reply.json();
            String id = created.get("id").asText();
            seenIds.add(id);
            op.result = created.get("expiresAt").asText();
            history.computeIfAbsent(id, k -> Collections.synchronizedList(new ArrayList<>())).add(op);
            slot.id.set(id);
        }
    }

    /** Renews to a random time 10–60 minutes ahead, then reads the sandbox back. */
    private void renew(Api api, String id) {
        Instant target = Instant.now().plusSeconds(600 + ThreadLocalRandom.current().nextInt(3000)).truncatedTo(ChronoUnit.MILLIS);
        Op renewal = new Op(Kind.RENEW, null, target.toString());
        Api.Reply reply = send(api, id, renewal, "POST", "/v1/sandboxes/" + id + "/renew-expiration",
            "{\"expiresAt\":\"" + target + "\"}");
        if (reply == null || !renewal.acknowledged()) {
            return;
        }
        if (!Instant.parse(reply.json().get("expiresAt").asText()).equals(expiryOf(renewal))) {
            problems.add("renewal of " + id + " to " + renewal.value + " acknowledged as " + reply.body());
        }
        Op read = new Op(Kind.GET, null, null);
        Api.Reply got = send(api, id, read, "GET", "/v1/sandboxes/" + id, null);
        if (got == null) {
            return;
        }
        List<Op> ops = snapshot(id);
        if (got.status() == 404) {
            if (ops.stream().noneMatch(o -> o.kind == Kind.DELETE && o.sent < read.answered && o.status != -1)) {
                problems.add("sandbox " + id + " answered 404 after an acknowledged renewal, and no delete was sent");
            }
            return;
        }
        if (got.status() != 200) {
            return;
        }
        renewalsReadBack.increment();
        Instant reported = Instant.parse(got.json().get("expiresAt").asText());
        // Any renewal that did not end before this one began and was sent before the read was answered may have won.
        boolean explained = ops.stream().filter(o -> o.kind == Kind.RENEW && o.sent < read.answered)
            .filter(o -> o == renewal || !renewal.after(o))
            .filter(o -> o.status == 0 || o.status == 200)
            .anyMatch(o -> reported.equals(expiryOf(o)));
        if (!explained && ops.stream().anyMatch(o -> o.kind == Kind.DELETE && o.sent < read.answered)) {
            // A delete of the sandbox overlapped the read: it supersedes the renewal. (GET is not
            // atomic with a delete: it can see the container, then no row, and answer the values the
            // container was created with. Counted, for the record.)
            staleReadsDuringDelete.increment();
        } else if (!explained) {
            lostRenewals.increment();
            problems.add("lost renewal of " + id + ": acknowledged " + renewal.value + ", GET right after reports " + reported);
        }
    }

    /** The expiry an operation sets: the create's answer, or what a renewal asked for (in milliseconds, kept exactly). */
    private static Instant expiryOf(Op op) {
        return Instant.parse(op.kind == Kind.CREATE ? op.result : op.value);
    }

    private Api.Reply send(Api api, String id, Op op, String method, String path, String body) {
        history.computeIfAbsent(id, k -> Collections.synchronizedList(new ArrayList<>())).add(op);
        return exchange(api, op, method, path, body);
    }

    /** Sends, records the answer in {@code op}, and notes a 5xx, a lost connection or a status no client should get. */
    private Api.Reply exchange(Api api, Op op, String method, String path, String body) {
        sent.get(op.kind).increment();
        Api.Reply reply;
        try {
            reply = api.call(method, path, body);
        } catch (UncheckedIOException e) {
            op.status = -1;
            op.answered = System.nanoTime();
            problems.add(method + " " + path + ": no answer: " + e.getMessage());
            return null;
        }
        op.answered = System.nanoTime();
        latencies.add(op.answered - op.sent);
        op.status = reply.status();
        if (reply.status() >= 500) {
            serverErrors.increment();
            problems.add(method + " " + path + " -> " + reply.status() + " " + reply.body());
        } else if (!op.acknowledged() && !expectedRefusal(op.kind, reply)) {
            problems.add(method + " " + path + " -> unexpected " + reply.status() + " " + reply.body());
        }
        return reply;
    }

    /** 404 for a sandbox deleted meanwhile; 409 for pausing a paused or resuming a running sandbox. */
    private static boolean expectedRefusal(Kind kind, Api.Reply reply) {
        if (reply.status() == 404) {
            return kind != Kind.CREATE;
        }
        return reply.status() == 409 && (kind == Kind.PAUSE || kind == Kind.RESUME);
    }

    private List<Op> snapshot(String id) {
        List<Op> ops = history.get(id);
        synchronized (ops) {
            return new ArrayList<>(ops);
        }
    }

    // ------------------------------------------------------------------ final state

    /** After the clients stopped: each sandbox as its acknowledged operations left it; containers = rows = listed. */
    private List<String> checkFinalState(Api api) {
        List<String> found = new ArrayList<>();
        Set<String> alive = new TreeSet<>();
        for (String id : history.keySet()) {
            List<Op> ops = snapshot(id);
            boolean deleted = ops.stream().anyMatch(o -> o.kind == Kind.DELETE && o.acknowledged());
            Api.Reply got = api.call("GET", "/v1/sandboxes/" + id, null);
            if (deleted) {
                if (got.status() != 404) {
                    found.add(id + ": deleted (acknowledged) but GET answers " + got.status());
                }
                continue;
            }
            alive.add(id);
            if (got.status() != 200) {
                found.add(id + ": never deleted but GET answers " + got.status() + " " + got.body());
                continue;
            }
            JsonNode sandbox = got.json();
            Set<String> expiries = latest(ops, Set.of(Kind.CREATE, Kind.RENEW), null).stream()
                .map(o -> expiryOf(o).toString()).collect(Collectors.toSet());
            String expiresAt = Instant.parse(sandbox.get("expiresAt").asText()).toString();
            if (!expiries.contains(expiresAt)) {
                lostRenewals.increment();
                found.add(id + ": expiresAt " + expiresAt + " is none of the last acknowledged " + expiries);
            }
            Set<String> states = latest(ops, Set.of(Kind.CREATE, Kind.PAUSE, Kind.RESUME), null).stream()
                .map(o -> o.kind == Kind.PAUSE ? "Paused" : "Running").collect(Collectors.toSet());
            String state = sandbox.at("/status/state").asText();
            if (!states.contains(state)) {
                found.add(id + ": state " + state + " after acknowledged pauses/resumes ending in " + states);
            }
            for (int k = 0; k < PATCHED_KEYS; k++) {
                String key = "k" + k;
                List<Op> patches = latest(ops, Set.of(Kind.PATCH), key);
                JsonNode value = sandbox.path("metadata").get(key);
                String actual = value == null ? null : value.asText();
                Set<String> allowed = new java.util.HashSet<>();
                patches.forEach(p -> allowed.add(p.value));
                if (patches.isEmpty()) {
                    allowed.add(null);
                }
                if (!allowed.contains(actual)) {
                    found.add(id + ": metadata " + key + "=" + actual + ", the last acknowledged patches set " + allowed);
                }
            }
        }

        Set<String> containers = new TreeSet<>(Engine.sandboxContainers(RUN_KEY, run).keySet());
        Set<String> listed = listed(api);
        server.close();
        Set<String> rows = StoreRows.containing(server.database(), "\"" + run + "\"").stream()
            .map(StoreRows.Row::id).collect(Collectors.toCollection(TreeSet::new));
        server = null;
        if (!(containers.equals(alive) && rows.equals(alive) && listed.equals(alive))) {
            found.add("expected " + alive.size() + " sandboxes " + alive + "; containers " + containers + ", rows " + rows
                + ", listed " + listed);
        }
        finalCounts = String.format("%d sandboxes = %d containers = %d rows = %d listed", alive.size(), containers.size(),
            rows.size(), listed.size());
        return found;
    }

    /**
     * The acknowledged operations of these kinds (on {@code key}, for patches) that no other one
     * of them superseded, i.e. none was sent after it was acknowledged.
     */
    private static List<Op> latest(List<Op> ops, Set<Kind> kinds, String key) {
        List<Op> acknowledged = ops.stream().filter(o -> kinds.contains(o.kind) && o.acknowledged())
            .filter(o -> key == null || Objects.equals(key, o.key)).toList();
        return acknowledged.stream().filter(o -> acknowledged.stream().noneMatch(other -> other.after(o))).toList();
    }

    private Set<String> listed(Api api) {
        Set<String> ids = new TreeSet<>();
        String filter = URLEncoder.encode(RUN_KEY + "=" + run, StandardCharsets.UTF_8);
        for (int page = 1; page <= 50; page++) {
            JsonNode body = api.call("GET", "/v1/sandboxes?metadata=" + filter + "&pageSize=200&page=" + page, null).json();
            body.get("items").forEach(item -> ids.add(item.get("id").asText()));
            if (!body.at("/pagination/hasNextPage").asBoolean()) {
                break;
            }
        }
        return ids;
    }
}
