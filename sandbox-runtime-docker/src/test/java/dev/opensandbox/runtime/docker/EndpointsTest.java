package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.spi.EndpointPurpose;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.opensandbox.core.spi.EndpointPurpose.EXTERNAL;
import static dev.opensandbox.core.spi.EndpointPurpose.INTERNAL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EndpointsTest {

    private static final Endpoints.Facts BRIDGE = new Endpoints.Facts(Map.of(), Map.of(44772, 50001, 8080, 50002),
        "172.17.0.5");

    private static String resolve(String mode, int port, EndpointPurpose purpose, Endpoints.Facts facts) {
        return Endpoints.resolve(mode, port, purpose, facts, () -> "203.0.113.7", "127.0.0.1").address();
    }

    @Test
    void hostModeUsesThePortItself() {
        assertEquals("203.0.113.7:6000", resolve("host", 6000, EXTERNAL, BRIDGE));
        assertEquals("127.0.0.1:6000", resolve("host", 6000, INTERNAL, BRIDGE));
    }

    @Test
    void bridgePublishes8080DirectlyAndEveryOtherPortThroughExecdProxy() {
        assertEquals("203.0.113.7:50002", resolve("bridge", 8080, EXTERNAL, BRIDGE));
        assertEquals("203.0.113.7:50001/proxy/44772", resolve("bridge", 44772, EXTERNAL, BRIDGE));
        assertEquals("203.0.113.7:50001/proxy/6000", resolve("default", 6000, EXTERNAL, BRIDGE));
    }

    @Test
    void bridgeInternalDialsTheContainerIp() {
        assertEquals("172.17.0.5:44772", resolve("bridge", 44772, INTERNAL, BRIDGE));
        assertEquals("172.17.0.5:8080", resolve("my-net", 8080, INTERNAL, BRIDGE));
    }

    @Test
    void upstreamPortLabelsAreTheFallback() {
        Endpoints.Facts upstream = new Endpoints.Facts(
            Map.of("opensandbox.io/embedding-proxy-port", "41000", "opensandbox.io/http-port", "41001"), Map.of(), null);

        assertEquals("203.0.113.7:41001", resolve("bridge", 8080, EXTERNAL, upstream));
        assertEquals("203.0.113.7:41000/proxy/18080", resolve("bridge", 18080, EXTERNAL, upstream));
        assertEquals("127.0.0.1:41000/proxy/18080", resolve("container:abc", 18080, INTERNAL, upstream));
    }

    @Test
    void missingMappingOrIpIsEndpointUnavailable() {
        Endpoints.Facts nothing = new Endpoints.Facts(Map.of(), Map.of(), null);

        RuntimeFailureException external = assertThrows(RuntimeFailureException.class,
            () -> resolve("bridge", 44772, EXTERNAL, nothing));
        RuntimeFailureException internal = assertThrows(RuntimeFailureException.class,
            () -> resolve("bridge", 44772, INTERNAL, nothing));

        assertEquals("DOCKER::NETWORK_MODE_ENDPOINT_UNAVAILABLE", external.code());
        assertEquals("Container is running but has no assigned IP address.", internal.getMessage());
    }

    @Test
    void publicHostPrefersEipThenConcreteServerHostThenHostIp() {
        DockerRuntimeConfig base = DockerRuntimeConfig.defaults();
        assertEquals("198.51.100.1", PublicHost.resolve(with(base, "0.0.0.0", "198.51.100.1", "10.0.0.1")));
        assertEquals("10.1.1.1", PublicHost.resolve(with(base, "10.1.1.1", null, "10.0.0.1")));
        assertEquals("10.0.0.1", PublicHost.resolve(with(base, "0.0.0.0", null, "10.0.0.1")));
        assertEquals("10.0.0.1", PublicHost.resolve(with(base, "::", null, "10.0.0.1")));
    }

    private static DockerRuntimeConfig with(DockerRuntimeConfig c, String serverHost, String eip, String hostIp) {
        return new DockerRuntimeConfig(c.networkMode(), c.apiTimeout(), hostIp, c.dropCapabilities(), c.apparmorProfile(),
            c.noNewPrivileges(), c.seccompProfile(), c.pidsLimit(), c.portBindAddress(), serverHost, eip, c.ociRuntime(),
            c.egressImage(), c.allowedHostPaths(), c.execdImage(), c.egressMode(), c.egressDisableIpv6(),
            c.ossfsMountRoot(), c.diagnosticsVisibleEnv(), c.deployment());
    }
}
