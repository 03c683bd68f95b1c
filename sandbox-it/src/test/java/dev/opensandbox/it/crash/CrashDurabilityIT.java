package dev.opensandbox.it.crash;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.it.reliability.Api;
import dev.opensandbox.it.reliability.Engine;
import dev.opensandbox.it.reliability.EngineEvents;
import dev.opensandbox.it.reliability.Leftovers;
import dev.opensandbox.it.reliability.ReliabilityRun;
import dev.opensandbox.it.reliability.Scale;
import dev.opensandbox.it.reliability.ServerToml;
import dev.opensandbox.it.reliability.StoreRows;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server killed with SIGKILL — during creates, during deletes, with expiries pending and
 * renewals just acknowledged — and started again over the same SQLite file and engine. Afterwards
 * nothing may be left that no one manages (no container, volume, sidecar or row of an operation
 * that did not finish), every acknowledged operation holds (a created sandbox is there, a deleted
 * one is gone, a renewal is what GET reports and when the sandbox goes), and every overdue sandbox
 * goes within the sweep interval and a margin.
 *
 * <p>The server runs as a JVM of its own ({@link ServerProcess}) with a 1-s sweep. Every sandbox
 * carries {@code reliability-run=<run>} and a {@code reliability-scope} of its trial; volumes are
 * named {@code crash-<run>-…}; everything of the run is removed after each test.
 */
class CrashDurabilityIT extends ReliabilityRun {

    private static final String SCOPE_KEY = "reliability-scope";
    private static final int SWEEP_SECONDS = 1;
    /** After a restart, how long the server may take to finish or undo what a kill interrupted. */
    private static final Duration SETTLE = Duration.ofSeconds(20);
    /** How late an expiry may be removed: the sweep interval plus removal time and polling. */
    private static final Duration EXPIRY_MARGIN = Duration.ofSeconds(SWEEP_SECONDS + 5);
    private static final Duration TRIGGER_LIMIT = Duration.ofSeconds(20);

    private ServerProcess server;
    private int warmUps;

    @Override
    protected void stopServer() {
        if (server != null) {
            server.kill();
        }
    }

    // ------------------------------------------------------------------ kill during create

    /** What a kill waits for before its delay: nothing, the create's row in the store, or an engine event. */
    private enum Trigger { NONE, ROW, CONTAINER_CREATE, CONTAINER_START, VOLUME_CREATE }

    /** Where in a create the server is killed: when the trigger is seen, then after a delay. */
    private record KillPoint(Trigger trigger, long delayMillis) {

        String name() {
            String on = switch (trigger) {
                case NONE -> "";
                case ROW -> "on its CREATING row";
                case CONTAINER_CREATE -> "on container create";
                case CONTAINER_START -> "on container start";
                case VOLUME_CREATE -> "on volume create";
            };
            return on + (delayMillis > 0 || trigger == Trigger.NONE ? (on.isEmpty() ? "after " : " + ") + delayMillis + " ms" : "");
        }

        String[] engineFilters(String scope, String claim) {
            return switch (trigger) {
                case CONTAINER_CREATE, CONTAINER_START -> new String[] {"type=container",
                    "event=" + (trigger == Trigger.CONTAINER_CREATE ? "create" : "start"), "label=" + SCOPE_KEY + "=" + scope};
                case VOLUME_CREATE -> new String[] {"type=volume", "event=create", "volume=" + claim};
                default -> null;
            };
        }
    }

    /** One kill-during-create trial: what the client got, what was there at the kill, and what went wrong (null if nothing). */
    private record CreateTrial(String name, boolean timeout, String answer, long killedAfterMillis, String atKill,
                               String failure) {
    }

