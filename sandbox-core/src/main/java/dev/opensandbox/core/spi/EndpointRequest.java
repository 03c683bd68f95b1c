package dev.opensandbox.core.spi;

import dev.opensandbox.core.SandboxId;

import java.math.BigInteger;
import java.util.Objects;

/**
 * What a caller asks of {@link SandboxRuntime#resolveEndpoint(EndpointRequest)}: an endpoint of
 * one port, possibly as a signed route.
 *
 * @param id      the sandbox
 * @param port    the port inside the sandbox (the core has checked 1..65535)
 * @param purpose who will use the endpoint
 * @param expires for a signed route (OSEP-0011): the Unix second until which the route is valid,
 *                exactly as the client sent it. Not range-checked here: negative values and
 *                values above 2<sup>64</sup>−1 reach the runtime, which refuses them in its own
 *                words (upstream's messages differ by runtime). Null for an ordinary endpoint.
 *                Only {@link EndpointPurpose#EXTERNAL} endpoints are signed.
 */
public record EndpointRequest(SandboxId id, int port, EndpointPurpose purpose, BigInteger expires) {

    public EndpointRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(purpose, "purpose");
        if (expires != null && purpose != EndpointPurpose.EXTERNAL) {
            // The server's proxy dials the sandbox itself; a signature is only a client credential.
            throw new IllegalArgumentException("only external endpoints are signed");
        }
    }

    /** An ordinary (unsigned) endpoint. */
    public static EndpointRequest of(SandboxId id, int port, EndpointPurpose purpose) {
        return new EndpointRequest(id, port, purpose, null);
    }

    /** Whether a signed route is asked for. */
    public boolean signed() {
        return expires != null;
    }
}
