package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Ports;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NetworkPolicy;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.SandboxId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The egress sidecar of a sandbox with a {@code networkPolicy}, as upstream runs it: a container
 * of {@code [egress] image} named {@code sandbox-egress-<id>} on the default bridge with
 * {@code NET_ADMIN}, the policy, mode and a per-sandbox token in its environment, and the ports of
 * the sandbox (44772, 8080) plus its own API (18080) published; the sandbox container then joins
 * its network namespace. Creation waits (bounded) for {@code GET /healthz} with the token.
 *
 * <p>Better than upstream: the sidecar gets {@code no-new-privileges} and the pids limit (W17),
 * its ports bind to {@code [docker] port_bind_address} rather than every interface, and the
 * readiness check dials the sidecar's own bridge address instead of guessing the server's host.
 */
final class EgressSidecar {

    private static final Logger LOG = LoggerFactory.getLogger(EgressSidecar.class);
    static final int API_PORT = 18080;
    static final String AUTH_HEADER = "OPENSANDBOX-EGRESS-AUTH";
    static final Duration READY_LIMIT = Duration.ofSeconds(30);
    static final String TRANSPARENT_ENV = "OPENSANDBOX_EGRESS_MITMPROXY_TRANSPARENT";

    private final DockerClient docker;
    private final DockerRuntimeConfig config;
    private final BiConsumer<String, Platform> ensureImage;
    private final Ownership ownership;
    private final SecureRandom random = new SecureRandom();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    EgressSidecar(DockerClient docker, DockerRuntimeConfig config, BiConsumer<String, Platform> ensureImage,
                  Ownership ownership) {
        this.docker = docker;
        this.config = config;
        this.ensureImage = ensureImage;
        this.ownership = ownership;
    }

    /**
     * A running, healthy sidecar.
     *
     * @param execdHostPort the host port published for the sandbox's 44772
     * @param httpHostPort  the host port published for the sandbox's 8080
     */
    record Started(String containerId, String token, int execdHostPort, int httpHostPort) {
    }

    static String containerName(SandboxId id) {
        return "sandbox-egress-" + id;
    }

    /**
     * Starts the sidecar and waits until it is healthy; on any failure removes it and throws.
     *
     * @param runtimeVolume the credential proxy's shared volume to mount at /opt/opensandbox, or null
     */
    Started start(SandboxId id, NetworkPolicy policy, boolean credentialProxy, String runtimeVolume) {
        ensureImage.accept(config.egressImage(), null);
        String token = newToken();
        List<String> env = new ArrayList<>(List.of(
            "OPENSANDBOX_EGRESS_RULES=" + rulesJson(policy),
            "OPENSANDBOX_EGRESS_MODE=" + config.egressMode(),
            "OPENSANDBOX_EGRESS_TOKEN=" + token));
        if (credentialProxy) {
            env.add(TRANSPARENT_ENV + "=true");
        }
        String containerId = null;
        try {
            containerId = docker.createContainerCmd(config.egressImage())
                .withName(containerName(id))
                .withLabels(ownership.stamp(Map.of(Labels.EGRESS_SIDECAR_FOR, id.toString())))
                .withEnv(env)
                .withExposedPorts(ExposedPort.tcp(DockerSandboxRuntime.EXECD_PORT), ExposedPort.tcp(DockerSandboxRuntime.HTTP_PORT),
                    ExposedPort.tcp(API_PORT))
                .withHostConfig(hostConfig(runtimeVolume))
                .exec().getId();
            if (containerId == null) {
                throw new IllegalStateException("Docker did not return an egress sidecar container ID.");
            }
            docker.startContainerCmd(containerId).exec();
            InspectContainerResponse inspected = docker.inspectContainerCmd(containerId).exec();
            Map<Integer, Integer> ports = DockerSandboxRuntime.publishedPorts(inspected);
            String ip = DockerSandboxRuntime.bridgeAddress(inspected);
            awaitHealthy(id, ip, ports.get(API_PORT), token);
            return new Started(containerId, token, required(ports, DockerSandboxRuntime.EXECD_PORT),
                required(ports, DockerSandboxRuntime.HTTP_PORT));
        } catch (RuntimeException e) {
            remove(id);
            if (e instanceof RuntimeFailureException failure) {
                throw failure;
            }
            throw new RuntimeFailureException(DockerErrors.START_FAILED,
                "Egress sidecar container failed to start: " + DockerErrors.describe(e), e);
        }
    }

