package dev.opensandbox.it.reliability;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code docker events} with filters, read as they come, so a test can act the moment the engine
 * reports something (a container created, started, destroyed; a volume created).
 */
public final class EngineEvents implements AutoCloseable {

    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    /** @param filters {@code key=value} filters of {@code docker events --filter} */
    public EngineEvents(String... filters) {
        List<String> command = new ArrayList<>(List.of("docker", "events", "--format", "{{.Type}} {{.Action}} {{.Actor.ID}}"));
        for (String filter : filters) {
            command.add("--filter");
            command.add(filter);
        }
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run docker events", e);
        }
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                }
            } catch (IOException closed) {
                // the process was stopped
            }
        }, "docker-events-reader");
        reader.setDaemon(true);
        reader.start();
        // docker events only reports what happens after it subscribed; give it that moment.
        ReliabilityRun.sleep(300);
    }

    /** The next event line, or empty after {@code limit}. */
    public Optional<String> next(Duration limit) {
        try {
            return Optional.ofNullable(lines.poll(limit.toMillis(), TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
