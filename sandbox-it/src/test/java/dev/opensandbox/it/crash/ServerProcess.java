package dev.opensandbox.it.crash;

import dev.opensandbox.it.reliability.Api;
import dev.opensandbox.it.reliability.ReliabilityRun;
import dev.opensandbox.it.reliability.ServerToml;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The server as a JVM of its own ({@code java -cp <test classpath> dev.opensandbox.server.Main
 * --config <file>}), so that it can be killed with SIGKILL and started again over the same
 * database and engine. Its output goes to {@code console.log}, its logs to {@code server.log}.
 */
final class ServerProcess implements AutoCloseable {

    private static final Duration START_LIMIT = Duration.ofSeconds(60);

    private final Path dir;
    private final Path config;
    private final Api api;
    private Process process;
    private int starts;

    ServerProcess(Path dir, int sweepSeconds) {
        this.dir = dir;
        int port = ServerToml.freePort();
        this.config = ServerToml.write(dir, port, sweepSeconds);
        this.api = new Api(port, ServerToml.API_KEY, Duration.ofSeconds(30));
    }

    Api api() {
        return api;
    }

    Path database() {
        return ServerToml.database(dir);
    }

    /** Starts the JVM and waits until {@code /health} answers; returns how long that took. */
    Duration start() {
        long begin = System.nanoTime();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx512m", "-cp", System.getProperty("java.class.path"), "dev.opensandbox.server.Main",
            "--config", config.toString()));
        ProcessBuilder builder = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("console.log").toFile()));
        Map<String, String> env = builder.environment();
        env.remove("SANDBOX_CONFIG_PATH");
        env.remove("OPENSANDBOX_SERVER_API_KEY");
        env.put("HOME", dir.toString());
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        starts++;
        long deadline = begin + START_LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the server exited with " + process.exitValue() + " at start " + starts
                    + ":\n" + logs());
            }
            if (api.healthy()) {
                return Duration.ofNanos(System.nanoTime() - begin);
            }
            ReliabilityRun.sleep(100);
        }
        throw new IllegalStateException("the server did not answer /health within " + START_LIMIT + ":\n" + logs());
    }

    /** SIGKILL ({@link Process#destroyForcibly()} on Linux): no shutdown hook, no cleanup. */
    void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the killed server did not exit");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    /** The last lines of the server's log and console, for failure messages. */
    String logs() {
        return ServerToml.tail(dir.resolve("server.log"), 15) + "\n--- console:\n" + ServerToml.tail(dir.resolve("console.log"), 20);
    }

    @Override
    public void close() {
        kill();
    }
}
