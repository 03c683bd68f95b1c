package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ProvisionRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code [runtime] execd_image} on the real engine, with the local stand-in execd image: the
 * daemon and its launcher are copied in before start, the container runs the launcher with the
 * requested command, the helper container is gone, 44772 answers through the endpoint, and host
 * network mode refuses a second daemon.
 */
class ExecdInjectionIT {

    static final String EXECD_IMAGE = System.getenv()
        .getOrDefault("OPENSANDBOX_TEST_EXECD_IMAGE", "opensandbox-test/execd:latest");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private static DockerTestEngine engine;

    @BeforeAll
    static void connect() {
        engine = DockerTestEngine.connectOrSkip();
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (engine != null) {
            engine.close();
        }
    }

    private static DockerSandboxRuntime runtime(Map<String, Object> docker, String execdImage) {
        DockerRuntimeConfig config = DockerRuntimeConfig.from(docker, Map.of("host", "127.0.0.1"), Map.of(), Map.of())
            .withExecdImage(execdImage);
        return new DockerSandboxRuntime(config, engine.counted, Clock.systemUTC());
    }

    private static String get(String url) {
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return response.statusCode() + ":" + response.body().strip();
        } catch (IOException e) {
            return "unreachable:" + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static String pingUntilAnswered(String url) throws InterruptedException {
        String last = "";
        for (int attempt = 0; attempt < 50 && !last.equals("200:pong"); attempt++) {
            last = get(url);
            if (!last.equals("200:pong")) {
                Thread.sleep(200);
            }
        }
        return last;
    }

    @Test
    void theDaemonIsCopiedInAndStartedByTheLauncherBeforeTheRequestedCommand() throws Exception {
        DockerSandboxRuntime bridge = runtime(Map.of("network_mode", "bridge", "port_bind_address", "127.0.0.1"), EXECD_IMAGE);
        ProvisionRequest request = DockerTestEngine.request(engine.spec("sleep 3600").build());
        Sandbox sandbox = bridge.create(request);
        try {
            assertEquals(List.of("sleep 3600"), sandbox.entrypoint(), "reads report the requested entrypoint");
            InspectContainerResponse container = engine.raw.inspectContainerCmd("sandbox-" + request.id()).exec();
            assertArrayEquals(new String[] {"/opt/opensandbox/bootstrap.sh"}, container.getConfig().getEntrypoint());
            assertArrayEquals(new String[] {"sleep", "3600"}, container.getConfig().getCmd(),
                "one argument with spaces is split as upstream does");
            assertEquals(List.of(), engine.raw.listContainersCmd().withShowAll(true)
                .withLabelFilter(List.of(ExecdInjection.HELPER_LABEL)).exec(), "no helper container is left");

            Endpoint external = bridge.resolveEndpoint(request.id(), 44772, EndpointPurpose.EXTERNAL);
            assertTrue(external.address().endsWith("/proxy/44772"), external.address());
            assertEquals("200:pong", pingUntilAnswered("http://" + external.address() + "/ping"));
            Endpoint internal = bridge.resolveEndpoint(request.id(), 44772, EndpointPurpose.INTERNAL);
            assertEquals("200:pong", pingUntilAnswered("http://" + internal.address() + "/ping"));

            try (InputStream args = bridge.readFile(request.id(), "/tmp/.opensandbox-test-bootstrap-args")) {
                assertEquals("sleep\n3600\n", new String(args.readAllBytes(), StandardCharsets.UTF_8));
            }
        } finally {
            bridge.remove(request.id());
        }
    }

    @Test
    void hostNetworkModeRunsOneInjectedDaemonAtATime() {
        DockerSandboxRuntime host = runtime(Map.of("network_mode", "host"), EXECD_IMAGE);
        ProvisionRequest first = DockerTestEngine.request(engine.spec("sleep", "3600").build());
        host.create(first);
        try {
            ProvisionRequest second = DockerTestEngine.request(engine.spec("sleep", "3600").build());
            ConflictException refused = assertThrows(ConflictException.class, () -> host.create(second));
            assertEquals("DOCKER::EXECD_PORT_IN_USE", refused.code());
            assertTrue(refused.getMessage().contains(first.id().toString()), refused.getMessage());
            assertTrue(engine.containersOf(second.id()).isEmpty());
        } finally {
            host.remove(first.id());
        }
    }

    @Test
    void aMissingExecdImageFailsTheCreateAndLeavesNothing() {
        DockerSandboxRuntime broken = runtime(Map.of("network_mode", "bridge", "port_bind_address", "127.0.0.1"),
            "127.0.0.1:9/opensandbox-test/no-execd:nope");
        ProvisionRequest request = DockerTestEngine.request(engine.spec("sleep", "3600").build());

        SandboxException e = assertThrows(SandboxException.class, () -> broken.create(request));

        assertTrue(e.code().startsWith("DOCKER::"), e.code());
        assertTrue(engine.containersOf(request.id()).isEmpty());
        assertEquals(List.of(), engine.raw.listContainersCmd().withShowAll(true)
            .withLabelFilter(List.of(ExecdInjection.HELPER_LABEL)).exec());
    }
}
