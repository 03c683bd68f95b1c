package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.Endpoint;

import java.util.Map;

/**
 * Endpoint shapes of the OpenSandbox ingress gateway, per route mode, plain and signed
 * (OSEP-0011). Pure. The ingress parses exactly these shapes: the target is
 * {@code <id>-<port>} (signed: {@code <id>-<port>-<expires_b36>-<signature>}) in the host's first
 * label or the {@code OpenSandbox-Ingress-To} header, or {@code /<id>/<port>}
 * (signed: {@code /<id>/<port>/<expires_b36>/<signature>}) at the start of the path.
 */
final class GatewayRoutes {

    /** Names the target sandbox and port in header route mode. */
    static final String INGRESS_TO_HEADER = "OpenSandbox-Ingress-To";

    private GatewayRoutes() {
    }

    /**
     * The endpoint of {@code port} of sandbox {@code id} behind {@code gateway}.
     *
     * @param signed the route token, or null for a plain route
     */
    static Endpoint endpoint(IngressConfig.Gateway gateway, String id, int port, RouteSigner.SignedRoute signed) {
        String target = id + "-" + port + (signed == null ? "" : "-" + signed.expiresBase36() + "-" + signed.signature());
        return switch (gateway.routeMode()) {
            case WILDCARD -> Endpoint.of(target + "." + gateway.wildcardDomain());
            case URI -> Endpoint.of(gateway.address() + "/" + id + "/" + port
                + (signed == null ? "" : "/" + signed.expiresBase36() + "/" + signed.signature()));
            case HEADER -> new Endpoint(gateway.address(), Map.of(INGRESS_TO_HEADER, target));
        };
    }
}
