package dev.opensandbox.it.soak;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.it.reliability.Api;
import dev.opensandbox.it.reliability.InProcessServer;
import dev.opensandbox.it.reliability.Leftovers;
import dev.opensandbox.it.reliability.ProcessFigures;
import dev.opensandbox.it.reliability.ProcessFigures.Figures;
import dev.opensandbox.it.reliability.ReliabilityRun;
import dev.opensandbox.it.reliability.Scale;
import dev.opensandbox.it.reliability.ServerToml;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole server in this JVM, worked for long on the real engine: create/delete cycles, and
 * commands with large output through the built-in execd. Nothing may accumulate: no container,
 * volume or row left, no thread or open file more than a small constant at the start, and the
 * heap after a full GC within 10 % of an early measurement taken after a warm-up.
 */
class SoakIT extends ReliabilityRun {

    /**
     * The server's request and runtime pools ({@code [server] thread_pool_size}) start a thread per
     * task until they reach their size, and a sequential client never needs more than a few: a small
     * size makes them reach it within the warm-up, so threads that appear later are leaks.
     */
    private static final int THREAD_POOL_SIZE = 16;
    /** Growth that does not scale with the count (timers, a pool thread started late). */
    private static final int THREAD_SLACK = 10;
    private static final int OPEN_FILE_SLACK = 10;
    private static final double HEAP_TOLERANCE = 0.10;
    /** Stops the command soak before retained output could exhaust the shared test JVM. */
    private static final long HEAP_ABORT_GROWTH = 768L * 1024 * 1024;

    private InProcessServer server;

    @Override
    protected void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    // ------------------------------------------------------------------ create/delete cycles

    @Test
    void createDeleteCyclesLeaveNothingBehindAndKeepTheHeapFlat() {
        int cycles = Scale.count("soak.cycles", 60, 1000);
        int warmUp = Math.min(Math.max(10, cycles / 10), cycles / 2);
        server = InProcessServer.start(dir, 2, THREAD_POOL_SIZE, Duration.ofSeconds(60));
        Api api = server.api();
        List<String> failures = new ArrayList<>();
        Figures early = null;
        List<String> trend = new ArrayList<>();
        int sampleEvery = Math.max(1, (cycles - warmUp) / 4);
        long began = System.nanoTime();
        for (int i = 0; i < cycles && failures.size() < 5; i++) {
            if (i == warmUp) {
                early = ProcessFigures.measure();
                trend.add(early.heapMb());
            } else if (i > warmUp && (i - warmUp) % sampleEvery == 0) {
                trend.add(String.format("%.1f MB", ProcessFigures.heapAfterFullGc() / 1_048_576.0));
            }
            String claim = volumePrefix + i;
            Api.Reply created = api.call("POST", "/v1/sandboxes", createBody(
                ",\"volumes\":[{\"name\":\"data\",\"mountPath\":\"/data\",\"pvc\":{\"claimName\":\"" + claim
                    + "\",\"deleteOnSandboxTermination\":true}}]"));
            if (created.status() != 202) {
                failures.add("cycle " + i + ": create " + created.status() + " " + created.body());
                continue;
            }
            String id = created.json().get("id").asText();
            seenIds.add(id);
            Api.Reply got = api.call("GET", "/v1/sandboxes/" + id, null);
            if (got.status() != 200 || !got.json().at("/status/state").asText().equals("Running")) {
                failures.add("cycle " + i + ": GET " + got.status() + " " + got.body());
            }
            Api.Reply deleted = api.call("DELETE", "/v1/sandboxes/" + id, null);
            if (deleted.status() != 204) {
                failures.add("cycle " + i + ": delete " + deleted.status() + " " + deleted.body());
            }
        }
        long seconds = (System.nanoTime() - began) / 1_000_000_000L;
        assertTrue(failures.isEmpty(), String.join("\n", failures) + "\n" + ServerToml.tail(server.log(), 20));
        Figures end = settledFigures(early);
        Leftovers left = Leftovers.of(RUN_KEY, run, server.database(), volumePrefix, seenIds);

        trend.add(end.heapMb());
        String summary = String.format("soak/cycles (%s): %d create/delete cycles in %d s, %d failures; %s (heap %s); left: %s",
            Scale.label(), cycles, seconds, failures.size(), compare(early, end), String.join(", ", trend),
            left.none() ? "nothing" : left.describe());
        System.out.println(summary);
        assertTrue(left.none(), summary);
        assertFlat(early, end, summary);
    }

    // ------------------------------------------------------------------ large-output commands

