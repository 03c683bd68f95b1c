package dev.opensandbox.it.fuzz;

import dev.opensandbox.it.fuzz.FuzzBudget.Share;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.PropagationMode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Property-based fuzzing of every route of the HTTP API, at {@code /} and {@code /v1}: lifecycle,
 * snapshots, diagnostics, pools, endpoints, the reverse proxy and the built-in execd API. Each
 * property sends generated requests, one at a time, to the server of the subclass and checks
 * {@link ResponseRules} (never a server fault, every error {@code {code, message}} JSON) and the
 * invariants of {@link FuzzedServer} (fixtures intact, no forged log line). A failure prints the
 * exact request and response, shrunk by jqwik. After all properties the JVM's live threads must
 * not have grown by more than {@code -Dfuzz.maxThreadGrowth} (default 64).
 *
 * <p>With {@code -Dfuzz.survey=true} a broken rule does not stop its property: every one is
 * collected, and the class fails at the end with the distinct failures grouped by rule and route,
 * one example each — for finding all defects in one run rather than the first.
 */
@AddLifecycleHook(value = FuzzBudget.Hook.class, propagateTo = PropagationMode.ALL_DESCENDANTS)
abstract class RouteFuzzing {

    static final boolean SURVEY = Boolean.getBoolean("fuzz.survey");
    static final int MAX_THREAD_GROWTH = Integer.getInteger("fuzz.maxThreadGrowth", 64);
    /** Past any sensible request-body limit, and past the execd's own 16 MiB. */
    static final int OVERSIZE_BYTES = 17 * 1024 * 1024;

    private static final Map<String, Group> FAILURES = new ConcurrentHashMap<>();

    abstract FuzzedServer server();

    private RequestArbitraries arbitraries() {
        return new RequestArbitraries(server().scope());
    }

    // ------------------------------------------------------------------ properties

    @Property
    @Share(percent = 20)
    void createAndUpdateBodiesWithOneOrTwoFieldsMutated(@ForAll("mutatedBodies") FuzzRequest request) {
        check(request);
    }

    /** Values the engine refuses (memory "7", argv [""], NUL in env, mounts on /proc): a 4xx before any engine call. */
    @Property
    @Share(percent = 10)
    void createBodiesWithEngineCheckedFieldsMutated(@ForAll("engineCheckedCreateFields") FuzzRequest request) {
        check(request);
    }

    @Property
    @Share(percent = 13)
    void everyRouteWithHostileIdsPortsAndNames(@ForAll("hostilePaths") FuzzRequest request) {
        check(request);
    }

    @Property
    @Share(percent = 13)
    void queryParametersOutOfRangeRepeatedAndMalformed(@ForAll("hostileQueries") FuzzRequest request) {
        check(request);
    }

    @Property
    @Share(percent = 7)
    void oddHeadersOnValidRequests(@ForAll("oddHeaders") FuzzRequest request) {
        check(request);
    }

    /** A method-override header or {@code _method} never turns a read or a renewal into a delete. */
    @Property
    @Share(percent = 4)
    void methodOverrideHeadersChangeNoSandbox(@ForAll("methodOverrides") FuzzRequest request) {
        check(request);
    }

    @Property
    @Share(percent = 16)
    void builtInExecdApiWithMutatedBodiesQueriesAndUploads(@ForAll("execd") FuzzRequest request) {
        check(request);
    }

    @Property
    @Share(percent = 7)
    void reverseProxyWithOddPortsPathsMethodsAndTokens(@ForAll("proxy") FuzzRequest request) {
        check(request);
    }

    @Property
    @Share(percent = 10)
    void brokenFramingRequestLinesAndHeaderSyntaxOverARawSocket(@ForAll("rawFraming") FuzzRequest request) {
        check(request);
    }

    /** The lifecycle routes refuse a 17 MiB body with 413 and a code of its own, with a length or chunked. */
    @Property
    @Share(fixedTries = 8)
    void oversizeBodiesAreRefusedWith413(@ForAll("oversizeBodies") FuzzRequest request) {
        FuzzedServer.Outcome outcome = server().exchange(request);
        List<String> broken = new java.util.ArrayList<>(outcome.broken());
        if (outcome.exchange().status() != 413) {
            broken.add("a " + request.body().length + "-byte body (" + request.framing() + ") was answered "
                + outcome.exchange().status() + ", not 413");
        }
        report(new FuzzedServer.Outcome(outcome.exchange(), broken));
    }