    @Test
    void createsKilledAtSixPointsLeaveNoContainerAndNoRowOnceRestarted() {
        List<KillPoint> points = List.of(new KillPoint(Trigger.ROW, 0), new KillPoint(Trigger.ROW, 20),
            new KillPoint(Trigger.CONTAINER_CREATE, 0), new KillPoint(Trigger.CONTAINER_CREATE, 50),
            new KillPoint(Trigger.CONTAINER_START, 0), new KillPoint(Trigger.NONE, 1000));
        long began = System.nanoTime();
        List<CreateTrial> trials = runCreateTrials("c", points, false);
        report("crash/create", trials, began);
    }

    @Test
    void createsKilledWhileTheirVolumeAndSidecarExistLeaveNeitherOnceRestarted() {
        List<KillPoint> points = List.of(new KillPoint(Trigger.VOLUME_CREATE, 0), new KillPoint(Trigger.VOLUME_CREATE, 300),
            new KillPoint(Trigger.CONTAINER_CREATE, 0));
        long began = System.nanoTime();
        List<CreateTrial> trials = runCreateTrials("v", points, true);
        report("crash/create+volume+sidecar", trials, began);
    }

    private List<CreateTrial> runCreateTrials(String prefix, List<KillPoint> points, boolean volumeAndSidecar) {
        server = new ServerProcess(dir, SWEEP_SECONDS);
        server.start();
        List<CreateTrial> trials = new ArrayList<>();
        for (int n = 1; n <= points.size(); n++) {
            // Every third trial asks for no timeout: a sandbox that never expires must not be left to the expiry.
            boolean timeout = n % 3 != 2;
            trials.add(killDuringCreate(prefix + n, points.get(n - 1), timeout, volumeAndSidecar));
        }
        return trials;
    }

    private CreateTrial killDuringCreate(String trial, KillPoint point, boolean timeout, boolean volumeAndSidecar) {
        warmUp();
        String scope = run + "-" + trial;
        String claim = volumeAndSidecar ? volumePrefix + trial : null;
        String name = trial + " (kill " + point.name() + (timeout ? "" : ", no timeout") + ")";
        Api api = server.api();

        String[] filters = point.engineFilters(scope, claim);
        EngineEvents events = filters == null ? null : new EngineEvents(filters);
        long sent = System.nanoTime();
        CompletableFuture<HttpResponse<String>> reply = api.http().sendAsync(
            api.request("POST", "/v1/sandboxes", createBody(scope, timeout, claim, volumeAndSidecar)).build(),
            HttpResponse.BodyHandlers.ofString());
        String trigger = "";
        if (events != null) {
            try (events) {
                trigger = events.next(TRIGGER_LIMIT).isPresent() ? "" : " (no engine event within " + TRIGGER_LIMIT.toSeconds() + " s)";
            }
        } else if (point.trigger() == Trigger.ROW) {
            trigger = awaitRow(scope) ? "" : " (no row within " + TRIGGER_LIMIT.toSeconds() + " s)";
        }
        sleep(point.delayMillis());
        server.kill();
        long killedAfter = (System.nanoTime() - sent) / 1_000_000;

        String answer = answerOf(reply);
        String createdId = answer.startsWith("202") ? Api.parse(reply.join().body()).get("id").asText() : null;
        Leftovers atKill = Leftovers.of(SCOPE_KEY, scope, server.database(), claim, seenIds);
        seenIds.addAll(atKill.ids());
        server.start();

        String failure = settleCreate(scope, claim, volumeAndSidecar, createdId, answer);
        return new CreateTrial(name + trigger, timeout, answer, killedAfter, atKill.describe(), failure);
    }