    @Test
    void largeOutputCommandsThroughTheBuiltInExecdKeepNothing() {
        int commands = Scale.count("soak.commands", 30, 1000);
        int outputBytes = Scale.count("soak.commandBytes", 10 * 1024 * 1024, 10 * 1024 * 1024);
        int warmUp = Math.min(Math.max(3, commands / 10), commands / 2);
        server = InProcessServer.start(dir, 2, THREAD_POOL_SIZE, Duration.ofSeconds(120));
        Api api = server.api();
        Api.Reply created = api.call("POST", "/v1/sandboxes", createBody(""));
        assertEquals(202, created.status(), created.body());
        String id = created.json().get("id").asText();
        seenIds.add(id);

        String command = "{\"command\":\"yes abcdefghijklmnopqrstuvwxyz0123456789 | head -c " + outputBytes + "\"}";
        List<String> failures = new ArrayList<>();
        Figures early = null;
        String aborted = null;
        long began = System.nanoTime();
        int ran = 0;
        for (int i = 0; i < commands && failures.size() < 5; i++) {
            if (i == warmUp) {
                early = ProcessFigures.measure();
            }
            if (early != null && i > warmUp && (i - warmUp) % 25 == 0) {
                long heap = ProcessFigures.heapAfterFullGc();
                if (heap - early.heapBytes() > HEAP_ABORT_GROWTH) {
                    aborted = String.format("stopped after %d commands: heap after GC %.0f MB, %.0f MB more than after the "
                        + "warm-up", i, heap / 1_048_576.0, (heap - early.heapBytes()) / 1_048_576.0);
                    break;
                }
            }
            long received = runCommand(api, id, command, failures, i);
            if (received >= 0 && received != outputBytes) {
                failures.add("command " + i + ": " + received + " bytes of stdout, expected " + outputBytes);
            }
            ran++;
        }
        long seconds = (System.nanoTime() - began) / 1_000_000_000L;
        assertTrue(failures.isEmpty(), String.join("\n", failures) + "\n" + ServerToml.tail(server.log(), 20));
        Figures whileAlive = ProcessFigures.measure();
        assertEquals(204, api.call("DELETE", "/v1/sandboxes/" + id, null).status());
        Figures end = settledFigures(early);
        Leftovers left = Leftovers.of(RUN_KEY, run, server.database(), null, seenIds);

        String summary = String.format("soak/commands (%s): %d commands of %d MiB output in %d s (%.0f MB/s)%s; "
                + "heap with the sandbox %s, after deleting it %s; left: %s", Scale.label(), ran, outputBytes >> 20, seconds,
            (double) ran * outputBytes / 1_048_576.0 / Math.max(1, seconds), aborted == null ? "" : " — " + aborted,
            compare(early, whileAlive), compare(early, end), left.none() ? "nothing" : left.describe());
        System.out.println(summary);
        assertTrue(aborted == null, summary);
        assertTrue(left.none(), summary);
        assertFlat(early, whileAlive, summary + " (with the sandbox)");
        assertFlat(early, end, summary);
    }

    /** Runs one command through the execd route and counts its stdout; -1 (and a failure noted) when it did not complete. */
    private static long runCommand(Api api, String id, String body, List<String> failures, int index) {
        HttpResponse<Stream<String>> response;
        try {
            response = api.http().send(api.request("POST", "/sandboxes/" + id + "/proxy/44772/command", body).build(),
                HttpResponse.BodyHandlers.ofLines());
        } catch (IOException e) {
            failures.add("command " + index + ": " + e);
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        AtomicLong stdout = new AtomicLong();
        List<String> ends = new ArrayList<>();
        try (Stream<String> lines = response.body()) {
            lines.filter(line -> !line.isBlank()).forEach(line -> {
                JsonNode event = Api.parse(line);
                switch (event.path("type").asText()) {
                    case "stdout" -> stdout.addAndGet(event.path("text").asText().length());
                    case "execution_complete", "error" -> ends.add(line);
                    default -> { }
                }
            });
        } catch (UncheckedIOException e) {
            failures.add("command " + index + ": stream broke: " + e.getMessage());
            return -1;
        }
        if (response.statusCode() != 200 || ends.size() != 1 || !ends.get(0).contains("execution_complete")) {
            failures.add("command " + index + ": status " + response.statusCode() + ", ended with " + ends);
            return -1;
        }
        return stdout.get();
    }

    // ------------------------------------------------------------------ figures

    /**
     * The final figures, once the thread and file counts are back within their slack (pools shrink
     * after idle timeouts) or 30 s have passed.
     */
    private static Figures settledFigures(Figures early) {
        Predicate<Figures> settled = f -> f.threads() <= early.threads() + THREAD_SLACK
            && f.openFiles() <= early.openFiles() + OPEN_FILE_SLACK;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Figures now = ProcessFigures.measure();
        while (!settled.test(now) && System.nanoTime() < deadline) {
            sleep(1000);
            now = ProcessFigures.measure();
        }
        return now;
    }

    private static void assertFlat(Figures early, Figures end, String summary) {
        assertTrue(end.heapBytes() <= early.heapBytes() * (1 + HEAP_TOLERANCE),
            "heap after a full GC grew more than 10 %: " + summary);
        assertTrue(end.threads() <= early.threads() + THREAD_SLACK, "threads grew: " + summary);
        assertTrue(end.openFiles() <= early.openFiles() + OPEN_FILE_SLACK, "open files grew: " + summary);
    }

    private static String compare(Figures early, Figures end) {
        return String.format("%s → %s (%+.1f %%), threads %d → %d, open files %d → %d", early.heapMb(), end.heapMb(),
            100.0 * (end.heapBytes() - early.heapBytes()) / early.heapBytes(), early.threads(), end.threads(),
            early.openFiles(), end.openFiles());
    }

    private String createBody(String extra) {
        return "{\"image\":{\"uri\":\"" + ServerToml.BUSYBOX + "\"},\"entrypoint\":[\"sleep\",\"3600\"],"
            + "\"resourceLimits\":{\"cpu\":\"500m\",\"memory\":\"64Mi\"},\"timeout\":3600,"
            + "\"metadata\":{\"" + RUN_KEY + "\":\"" + run + "\"}" + extra + "}";
    }
}
