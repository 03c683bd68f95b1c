package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.testing.MutableClock;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.core.service.ServicePolicy;
import dev.opensandbox.core.service.SnapshotService;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.store.InMemorySandboxStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A real {@link ApiServer} on 127.0.0.1 with an ephemeral port over the in-memory runtime and
 * store, plus a small HTTP client. Snapshot commits run on the calling thread, so a snapshot is
 * {@code Ready} by the time its 202 arrives.
 */
final class ApiTestServer implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    static {
        // Jetty's DEBUG output (logback's default level) drowns the test logs and slows the server down;
        // its start and stop lines at INFO add nothing to a green build either.
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("org.eclipse.jetty"))
            .setLevel(ch.qos.logback.classic.Level.WARN);
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.javalin"))
            .setLevel(ch.qos.logback.classic.Level.WARN);
    }

    final MutableClock clock = new MutableClock(Instant.parse("2030-01-02T03:04:05Z"));
    final InMemorySandboxRuntime memory = new InMemorySandboxRuntime(clock);
    final SandboxRuntime runtime;
    final InMemorySandboxStore store = new InMemorySandboxStore();
    final SandboxService sandboxes;
    final SnapshotService snapshots;
    final ApiServer server;
    private final HttpClient http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();

    private ApiTestServer(Builder builder) {
        this.runtime = builder.runtime.apply(memory);
        this.sandboxes = new SandboxService(runtime, store, clock, ServicePolicy.defaults());
        this.snapshots = new SnapshotService(sandboxes, store, clock, Runnable::run);
        this.server = new ApiServer(sandboxes, snapshots,
            builder.settings.apply(new HttpSettings(builder.apiKey, builder.corsOrigins, builder.eip)), clock, builder.threads,
            builder.builtInExecd);
        this.server.start("127.0.0.1", 0);
    }

    static ApiTestServer start() {
        return builder().start();
    }

    static Builder builder() {
        return new Builder();
    }

    static final class Builder {
        private String apiKey;
        private String eip;
        private List<String> corsOrigins = List.of("*");
        private int threads = 8;
        private boolean builtInExecd;
        private Function<InMemorySandboxRuntime, SandboxRuntime> runtime = memory -> memory;
        private java.util.function.UnaryOperator<HttpSettings> settings = s -> s;

        /** Adjusts the HTTP settings (for example the proxy's) after the three client-facing ones. */
        Builder settings(java.util.function.UnaryOperator<HttpSettings> adjust) {
            this.settings = adjust;
            return this;
        }

        Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        Builder eip(String eip) {
            this.eip = eip;
            return this;
        }

        Builder corsOrigins(List<String> origins) {
            this.corsOrigins = origins;
            return this;
        }

        /** The server answers the execd API of port 44772 itself, as Main does without [runtime] execd_image. */
        Builder builtInExecd() {
            this.builtInExecd = true;
            return this;
        }

        Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        /** Wraps the in-memory runtime, for fault and delay injection. */
        Builder runtime(Function<InMemorySandboxRuntime, SandboxRuntime> wrapper) {
            this.runtime = wrapper;
            return this;
        }

        ApiTestServer start() {
            return new ApiTestServer(this);
        }
    }

    int port() {
        return server.port();
    }

    String base() {
        return "http://127.0.0.1:" + port();
    }

    // ------------------------------------------------------------ requests

    /**
     * Sends one request. {@code body} null sends no body; {@code headers} are name/value pairs.
     * A JSON content type is added for bodies unless given.
     */
    Response send(String method, String path, String body, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base() + path))
            .timeout(Duration.ofSeconds(30))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        boolean contentType = false;
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
            contentType |= headers[i].equalsIgnoreCase("Content-Type");
        }
        if (body != null && !contentType) {
            request.header("Content-Type", "application/json");
        }
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(response.statusCode(), response.headers(), response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    Response get(String path, String... headers) {
        return send("GET", path, null, headers);
    }

    Response post(String path, String body, String... headers) {
        return send("POST", path, body, headers);
    }

    Response patch(String path, String body, String... headers) {
        return send("PATCH", path, body, headers);
    }

    Response delete(String path, String... headers) {
        return send("DELETE", path, null, headers);
    }

    // ------------------------------------------------------------ fixtures

    /** A create body with an image, a long-running entrypoint, limits and the given timeout (null: none). */
    static String createBody(Integer timeout, String metadataJson) {
        return "{\"image\":{\"uri\":\"python:3.11\"},\"entrypoint\":[\"tail\",\"-f\",\"/dev/null\"],"
            + "\"resourceLimits\":{\"cpu\":\"500m\",\"memory\":\"512Mi\"}"
            + (timeout == null ? "" : ",\"timeout\":" + timeout)
            + (metadataJson == null ? "" : ",\"metadata\":" + metadataJson)
            + "}";
    }

    /** Creates a sandbox through the API (at {@code prefix}) and returns its id. */
    String createSandbox(String prefix, Integer timeout, String metadataJson) {
        Response response = post(prefix + "/sandboxes", createBody(timeout, metadataJson));
        if (response.status() != 202) {
            throw new AssertionError("create failed: " + response);
        }
        return response.json().get("id").asText();
    }

    @Override
    public void close() {
        server.close();
    }

    // ------------------------------------------------------------ response

    record Response(int status, HttpHeaders headers, String body) {

        /** The first value of a header, or null. */
        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        List<String> headerValues(String name) {
            return headers.allValues(name);
        }

        Optional<String> contentType() {
            return headers.firstValue("Content-Type");
        }

        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + body, e);
            }
        }

        @Override
        public String toString() {
            return status + " " + headers.map() + " " + body;
        }
    }
}