    /** Adding a route without teaching the fuzzer about it fails here. */
    @Example
    void everyServedRouteIsInTheFuzzersCatalogue() {
        Set<String> served = new TreeSet<>(server().launched().server().api().routes());
        Set<String> known = Routes.asServed();
        Set<String> unknown = new TreeSet<>(served);
        unknown.removeAll(known);
        Set<String> gone = new TreeSet<>(known);
        gone.removeAll(served);
        if (!unknown.isEmpty() || !gone.isEmpty()) {
            throw new AssertionError("the fuzzer's route catalogue (Routes) differs from the server's routes: served but "
                + "not fuzzed " + unknown + ", fuzzed but not served " + gone);
        }
    }

    @Provide
    Arbitrary<FuzzRequest> mutatedBodies() {
        return arbitraries().mutatedBodies();
    }

    @Provide
    Arbitrary<FuzzRequest> engineCheckedCreateFields() {
        return arbitraries().engineCheckedCreateFields();
    }

    @Provide
    Arbitrary<FuzzRequest> hostilePaths() {
        return arbitraries().hostilePaths();
    }

    @Provide
    Arbitrary<FuzzRequest> hostileQueries() {
        return arbitraries().hostileQueries();
    }

    @Provide
    Arbitrary<FuzzRequest> oddHeaders() {
        return arbitraries().oddHeaders();
    }

    @Provide
    Arbitrary<FuzzRequest> methodOverrides() {
        return arbitraries().methodOverrides();
    }

    @Provide
    Arbitrary<FuzzRequest> execd() {
        return arbitraries().execd();
    }

    @Provide
    Arbitrary<FuzzRequest> proxy() {
        return arbitraries().proxy();
    }

    @Provide
    Arbitrary<FuzzRequest> rawFraming() {
        return arbitraries().rawFraming();
    }

    @Provide
    Arbitrary<FuzzRequest> oversizeBodies() {
        return arbitraries().oversizeBodies(OVERSIZE_BYTES);
    }

    // ------------------------------------------------------------------ checking

    private void check(FuzzRequest request) {
        report(server().exchange(request));
    }

    private static void report(FuzzedServer.Outcome outcome) {
        if (outcome.broken().isEmpty()) {
            return;
        }
        if (SURVEY) {
            FAILURES.computeIfAbsent(Group.key(outcome), k -> new Group(outcome)).count.incrementAndGet();
            return;
        }
        throw new AssertionError(outcome.report());
    }

    /** Distinct failures of a survey run: one rule broken on one route shape, with its first example. */
    private static final class Group {
        final FuzzedServer.Outcome example;
        final AtomicInteger count = new AtomicInteger();

        Group(FuzzedServer.Outcome example) {
            this.example = example;
        }

        static String key(FuzzedServer.Outcome outcome) {
            String rule = outcome.broken().get(0).replaceAll(ID, "{id}").replaceAll("\\d{5,}", "N");
            FuzzRequest sent = outcome.exchange().sent();
            return rule + "  <-  " + Routes.routeOf(sent.method(), sent.path());
        }
    }

    private static final String ID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

    /**
     * Ends a fuzzing class: prints the run's figures, checks the thread bound and (in a survey)
     * the collected failures, closes the server and removes its directory when all went well.
     */
    static void finish(String name, FuzzedServer server, Path dir) {
        if (server == null) {
            return;
        }
        String summary = server.summary();
        int growth = server.threadPeak() - server.threadBaseline();
        String census = FuzzedServer.threadCensus();
        System.out.println(name + ": " + summary);
        if (Boolean.getBoolean("fuzz.verbose")) {
            System.out.println("slowest: " + server.slowestExchanges());
        }
        StringBuilder failures = new StringBuilder();
        if (SURVEY && !FAILURES.isEmpty()) {
            failures.append(FAILURES.size()).append(" distinct failures (rule <- route), most frequent first:\n");
            FAILURES.entrySet().stream()
                .sorted(Comparator.comparing((Map.Entry<String, Group> e) -> -e.getValue().count.get()))
                .forEach(e -> failures.append("\n### ").append(e.getValue().count.get()).append(" x ").append(e.getKey())
                    .append('\n').append(e.getValue().example.report()).append('\n'));
            FAILURES.clear();
        }
        server.close();
        if (growth > MAX_THREAD_GROWTH) {
            failures.append("\nthe JVM's live threads grew by ").append(growth).append(" (from ").append(server.threadBaseline())
                .append(" to ").append(server.threadPeak()).append("), more than ").append(MAX_THREAD_GROWTH)
                .append("; busiest thread names at the end: ").append(census).append('\n');
        }
        if (failures.length() > 0) {
            throw new AssertionError(name + " (server logs kept in " + dir + "):\n" + failures);
        }
        deleteQuietly(dir);
    }

    static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind is harmless
        }
    }
}