    /**
     * After the restart: a create the client saw succeed (202) is there, whole; one it saw fail is
     * gone; one it got no answer to is either gone or whole (the server finished it before dying).
     * Whatever is whole is then deleted through the API, which must leave nothing.
     */
    private String settleCreate(String scope, String claim, boolean volumeAndSidecar, String createdId, String answer) {
        boolean noAnswer = answer.equals("no answer");
        Predicate<Leftovers> whole = left -> isWhole(left, claim, volumeAndSidecar)
            && (createdId == null || left.containers().containsKey(createdId));
        Predicate<Leftovers> expected = createdId != null ? whole : noAnswer ? whole.or(Leftovers::none) : Leftovers::none;
        Leftovers settled = awaitLeftovers(scope, claim, expected);
        if (!expected.test(settled)) {
            return "after restart + " + SETTLE.toSeconds() + " s: " + settled.describe();
        }
        if (settled.none()) {
            return null;
        }
        String id = settled.containers().keySet().iterator().next();
        Api.Reply get = server.api().call("GET", "/v1/sandboxes/" + id, null);
        if (get.status() != 200) {
            return "the sandbox left whole is not served: GET " + get.status() + " " + get.body();
        }
        Api.Reply delete = server.api().call("DELETE", "/v1/sandboxes/" + id, null);
        if (delete.status() != 204) {
            return "the sandbox left whole could not be deleted: " + delete.status() + " " + delete.body();
        }
        Leftovers afterDelete = awaitLeftovers(scope, claim, Leftovers::none);
        return afterDelete.none() ? null : "after deleting the sandbox left whole: " + afterDelete.describe();
    }

    /** One sandbox, running, with a READY row (and its volume and sidecar when it asked for them). */
    private static boolean isWhole(Leftovers left, String claim, boolean sidecar) {
        return left.containers().size() == 1 && left.containers().containsValue("running")
            && left.rows().size() == 1 && left.rows().get(0).phase().equals("READY")
            && left.rows().get(0).id().equals(left.containers().keySet().iterator().next())
            && left.volumes().equals(claim == null ? Set.of() : Set.of(claim))
            && left.sidecars().size() == (sidecar ? 1 : 0);
    }

    /** A create and a delete acknowledged, before each trial: the restarted server works, and JIT warm-up does not move the kill points. */
    private void warmUp() {
        String scope = run + "-w" + (++warmUps);
        Api.Reply created = server.api().call("POST", "/v1/sandboxes", createBody(scope, true, null, false));
        assertEquals(202, created.status(), "warm-up create: " + created.body() + "\n" + server.logs());
        String id = created.json().get("id").asText();
        seenIds.add(id);
        Api.Reply deleted = server.api().call("DELETE", "/v1/sandboxes/" + id, null);
        assertEquals(204, deleted.status(), "warm-up delete: " + deleted.body());
    }

    private void report(String suite, List<CreateTrial> trials, long began) {
        List<CreateTrial> failed = trials.stream().filter(t -> t.failure() != null).toList();
        System.out.printf("%s: %d kills, %d left something behind, %d s%n", suite, trials.size(), failed.size(),
            (System.nanoTime() - began) / 1_000_000_000L);
        StringBuilder message = new StringBuilder();
        for (CreateTrial trial : failed) {
            message.append("\n  ").append(trial.name()).append(" killed after ").append(trial.killedAfterMillis())
                .append(" ms, client got ").append(trial.answer()).append("; at the kill: ").append(trial.atKill())
                .append("; ").append(trial.failure());
        }
        assertTrue(failed.isEmpty(), failed.size() + " of " + trials.size() + " creates killed midway left something:"
            + message + "\n" + server.logs());
    }

    // ------------------------------------------------------------------ kill during delete

