package dev.opensandbox.it.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.core.service.ServicePolicy;
import dev.opensandbox.core.service.SnapshotService;
import dev.opensandbox.core.spi.RuntimeContext;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntimeProvider;
import dev.opensandbox.server.http.ApiServer;
import dev.opensandbox.server.http.HttpSettings;
import dev.opensandbox.server.store.JdbcSandboxStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The whole server as {@code Main} assembles it — SQLite store, the Docker runtime found through
 * {@link ServiceLoader}, the use cases, the HTTP API on a free loopback port — for end-to-end
 * tests against the real engine. Closing it stops the server but leaves containers alone, so a
 * test can "restart" the server over the same store and engine.
 */
final class DockerServerStack implements AutoCloseable {

    static final String API_KEY = "it-key";
    private static final ObjectMapper JSON = new ObjectMapper();

    final JdbcSandboxStore store;
    final SandboxRuntime runtime;
    final SandboxService sandboxes;
    final ApiServer api;
    private final ExecutorService snapshotWorkers = Executors.newFixedThreadPool(2);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    DockerServerStack(Path database, Map<String, Object> dockerSettings, Duration sweepInterval) {
        Clock clock = Clock.systemUTC();
        this.store = JdbcSandboxStore.openSqlite(database);
        this.runtime = dockerProvider().create(new RuntimeContext(clock, Map.of("docker", dockerSettings), System.getenv()));
        this.sandboxes = new SandboxService(runtime, store, clock, ServicePolicy.defaults());
        SnapshotService snapshots = new SnapshotService(sandboxes, store, clock, snapshotWorkers);
        sandboxes.start(sweepInterval);
        this.api = new ApiServer(sandboxes, snapshots, new HttpSettings(API_KEY, List.of("*"), null), clock, 32, true)
            .start("127.0.0.1", 0);
    }

    static SandboxRuntimeProvider dockerProvider() {
        for (SandboxRuntimeProvider provider : ServiceLoader.load(SandboxRuntimeProvider.class)) {
            if (provider.type().equals("docker")) {
                return provider;
            }
        }
        throw new IllegalStateException("no docker runtime provider on the test classpath");
    }

    record Reply(int status, Map<String, List<String>> headers, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + body, e);
            }
        }
    }

    Reply call(String method, String path, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path))
            .timeout(Duration.ofSeconds(60))
            .header("OPEN-SANDBOX-API-KEY", API_KEY)
            .header("Content-Type", "application/json")
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(response.statusCode(), response.headers().map(), response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        api.close();
        sandboxes.close();
        snapshotWorkers.shutdownNow();
        runtime.close();
        store.close();
    }
}
