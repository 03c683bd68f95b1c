package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.spi.EndpointPurpose;

import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/** Endpoint rules of upstream's Docker runtime (§2), as pure functions of what the container reports. */
final class Endpoints {

    /**
     * What a container tells about its reachability.
     *
     * @param labels         its labels (upstream recorded host ports there)
     * @param publishedPorts container port → host port, from its network settings
     * @param containerIp    its address on its own network, or null
     */
    record Facts(Map<String, String> labels, Map<Integer, Integer> publishedPorts, String containerIp) {
    }

    private Endpoints() {
    }

    /**
     * @param mode                  the network mode the container was created with
     * @param publicHost            the host clients are told (computed only when needed)
     * @param internalPublishedHost where the server itself reaches ports published on the Docker host
     */
    static Endpoint resolve(String mode, int port, EndpointPurpose purpose, Facts facts, Supplier<String> publicHost,
                            String internalPublishedHost) {
        String lower = mode.toLowerCase(Locale.ROOT);
        if (lower.equals("host")) {
            return Endpoint.of((purpose == EndpointPurpose.EXTERNAL ? publicHost.get() : "127.0.0.1") + ":" + port);
        }
        if (lower.startsWith("container:")) {
            // Egress-sidecar mode (upstream-created): the ports are published on the sidecar and recorded as labels.
            String host = purpose == EndpointPurpose.EXTERNAL ? publicHost.get() : internalPublishedHost;
            return viaPublishedPorts(host, port, facts);
        }
        if (purpose == EndpointPurpose.EXTERNAL) {
            return viaPublishedPorts(publicHost.get(), port, facts);
        }
        if (facts.containerIp() == null || facts.containerIp().isBlank()) {
            throw new RuntimeFailureException(DockerErrors.ENDPOINT_UNAVAILABLE,
                "Container is running but has no assigned IP address.");
        }
        return Endpoint.of(facts.containerIp() + ":" + port);
    }

    /** 8080 is published directly; every other port goes through execd's {@code /proxy/<port>} on 44772. */
    private static Endpoint viaPublishedPorts(String host, int port, Facts facts) {
        if (port == DockerSandboxRuntime.HTTP_PORT) {
            return Endpoint.of(host + ":" + hostPort(facts, DockerSandboxRuntime.HTTP_PORT, Labels.HTTP_PORT));
        }
        return Endpoint.of(host + ":" + hostPort(facts, DockerSandboxRuntime.EXECD_PORT, Labels.EMBEDDING_PROXY_PORT)
            + "/proxy/" + port);
    }

    private static int hostPort(Facts facts, int containerPort, String label) {
        Integer published = facts.publishedPorts().get(containerPort);
        if (published != null && published > 0) {
            return published;
        }
        String recorded = facts.labels().get(label);
        if (recorded != null && recorded.trim().matches("\\d{1,5}")) {
            int value = Integer.parseInt(recorded.trim());
            if (value > 0 && value <= 65535) {
                return value;
            }
        }
        throw new RuntimeFailureException(DockerErrors.ENDPOINT_UNAVAILABLE,
            "Container port " + containerPort + " is not published on the Docker host (is the sandbox running?).");
    }
}