    @Test
    void deletesKilledMidwayAreFinishedOrUndoneOnceRestarted() {
        long began = System.nanoTime();
        server = new ServerProcess(dir, SWEEP_SECONDS);
        server.start();
        String scope = run + "-d";
        int count = 4;
        Map<String, String> claims = new LinkedHashMap<>();
        for (int i = 1; i <= count; i++) {
            String claim = volumePrefix + "d" + i;
            Api.Reply created = server.api().call("POST", "/v1/sandboxes", createBody(scope, true, claim, false));
            assertEquals(202, created.status(), created.body());
            String id = created.json().get("id").asText();
            seenIds.add(id);
            claims.put(id, claim);
        }

        Map<String, CompletableFuture<HttpResponse<String>>> deletes = new LinkedHashMap<>();
        String trigger;
        try (EngineEvents destroyed = new EngineEvents("type=container", "event=destroy", "label=" + SCOPE_KEY + "=" + scope)) {
            for (String id : claims.keySet()) {
                deletes.put(id, server.api().http().sendAsync(server.api().request("DELETE", "/v1/sandboxes/" + id, null).build(),
                    HttpResponse.BodyHandlers.ofString()));
            }
            trigger = destroyed.next(TRIGGER_LIMIT).isPresent() ? "the first container destroyed" : "no destroy event";
        }
        server.kill();
        Map<String, String> answers = new LinkedHashMap<>();
        deletes.forEach((id, reply) -> answers.put(id, answerOf(reply)));
        Leftovers atKill = Leftovers.of(SCOPE_KEY, scope, server.database(), volumePrefix + "d", seenIds);
        server.start();

        // Each sandbox is gone, or whole (a delete the kill stopped before it began); an acknowledged delete is gone.
        Predicate<Leftovers> consistent = left -> claims.entrySet().stream().allMatch(entry -> {
            String id = entry.getKey();
            boolean gone = !left.containers().containsKey(id) && left.rows().stream().noneMatch(r -> r.id().equals(id))
                && !left.volumes().contains(entry.getValue());
            boolean whole = "running".equals(left.containers().get(id))
                && left.rows().stream().anyMatch(r -> r.id().equals(id) && r.phase().equals("READY"))
                && left.volumes().contains(entry.getValue());
            return gone || (whole && !answers.get(id).startsWith("204"));
        });
        Leftovers settled = awaitLeftovers(scope, volumePrefix + "d", consistent);
        String summary = "killed on " + trigger + "; answers " + answers.values() + "; at the kill: " + atKill.describe();
        assertTrue(consistent.test(settled), "after restart + " + SETTLE.toSeconds() + " s: " + settled.describe()
            + "\n" + summary + "\n" + server.logs());

        for (String id : settled.containers().keySet()) {
            Api.Reply again = server.api().call("DELETE", "/v1/sandboxes/" + id, null);
            assertEquals(204, again.status(), "deleting a sandbox whose delete was interrupted: " + again.body());
        }
        Leftovers end = awaitLeftovers(scope, volumePrefix + "d", Leftovers::none);
        System.out.printf("crash/delete: %d deletes killed on %s, %d acknowledged, %d left whole and deleted again, %d s%n",
            count, trigger, answers.values().stream().filter(a -> a.startsWith("204")).count(), settled.containers().size(),
            (System.nanoTime() - began) / 1_000_000_000L);
        assertTrue(end.none(), "after deleting again: " + end.describe() + "\n" + summary);
    }

    // ------------------------------------------------------------------ kill with expiries pending

    private enum Fate { OVERDUE_AT_RESTART, DUE_AFTER_RESTART, RENEWED_JUST_BEFORE_THE_KILL }

    /** One sandbox of the expiry test: what it was last renewed to (acknowledged) and when it was seen gone. */
    private static final class Lease {
        final String id;
        final Fate fate;
        Instant firstExpiry;
        Instant expiry;
        Instant goneAt;

        Lease(String id, Fate fate) {
            this.id = id;
            this.fate = fate;
        }
    }

    @Test
    void pendingExpiriesAndJustAcknowledgedRenewalsSurviveAKill() {
        long began = System.nanoTime();
        int count = Scale.count("crash.expiries", 12, 50);
        server = new ServerProcess(dir, SWEEP_SECONDS);
        server.start();
        String scope = run + "-e";
        List<Lease> leases = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Api.Reply created = server.api().call("POST", "/v1/sandboxes", createBody(scope, true, null, false));
            assertEquals(202, created.status(), created.body());
            String id = created.json().get("id").asText();
            seenIds.add(id);
            leases.add(new Lease(id, Fate.values()[i % 3]));
        }

