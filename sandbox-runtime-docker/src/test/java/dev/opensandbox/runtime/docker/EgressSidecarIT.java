package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Container;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NetworkPolicy;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ProvisionRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The egress sidecar on the real engine with a local stand-in image that answers {@code /healthz}
 * only to its token: sidecar first, the policy, mode and token in its environment, NET_ADMIN on
 * the sidecar only, the sandbox in its namespace, ports on the sidecar, the token on the 18080
 * endpoint, the credential-proxy volume, and cleanup with the sandbox and after failures.
 */
class EgressSidecarIT {

    static final String EGRESS_IMAGE = System.getenv()
        .getOrDefault("OPENSANDBOX_TEST_EGRESS_IMAGE", "opensandbox-test/egress:latest");
    private static final NetworkPolicy POLICY = new NetworkPolicy("deny",
        List.of(new NetworkPolicy.Rule("allow", "pypi.org"), new NetworkPolicy.Rule("allow", "*.example.com")));

    private static DockerTestEngine engine;
    private static DockerSandboxRuntime runtime;

    @BeforeAll
    static void connect() {
        engine = DockerTestEngine.connectOrSkip();
        runtime = runtime(EGRESS_IMAGE, Map.of());
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (engine != null) {
            engine.raw.listContainersCmd().withShowAll(true).withLabelFilter(List.of(Labels.EGRESS_SIDECAR_FOR)).exec()
                .stream().filter(c -> c.getNames()[0].contains("egress")).forEach(c -> {
                    try {
                        engine.raw.removeContainerCmd(c.getId()).withForce(true).exec();
                    } catch (RuntimeException ignored) {
                        // gone
                    }
                });
            engine.close();
        }
    }

    private static DockerSandboxRuntime runtime(String egressImage, Map<String, Object> egressExtra) {
        Map<String, Object> egress = new java.util.HashMap<>(egressExtra);
        egress.put("image", egressImage);
        DockerRuntimeConfig config = DockerRuntimeConfig.from(Map.of("network_mode", "bridge", "port_bind_address",
            "127.0.0.1"), Map.of("host", "127.0.0.1"), Map.of(), egress, Map.of());
        return new DockerSandboxRuntime(config, engine.counted, Clock.systemUTC());
    }

    private static ProvisionRequest request(boolean credentialProxy) {
        SandboxSpec spec = engine.spec("sleep", "3600").networkPolicy(POLICY).credentialProxy(credentialProxy).build();
        return DockerTestEngine.request(spec);
    }

    private static List<Container> sidecarsOf(ProvisionRequest request) {
        return engine.raw.listContainersCmd().withShowAll(true)
            .withLabelFilter(Map.of(Labels.EGRESS_SIDECAR_FOR, request.id().toString())).exec();
    }

    private static Map<String, String> env(InspectContainerResponse container) {
        Map<String, String> env = new java.util.HashMap<>();
        for (String entry : container.getConfig().getEnv()) {
            int eq = entry.indexOf('=');
            env.put(entry.substring(0, eq), entry.substring(eq + 1));
        }
        return env;
    }

    @Test
    void theSidecarComesFirstOwnsTheNetworkAndGuardsItsApiWithTheToken() throws Exception {
        ProvisionRequest request = request(false);
        runtime.create(request);
        try {
            List<Container> sidecars = sidecarsOf(request);
            assertEquals(1, sidecars.size());
            InspectContainerResponse sidecar = engine.raw.inspectContainerCmd(sidecars.get(0).getId()).exec();
            InspectContainerResponse sandbox = engine.raw.inspectContainerCmd("sandbox-" + request.id()).exec();
            assertEquals("/sandbox-egress-" + request.id(), sidecar.getName());
            assertNull(sidecar.getConfig().getLabels().get(Labels.ID), "a sidecar never lists as a sandbox");

            Map<String, String> sidecarEnv = env(sidecar);
            assertEquals("{\"defaultAction\": \"deny\", \"egress\": [{\"action\": \"allow\", \"target\": \"pypi.org\"}, "
                + "{\"action\": \"allow\", \"target\": \"*.example.com\"}]}", sidecarEnv.get("OPENSANDBOX_EGRESS_RULES"));
            assertEquals("dns", sidecarEnv.get("OPENSANDBOX_EGRESS_MODE"));
            String token = sidecarEnv.get("OPENSANDBOX_EGRESS_TOKEN");
            assertEquals(token, sandbox.getConfig().getLabels().get(Labels.EGRESS_AUTH_TOKEN));
            assertTrue(token.length() >= 32, token);

            assertTrue(Arrays.asList(sidecar.getHostConfig().getCapAdd()).contains(Capability.NET_ADMIN));
            assertTrue(Arrays.asList(sandbox.getHostConfig().getCapDrop()).contains(Capability.NET_ADMIN));
            assertEquals("container:" + sidecar.getId(), sandbox.getHostConfig().getNetworkMode());
            assertEquals("1", sidecar.getHostConfig().getSysctls().get("net.ipv6.conf.all.disable_ipv6"));
            assertTrue(sandbox.getHostConfig().getPortBindings() == null
                || sandbox.getHostConfig().getPortBindings().getBindings().isEmpty(), "ports live on the sidecar");

            Endpoint egressApi = runtime.resolveEndpoint(request.id(), EgressSidecar.API_PORT, EndpointPurpose.EXTERNAL);
            assertEquals(token, egressApi.headers().get(EgressSidecar.AUTH_HEADER));
            assertTrue(runtime.resolveEndpoint(request.id(), 8080, EndpointPurpose.EXTERNAL).headers().isEmpty(),
                "only 18080 carries the egress token");
            String published = sandbox.getConfig().getLabels().get(Labels.EMBEDDING_PROXY_PORT);
            assertTrue(runtime.resolveEndpoint(request.id(), 44772, EndpointPurpose.EXTERNAL).address()
                .endsWith(":" + published + "/proxy/44772"));

            // Inside the sandbox, 127.0.0.1:18080 is the sidecar (one network namespace).
            Endpoint internal = runtime.resolveEndpoint(request.id(), EgressSidecar.API_PORT, EndpointPurpose.INTERNAL);
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> withToken = http.send(HttpRequest.newBuilder(URI.create("http://" + internal.address()
                + "/healthz")).header(EgressSidecar.AUTH_HEADER, token).timeout(Duration.ofSeconds(3)).build(),
                HttpResponse.BodyHandlers.ofString());
            assertEquals(200, withToken.statusCode());
        } finally {
            runtime.remove(request.id());
        }
        assertTrue(sidecarsOf(request).isEmpty(), "the sidecar goes with the sandbox");
    }

