package dev.opensandbox.it.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The official JavaScript SDK ({@code @alibaba-group/opensandbox} 0.1.11, unchanged, pinned in
 * {@code src/test/js/package-lock.json}) against this server on the real Docker engine with the
 * plain busybox image: {@code src/test/js/sdk-e2e.mjs} creates a sandbox through the SDK's own
 * readiness check (execd ping through the server proxy), runs a command, writes and reads a file,
 * lists with filters, renews, pauses and resumes, kills, and prints one JSON line per step.
 */
class JsSdkE2EIT {

    private static final Path JS_DIR = Path.of("src", "test", "js");
    private static final Path LOGS = Path.of("target", "js-sdk-e2e");
    private static final Duration INSTALL_LIMIT = Duration.ofMinutes(5);
    private static final Duration SCENARIO_LIMIT = Duration.ofMinutes(3);
    private static final List<String> STEPS = List.of("setup", "create", "command", "file", "list", "renew",
        "pause", "resume", "command-again", "kill", "gone", "timing");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private DockerServerStack stack;
    private final String run = UUID.randomUUID().toString();

    @BeforeAll
    static void requireEngineAndNode() throws IOException {
        assumeTrue(ServerOnDockerIT.docker("info").exit() == 0, "no Docker engine reachable: `docker info` failed");
        // CI sets OPENSANDBOX_REQUIRE_NODE so that a missing Node.js fails the build instead of skipping the proof.
        boolean required = "1".equals(System.getenv("OPENSANDBOX_REQUIRE_NODE"));
        for (String tool : new String[] {"node", "npm"}) {
            boolean present = answers(tool, "--version");
            if (required) {
                assertTrue(present, tool + " is not on PATH (OPENSANDBOX_REQUIRE_NODE=1)");
            }
            assumeTrue(present, tool + " is not on PATH");
        }
        installSdkIfStale();
    }

    @AfterEach
    void stop() {
        if (stack != null) {
            stack.close();
        }
        ServerOnDockerIT.removeContainersOfRun(run);
    }

    @Test
    void theOfficialJavaScriptSdkRunsTheWholeScenario() throws IOException {
        stack = new DockerServerStack(dir.resolve("store.db"), Map.of("network_mode", "bridge"), Duration.ofSeconds(5));

        Finished scenario = execute(List.of("node", "sdk-e2e.mjs"), Map.of(
            "OPENSANDBOX_DOMAIN", "127.0.0.1:" + stack.api.port(),
            "OPENSANDBOX_API_KEY", DockerServerStack.API_KEY,
            "OPENSANDBOX_IMAGE", ServerOnDockerIT.IMAGE,
            "OPENSANDBOX_RUN", run,
            "OPENSANDBOX_DISABLE_METRICS", "1"), SCENARIO_LIMIT, LOGS.resolve("sdk-e2e.log"));
        System.out.print(scenario.output());

        assertFalse(scenario.timedOut(), "node sdk-e2e.mjs ran longer than " + SCENARIO_LIMIT + ":\n" + scenario.output());
        assertEquals(0, scenario.exit(), "node sdk-e2e.mjs failed:\n" + scenario.output());
        List<JsonNode> lines = stepLines(scenario.output());
        for (String step : STEPS) {
            assertTrue(lines.stream().anyMatch(l -> step.equals(l.path("step").asText()) && l.path("ok").asBoolean()),
                "no successful '" + step + "' step in:\n" + scenario.output());
        }
        JsonNode timing = lines.stream().filter(l -> "timing".equals(l.path("step").asText())).findFirst().orElseThrow();
        System.out.printf("JS SDK: create→ready %d ms, create→first command output %d ms%n",
            timing.path("createToReadyMs").asLong(), timing.path("createToFirstOutputMs").asLong());
    }

    // ------------------------------------------------------------ helpers

    /** {@code npm ci} when node_modules is missing or older than the committed lock file. */
    private static void installSdkIfStale() throws IOException {
        Path lock = JS_DIR.resolve("package-lock.json");
        Path installed = JS_DIR.resolve("node_modules").resolve(".package-lock.json"); // npm's record of the last install
        if (Files.exists(installed)
            && !Files.getLastModifiedTime(installed).toInstant().isBefore(Files.getLastModifiedTime(lock).toInstant())) {
            return;
        }
        Finished install = execute(List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of(), INSTALL_LIMIT,
            LOGS.resolve("npm-ci.log"));
        if (install.timedOut() || install.exit() != 0) {
            fail("npm ci in " + JS_DIR + (install.timedOut() ? " timed out" : " exited " + install.exit()) + ":\n"
                + install.output());
        }
    }

    private record Finished(int exit, boolean timedOut, String output) {
    }

    /** Runs a command in {@link #JS_DIR}, stdout and stderr into {@code log}; killed (with its children) past {@code limit}. */
    private static Finished execute(List<String> command, Map<String, String> env, Duration limit, Path log) {
        try {
            Files.createDirectories(log.getParent());
            ProcessBuilder builder = new ProcessBuilder(command).directory(JS_DIR.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().putAll(env);
            Process process = builder.start();
            boolean done = process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
            if (!done) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
            String output = Files.readString(log, StandardCharsets.UTF_8);
            return new Finished(done ? process.exitValue() : -1, !done, output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static boolean answers(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return false;
            }
            return process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static List<JsonNode> stepLines(String output) {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : output.split("\n")) {
            parse(line.strip()).filter(node -> node.has("step")).ifPresent(lines::add);
        }
        return lines;
    }

    private static Optional<JsonNode> parse(String line) {
        if (!line.startsWith("{")) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readTree(line));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