        // The kill comes 3 s after the first renewals. Overdue ones expire 1 s after it, while the
        // server is down; due ones 25 s after it (room for a slow restart; staggered by 0.5 s so
        // removals never queue); the just-renewed first get the overdue deadline, then, right
        // before the kill, a later one.
        Instant kill = Instant.now().plusSeconds(3);
        int due = 0;
        for (Lease lease : leases) {
            Instant target = lease.fate == Fate.DUE_AFTER_RESTART ? kill.plusSeconds(25).plusMillis(500L * due++)
                : kill.plusSeconds(1);
            lease.firstExpiry = renew(lease.id, target);
            lease.expiry = lease.firstExpiry;
        }
        sleepUntil(kill.minusMillis(800));
        int late = 0;
        for (Lease lease : leases) {
            if (lease.fate == Fate.RENEWED_JUST_BEFORE_THE_KILL) {
                lease.expiry = renew(lease.id, kill.plusSeconds(35).plusMillis(500L * late++));
            }
        }
        server.kill();
        Instant killedAt = Instant.now();
        sleepUntil(kill.plusSeconds(1).plusMillis(500)); // the overdue ones are overdue before the restart begins
        Duration restart = server.start();
        Instant readyAt = Instant.now();

        List<String> failures = new ArrayList<>();
        int readBack = 0;
        for (Lease lease : leases) {
            if (lease.fate == Fate.OVERDUE_AT_RESTART) {
                continue;
            }
            Api.Reply get = server.api().call("GET", "/v1/sandboxes/" + lease.id, null);
            if (get.status() == 404 && Instant.now().isAfter(lease.expiry)) {
                continue; // the restart took longer than the lease: its removal time is checked below
            }
            readBack++;
            if (get.status() != 200) {
                failures.add(lease.fate + " " + lease.id + ": GET after restart " + get.status() + " " + get.body());
            } else if (!Instant.parse(get.json().get("expiresAt").asText()).equals(lease.expiry)) {
                failures.add(lease.fate + " " + lease.id + ": GET after restart reports expiresAt "
                    + get.json().get("expiresAt").asText() + ", the last acknowledged renewal was " + lease.expiry);
            }
        }

        Instant lastExpiry = leases.stream().map(l -> l.expiry).max(Instant::compareTo).orElseThrow();
        Instant watchUntil = lastExpiry.plus(EXPIRY_MARGIN).plusSeconds(5);
        while (Instant.now().isBefore(watchUntil) && leases.stream().anyMatch(l -> l.goneAt == null)) {
            Set<String> present = Engine.sandboxContainers(SCOPE_KEY, scope).keySet();
            Instant now = Instant.now();
            leases.stream().filter(l -> l.goneAt == null && !present.contains(l.id)).forEach(l -> l.goneAt = now);
            sleep(250);
        }