    @Test
    void theCredentialProxyVariantSharesAManagedVolumeAndMarksTheSandbox() {
        ProvisionRequest request = request(true);
        runtime.create(request);
        String volume = "opensandbox-runtime-" + request.id();
        try {
            InspectContainerResponse sidecar = engine.raw.inspectContainerCmd(sidecarsOf(request).get(0).getId()).exec();
            InspectContainerResponse sandbox = engine.raw.inspectContainerCmd("sandbox-" + request.id()).exec();
            assertEquals("true", env(sidecar).get(EgressSidecar.TRANSPARENT_ENV));
            assertEquals("true", env(sandbox).get(EgressSidecar.TRANSPARENT_ENV));
            assertTrue(Arrays.stream(sandbox.getHostConfig().getBinds()).anyMatch(b -> b.toString().startsWith(volume + ":/opt/opensandbox")));
            assertTrue(Arrays.stream(sidecar.getHostConfig().getBinds()).anyMatch(b -> b.toString().startsWith(volume + ":/opt/opensandbox")));
            assertEquals("server", engine.raw.inspectVolumeCmd(volume).exec().getLabels().get(Labels.VOLUME_MANAGED_BY));
        } finally {
            runtime.remove(request.id());
        }
        assertThrows(com.github.dockerjava.api.exception.NotFoundException.class,
            () -> engine.raw.inspectVolumeCmd(volume).exec(), "the shared volume goes with the sandbox");
    }

    @Test
    void aSidecarThatDiesFailsTheCreateAndLeavesNothing() {
        // The busybox image's CMD is a shell that exits at once: no /healthz ever answers.
        DockerSandboxRuntime broken = runtime(DockerTestEngine.TEST_IMAGE, Map.of());
        ProvisionRequest request = request(true);

        RuntimeFailureException e = assertThrows(RuntimeFailureException.class, () -> broken.create(request));

        assertEquals("DOCKER::SANDBOX_START_FAILED", e.code());
        assertTrue(sidecarsOf(request).isEmpty());
        assertTrue(engine.containersOf(request.id()).isEmpty());
        assertThrows(com.github.dockerjava.api.exception.NotFoundException.class,
            () -> engine.raw.inspectVolumeCmd("opensandbox-runtime-" + request.id()).exec());
    }

    @Test
    void aPolicyNeedsBridgeModeAndAConfiguredImage() {
        SandboxSpec spec = engine.spec("sleep", "1").networkPolicy(POLICY).build();
        DockerRuntimeConfig host = DockerRuntimeConfig.from(Map.of("network_mode", "host"), Map.of(), Map.of(),
            Map.of("image", EGRESS_IMAGE), Map.of());
        InvalidRequestException hostMode = assertThrows(InvalidRequestException.class,
            () -> new DockerSandboxRuntime(host, engine.counted, Clock.systemUTC()).validate(spec));
        assertTrue(hostMode.getMessage().contains("bridge"), hostMode.getMessage());
        DockerRuntimeConfig noImage = DockerRuntimeConfig.from(Map.of("network_mode", "bridge"), Map.of(), Map.of(),
            Map.of(), Map.of());
        InvalidRequestException missing = assertThrows(InvalidRequestException.class,
            () -> new DockerSandboxRuntime(noImage, engine.counted, Clock.systemUTC()).validate(spec));
        assertTrue(missing.getMessage().contains("egress.image"), missing.getMessage());
        assertFalse(missing.code().isEmpty());
    }
}
