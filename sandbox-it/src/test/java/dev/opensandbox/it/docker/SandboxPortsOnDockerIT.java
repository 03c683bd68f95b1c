package dev.opensandbox.it.docker;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Sandbox ports through the whole server on the real engine. Regressions: in host network mode
 * {@code /sandboxes/{id}/proxy/{port}} (no API key by default) reached a service listening only
 * on the host's loopback; and a container stopped outside the server made endpoints and the proxy
 * answer 500.
 */
class SandboxPortsOnDockerIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    private final String run = UUID.randomUUID().toString();
    private DockerServerStack stack;
    private HttpServer hostOnlyService;

    @BeforeEach
    void requireEngine() {
        assumeTrue(ServerOnDockerIT.docker("info").exit() == 0, "no Docker engine reachable: `docker info` failed");
    }

    @AfterEach
    void stop() {
        if (stack != null) {
            stack.close();
        }
        if (hostOnlyService != null) {
            hostOnlyService.stop(0);
        }
        ServerOnDockerIT.removeContainersOfRun(run);
    }

    private String create() {
        DockerServerStack.Reply created = stack.call("POST", "/v1/sandboxes",
            "{\"image\":{\"uri\":\"" + ServerOnDockerIT.IMAGE + "\"},\"entrypoint\":[\"sleep\",\"3600\"],"
                + "\"resourceLimits\":{},\"timeout\":600,\"metadata\":{\"run\":\"" + run + "\"}}");
        assertEquals(202, created.status(), created.body());
        return created.json().get("id").asText();
    }

    /** Without the API key, as the SDKs call the proxy. */
    private HttpResponse<String> throughProxy(String id, int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.api.port() + "/v1/sandboxes/" + id
            + "/proxy/" + port + path)).timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void inHostModeTheProxyNeverReachesAServiceOnTheHostsLoopback() throws Exception {
        AtomicInteger hits = new AtomicInteger();
        hostOnlyService = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        hostOnlyService.createContext("/", exchange -> {
            hits.incrementAndGet();
            byte[] body = "host-only-secret".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        hostOnlyService.start();
        int hostPort = hostOnlyService.getAddress().getPort();
        stack = new DockerServerStack(dir.resolve("store.db"), Map.of("network_mode", "host"), Duration.ofSeconds(5));
        String id = create();

        HttpResponse<String> proxied = throughProxy(id, hostPort, "/");

        assertEquals(409, proxied.statusCode(), proxied.body());
        assertTrue(proxied.body().contains("\"code\":\"DOCKER::PROXY_UNAVAILABLE_IN_HOST_MODE\""), proxied.body());
        assertFalse(proxied.body().contains("host-only-secret"), proxied.body());
        assertEquals(0, hits.get(), "the host's loopback service was never called");
        DockerServerStack.Reply endpoint = stack.call("GET", "/v1/sandboxes/" + id + "/endpoints/" + hostPort, null);
        assertEquals(200, endpoint.status(), "clients are told the host port itself: " + endpoint.body());
        assertEquals(200, throughProxy(id, 44772, "/ping").statusCode(), "the built-in execd is not a host port");
    }

    @Test
    void aContainerStoppedOutsideTheServerMakesEndpointsAndTheProxyAConflict() throws Exception {
        stack = new DockerServerStack(dir.resolve("store.db"), Map.of("network_mode", "bridge"), Duration.ofSeconds(5));
        String id = create();
        assertEquals(0, ServerOnDockerIT.docker("stop", "-t", "0", "sandbox-" + id).exit());

        DockerServerStack.Reply endpoint = stack.call("GET", "/v1/sandboxes/" + id + "/endpoints/8080", null);
        HttpResponse<String> proxied = throughProxy(id, 8080, "/");

        assertEquals(409, endpoint.status(), endpoint.body());
        assertEquals("DOCKER::SANDBOX_NOT_RUNNING", endpoint.json().get("code").asText());
        assertEquals(409, proxied.statusCode(), proxied.body());
        assertTrue(proxied.body().contains("\"code\":\"DOCKER::SANDBOX_NOT_RUNNING\""), proxied.body());
    }
}