        Duration overdueMargin = EXPIRY_MARGIN.plusMillis(500L * count / 3);
        for (Lease lease : leases) {
            String what = lease.fate + " " + lease.id + " (expiry " + lease.expiry + ", first " + lease.firstExpiry + ")";
            if (lease.goneAt == null) {
                failures.add(what + ": still there at " + watchUntil);
                continue;
            }
            // A lease that ran out while the server was still starting is due at the restart.
            Instant latest = lease.fate == Fate.OVERDUE_AT_RESTART ? readyAt.plus(overdueMargin)
                : (lease.expiry.isAfter(readyAt) ? lease.expiry : readyAt).plus(EXPIRY_MARGIN);
            if (lease.goneAt.isAfter(latest)) {
                failures.add(what + ": removed at " + lease.goneAt + ", later than " + latest);
            }
            if (lease.goneAt.isBefore(lease.expiry)) {
                failures.add(what + ": removed at " + lease.goneAt + ", before its acknowledged expiry — a lost renewal");
            }
        }
        server.kill();
        List<StoreRows.Row> rows = StoreRows.containing(server.database(), "\"" + scope + "\"");
        if (!rows.isEmpty()) {
            failures.add("rows left in the store: " + rows);
        }
        long lost = failures.stream().filter(f -> f.contains("lost renewal") || f.contains("reports expiresAt")).count();
        System.out.printf("crash/expiry: %d pending expiries (%d renewed just before the kill), down %d ms (start %d ms); "
                + "%d read back after restart; %d failures, %d lost renewals, %d s%n", count,
            leases.stream().filter(l -> l.fate == Fate.RENEWED_JUST_BEFORE_THE_KILL).count(),
            Duration.between(killedAt, readyAt).toMillis(), restart.toMillis(), readBack, failures.size(), lost,
            (System.nanoTime() - began) / 1_000_000_000L);
        assertTrue(failures.isEmpty(), String.join("\n", failures) + "\n" + server.logs());
    }

    private Instant renew(String id, Instant target) {
        Api.Reply renewed = server.api().call("POST", "/v1/sandboxes/" + id + "/renew-expiration",
            "{\"expiresAt\":\"" + target + "\"}");
        assertEquals(200, renewed.status(), renewed.body());
        return Instant.parse(renewed.json().get("expiresAt").asText());
    }

    // ------------------------------------------------------------------ helpers

    private String createBody(String scope, boolean timeout, String claim, boolean egress) {
        StringBuilder body = new StringBuilder("{\"image\":{\"uri\":\"" + ServerToml.BUSYBOX + "\"},")
            .append("\"entrypoint\":[\"sleep\",\"3600\"],\"resourceLimits\":{\"cpu\":\"250m\",\"memory\":\"32Mi\"},")
            .append("\"metadata\":{\"").append(RUN_KEY).append("\":\"").append(run).append("\",\"")
            .append(SCOPE_KEY).append("\":\"").append(scope).append("\"}");
        if (timeout) {
            body.append(",\"timeout\":600");
        }
        if (claim != null) {
            body.append(",\"volumes\":[{\"name\":\"data\",\"mountPath\":\"/data\",\"pvc\":{\"claimName\":\"").append(claim)
                .append("\",\"deleteOnSandboxTermination\":true}}]");
        }
        if (egress) {
            body.append(",\"networkPolicy\":{\"defaultAction\":\"deny\",\"egress\":[{\"action\":\"allow\",\"target\":\"example.com\"}]}");
        }
        return body.append('}').toString();
    }

    /** Polls the store (read-only, as fast as it answers) until the scope's row appears. */
    private boolean awaitRow(String scope) {
        long deadline = System.nanoTime() + TRIGGER_LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!StoreRows.containing(server.database(), "\"" + scope + "\"").isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** Polls until {@code condition} holds or {@link #SETTLE} has passed; returns the last look. */
    private Leftovers awaitLeftovers(String scope, String volumes, Predicate<Leftovers> condition) {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (true) {
            Leftovers left = Leftovers.of(SCOPE_KEY, scope, server.database(), volumes, seenIds);
            seenIds.addAll(left.ids());
            if (condition.test(left) || System.nanoTime() > deadline) {
                return left;
            }
            sleep(250);
        }
    }

    /** "202", "500 DOCKER::SANDBOX_START_FAILED", or "no answer" when the kill cut the request. */
    private static String answerOf(CompletableFuture<HttpResponse<String>> reply) {
        try {
            HttpResponse<String> response = reply.get(5, java.util.concurrent.TimeUnit.SECONDS);
            if (response.statusCode() < 400) {
                return Integer.toString(response.statusCode());
            }
            JsonNode code = Api.parse(response.body()).get("code");
            return response.statusCode() + (code == null ? "" : " " + code.asText());
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return "no answer";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "no answer";
        }
    }

    private static void sleepUntil(Instant instant) {
        long millis = Duration.between(Instant.now(), instant).toMillis();
        if (millis > 0) {
            sleep(millis);
        }
    }
}
