package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.spi.RuntimeContext;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntimeProvider;

import java.time.Clock;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Provides the Docker runtime for {@code [runtime] type = "docker"}. Reads {@code [docker]},
 * {@code [server]}, {@code [secure_runtime]} and {@code [egress]} (see {@link DockerRuntimeConfig})
 * and connects to the engine named by {@code DOCKER_HOST} (default
 * {@code unix:///var/run/docker.sock}), {@code DOCKER_TLS_VERIFY}, {@code DOCKER_CERT_PATH} and
 * {@code DOCKER_CONFIG} from the context's environment. Fails fast with
 * {@code DOCKER::INITIALIZATION_ERROR} when the engine cannot be reached or lacks the OCI runtime
 * that {@code [secure_runtime]} names.
 */
public final class DockerRuntimeProvider implements SandboxRuntimeProvider {

    /** The value of {@code [runtime] type} that selects this provider. */
    public static final String TYPE = DockerSandboxRuntime.TYPE;

    private static final String DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public SandboxRuntime create(RuntimeContext context) {
        DockerRuntimeConfig config = DockerRuntimeConfig.from(context);
        return create(config, context.environment(), context.clock());
    }

    /** Builds the runtime from an already parsed configuration, for embedders. */
    public SandboxRuntime create(DockerRuntimeConfig config, Map<String, String> environment, Clock clock) {
        DockerClient client = connect(config, environment);
        if (config.ociRuntime() != null) {
            try {
                requireOciRuntime(config.ociRuntime(), client.infoCmd().exec().getRuntimes());
            } catch (RuntimeException e) {
                try {
                    client.close();
                } catch (Exception ignored) {
                    // already failing
                }
                throw e instanceof UnavailableException ? e : new UnavailableException(DockerErrors.INITIALIZATION_ERROR,
                    "Cannot read the Docker engine's OCI runtimes: " + DockerErrors.describe(e), e);
            }
        }
        String dockerHost = environment.getOrDefault("DOCKER_HOST", DEFAULT_DOCKER_HOST);
        boolean localEngine = dockerHost.isBlank() || dockerHost.startsWith("unix://") || dockerHost.startsWith("npipe://");
        return new DockerSandboxRuntime(config, client, clock, localEngine,
            OssfsMounts.pathOf(environment.get("PATH")));
    }

    /**
     * A configured secure runtime must be one the engine knows, checked at start as upstream does:
     * otherwise every create would fail later with an engine error naming no setting.
     */
    static void requireOciRuntime(String wanted, Map<String, ?> engineRuntimes) {
        Set<String> available = engineRuntimes == null ? Set.of() : new TreeSet<>(engineRuntimes.keySet());
        if (!available.contains(wanted)) {
            throw new UnavailableException(DockerErrors.INITIALIZATION_ERROR,
                "[secure_runtime] asks for the OCI runtime '" + wanted + "', but the Docker engine only has "
                    + (available.isEmpty() ? "none listed" : String.join(", ", available))
                    + ": install and register it with the engine (daemon.json \"runtimes\"), or change [secure_runtime].");
        }
    }

    static DockerClient connect(DockerRuntimeConfig config, Map<String, String> environment) {
        String dockerHost = environment.getOrDefault("DOCKER_HOST", DEFAULT_DOCKER_HOST);
        if (dockerHost.isBlank()) {
            dockerHost = DEFAULT_DOCKER_HOST;
        }
        DockerClient client;
        try {
            DefaultDockerClientConfig.Builder builder = new DefaultDockerClientConfig.Builder().withDockerHost(dockerHost);
            String tlsVerify = environment.get("DOCKER_TLS_VERIFY");
            if (tlsVerify != null && !tlsVerify.isBlank()) {
                builder.withDockerTlsVerify(!tlsVerify.equals("0") && !tlsVerify.equalsIgnoreCase("false"));
            }
            String certPath = environment.get("DOCKER_CERT_PATH");
            if (certPath != null && !certPath.isBlank()) {
                builder.withDockerCertPath(certPath);
            }
            String dockerConfig = environment.get("DOCKER_CONFIG");
            if (dockerConfig != null && !dockerConfig.isBlank()) {
                builder.withDockerConfig(dockerConfig);
            }
            // No API version: requests go unversioned and the engine answers with its own (1.41 here).
            DefaultDockerClientConfig clientConfig = builder.build();
            ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder()
                .dockerHost(clientConfig.getDockerHost())
                .sslConfig(clientConfig.getSSLConfig())
                .maxConnections(100)
                .connectionTimeout(config.apiTimeout())
                .responseTimeout(config.apiTimeout())
                .build();
            client = DockerClientImpl.getInstance(clientConfig, http);
        } catch (RuntimeException e) {
            throw new UnavailableException(DockerErrors.INITIALIZATION_ERROR,
                "Failed to initialize the Docker client for " + dockerHost + ": " + DockerErrors.describe(e)
                    + hint(dockerHost), e);
        }
        try {
            client.pingCmd().exec();
        } catch (RuntimeException e) {
            try {
                client.close();
            } catch (Exception ignored) {
                // already failing
            }
            throw new UnavailableException(DockerErrors.INITIALIZATION_ERROR,
                "Cannot reach the Docker engine at " + dockerHost + ": " + DockerErrors.describe(e) + hint(dockerHost), e);
        }
        return client;
    }

    private static String hint(String dockerHost) {
        if (dockerHost.startsWith("ssh://")) {
            return " (docker-java has no ssh:// transport: forward the socket, for example with "
                + "`ssh -L /tmp/docker.sock:/var/run/docker.sock`, and set DOCKER_HOST=unix:///tmp/docker.sock)";
        }
        return " (is the Docker daemon running and is its socket readable by this user? With Docker Desktop or "
            + "Colima set DOCKER_HOST, for example DOCKER_HOST=unix://${HOME}/.colima/default/docker.sock)";
    }
}