    private HostConfig hostConfig(String runtimeVolume) {
        Ports ports = new Ports();
        for (int port : new int[] {DockerSandboxRuntime.EXECD_PORT, DockerSandboxRuntime.HTTP_PORT, API_PORT}) {
            ports.bind(ExposedPort.tcp(port), Ports.Binding.bindIp(config.portBindAddress()));
        }
        HostConfig host = HostConfig.newHostConfig().withNetworkMode("bridge").withCapAdd(Capability.NET_ADMIN)
            .withPortBindings(ports);
        if (config.noNewPrivileges()) {
            host.withSecurityOpts(List.of("no-new-privileges:true"));
        }
        if (config.pidsLimit() > 0) {
            host.withPidsLimit(config.pidsLimit());
        }
        if (config.egressDisableIpv6()) {
            Map<String, String> sysctls = new LinkedHashMap<>();
            sysctls.put("net.ipv6.conf.all.disable_ipv6", "1");
            sysctls.put("net.ipv6.conf.default.disable_ipv6", "1");
            sysctls.put("net.ipv6.conf.lo.disable_ipv6", "1");
            host.withSysctls(sysctls);
        }
        if (runtimeVolume != null) {
            host.withBinds(Bind.parse(runtimeVolume + ":/opt/opensandbox:rw"));
        }
        return host;
    }

    private static int required(Map<Integer, Integer> ports, int port) {
        Integer published = ports.get(port);
        if (published == null || published <= 0) {
            throw new RuntimeFailureException(DockerErrors.START_FAILED,
                "The egress sidecar's port " + port + " was not published.");
        }
        return published;
    }

    /** {@code GET /healthz} with the token until 2xx; 5xx and connection errors are retried for up to 30 s. */
    private void awaitHealthy(SandboxId id, String ip, Integer publishedApiPort, String token) {
        String address = ip != null ? ip + ":" + API_PORT
            : (publishedApiPort == null ? null : loopbackFor(config.portBindAddress()) + ":" + publishedApiPort);
        if (address == null) {
            throw new RuntimeFailureException(DockerErrors.START_FAILED, "The egress sidecar has no reachable address.");
        }
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + address + "/healthz"))
            .timeout(Duration.ofSeconds(1)).header(AUTH_HEADER, token).GET().build();
        long deadline = System.nanoTime() + READY_LIMIT.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<Void> response = http.send(request, HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() / 100 == 2) {
                    LOG.info("Egress sidecar of sandbox {} is healthy", id);
                    return;
                }
                last = "HTTP " + response.statusCode();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeFailureException(DockerErrors.START_FAILED, "Interrupted waiting for the egress sidecar.");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeFailureException(DockerErrors.START_FAILED, "Interrupted waiting for the egress sidecar.");
            }
        }
        throw new RuntimeFailureException(DockerErrors.START_FAILED, "The egress sidecar of sandbox " + id
            + " did not become healthy within " + READY_LIMIT.toSeconds() + " s (last: " + last + ").");
    }

    private static String loopbackFor(String bindAddress) {
        return bindAddress == null || bindAddress.equals("0.0.0.0") || bindAddress.equals("::") ? "127.0.0.1" : bindAddress;
    }

    /** Removes every sidecar of a sandbox that this deployment owns; errors are logged. */
    void remove(SandboxId id) {
        try {
            for (var container : ownership.containers(docker, Labels.EGRESS_SIDECAR_FOR, id.toString())) {
                docker.removeContainerCmd(container.getId()).withForce(true).withRemoveVolumes(true).exec();
            }
        } catch (RuntimeException e) {
            LOG.warn("Could not remove the egress sidecar of sandbox {}: {}", id, DockerErrors.describe(e));
        }
    }

    private String newToken() {
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /**
     * The policy as upstream serializes it for the sidecar: Python's {@code json.dumps} with its
     * default separators, aliases, no nulls ({@code {"egress": [...]}} without a default action).
     */
    static String rulesJson(NetworkPolicy policy) {
        return policy.sidecarJson(", ", ": ");
    }
}
