package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.Endpoint;
import dev.opensandbox.runtime.k8s.IngressConfig.RouteMode;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The endpoint shapes the OpenSandbox ingress parses, per route mode. */
class GatewayRoutesTest {

    static final RouteSigner.SignedRoute SIGNED = RouteSigner.sign("sbx-001", 8080, 2_000_000_000L, RouteSignerTest.TEST_KEY);

    static Endpoint route(String address, RouteMode mode, String id, int port, RouteSigner.SignedRoute signed) {
        return GatewayRoutes.endpoint(new IngressConfig.Gateway(address, mode), id, port, signed);
    }

    @Test
    void wildcardPutsTheTargetInTheFirstHostLabel() {
        assertEquals(Endpoint.of("sid-8080.example.com"), route("*.example.com", RouteMode.WILDCARD, "sid", 8080, null));
        assertEquals(Endpoint.of("sbx-001-8080-x2qxvk-0ff8cd39a.sandboxes.example.com"),
            route("*.sandboxes.example.com", RouteMode.WILDCARD, "sbx-001", 8080, SIGNED));
    }

    @Test
    void uriPutsTheTargetInTheFirstPathSegments() {
        assertEquals(Endpoint.of("gateway.example.com/sid/9000"), route("gateway.example.com", RouteMode.URI, "sid", 9000, null));
        Endpoint signed = route("gateway.example.com:8443", RouteMode.URI, "sbx-001", 8080, SIGNED);
        assertEquals(Endpoint.of("gateway.example.com:8443/sbx-001/8080/x2qxvk/0ff8cd39a"), signed);
    }

    @Test
    void headerModeAnswersTheGatewayAndNamesTheTargetInAHeader() {
        assertEquals(new Endpoint("10.0.0.1:80", Map.of("OpenSandbox-Ingress-To", "sid-8080")),
            route("10.0.0.1:80", RouteMode.HEADER, "sid", 8080, null));
        assertEquals(new Endpoint("gateway.example.com", Map.of("OpenSandbox-Ingress-To", "sbx-001-8080-x2qxvk-0ff8cd39a")),
            route("gateway.example.com", RouteMode.HEADER, "sbx-001", 8080, SIGNED));
    }

    @Test
    void aWildcardGatewayNeedsAWildcardAddress() {
        assertThrows(dev.opensandbox.core.UnavailableException.class,
            () -> new IngressConfig.Gateway("gateway.example.com", RouteMode.WILDCARD));
        assertThrows(dev.opensandbox.core.UnavailableException.class, () -> new IngressConfig.Gateway(" ", RouteMode.URI));
    }
}
