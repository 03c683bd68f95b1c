package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import dev.opensandbox.core.UnavailableException;

import javax.net.ssl.SSLContext;
import java.time.Duration;
import java.util.Map;

/**
 * The connections to one Docker engine: a client for control calls (inspect, list, create,
 * remove, ...) and a client for long streams (exec attach, logs, statistics, pulls, file
 * transfers), each with a pool of its own, so that control calls never wait behind streams.
 * The stream pool is bounded ({@link #STREAM_CONNECTIONS}); when it is full a new stream fails
 * at once with {@code DOCKER::ENGINE_BUSY} instead of waiting for one to end.
 *
 * @param address the engine as configured ({@code DOCKER_HOST}), for messages
 * @param control the client of control calls
 * @param streams the client of streams
 */
record DockerEngine(String address, DockerClient control, DockerClient streams) implements AutoCloseable {

    static final String DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";
    /** Control calls are short; more than this many at once wait (at most {@code api_timeout}) for a free one. */
    static final int CONTROL_CONNECTIONS = 100;
    /** Streams at once, each one open connection (and one engine goroutine) for as long as it runs. */
    static final int STREAM_CONNECTIONS = 512;
    /** A stream waits this long for a free connection: they are held for minutes, waiting longer rarely helps. */
    static final Duration STREAM_LEASE_WAIT = Duration.ofSeconds(1);

    /** Both clients, after a ping of the engine bounded by {@code api_timeout}. */
    static DockerEngine connect(DockerRuntimeConfig config, Map<String, String> environment, int streamConnections) {
        String address = address(environment);
        DefaultDockerClientConfig clientConfig = clientConfig(address, environment);
        DockerClient control = answering(client(clientConfig, config.apiTimeout(),
            new EngineTransport.Pool("control", CONTROL_CONNECTIONS, config.apiTimeout())), address);
        DockerClient streams = client(clientConfig, config.apiTimeout(),
            new EngineTransport.Pool("stream", streamConnections, STREAM_LEASE_WAIT));
        return new DockerEngine(address, control, streams);
    }

    /** One control client, pinged; for tests and tools that need no streams of their own. */
    static DockerClient connectControl(DockerRuntimeConfig config, Map<String, String> environment) {
        String address = address(environment);
        return answering(client(clientConfig(address, environment), config.apiTimeout(),
            new EngineTransport.Pool("control", CONTROL_CONNECTIONS, config.apiTimeout())), address);
    }

    /** {@code client} once the engine answered a ping; closed and {@code DOCKER::INITIALIZATION_ERROR} otherwise. */
    private static DockerClient answering(DockerClient client, String address) {
        try {
            client.pingCmd().exec();
            return client;
        } catch (RuntimeException e) {
            closeQuietly(client);
            throw new UnavailableException(DockerErrors.INITIALIZATION_ERROR,
                "Cannot reach the Docker engine at " + address + ": " + DockerErrors.describe(e) + hint(address), e);
        }
    }

    static String address(Map<String, String> environment) {
        String dockerHost = environment.getOrDefault("DOCKER_HOST", DEFAULT_DOCKER_HOST);
        return dockerHost == null || dockerHost.isBlank() ? DEFAULT_DOCKER_HOST : dockerHost.strip();
    }

    /**
     * Checks that the engine answers, within {@code api_timeout}.
     *
     * @throws UnavailableException naming the engine when it does not
     */
    void ping() {
        try {
            control.pingCmd().exec();
        } catch (RuntimeException e) {
            throw DockerErrors.engineFault(e, address, "ping the engine").orElseGet(() -> new UnavailableException(
                DockerErrors.ENGINE_UNAVAILABLE, "The Docker engine at " + address + " refused the ping: "
                    + DockerErrors.describe(e), e));
        }
    }

    private static DefaultDockerClientConfig clientConfig(String address, Map<String, String> environment) {
        try {
            DefaultDockerClientConfig.Builder builder = new DefaultDockerClientConfig.Builder().withDockerHost(address);
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
            return builder.build();
        } catch (RuntimeException e) {
            throw new UnavailableException(DockerErrors.INITIALIZATION_ERROR,
                "Failed to initialize the Docker client for " + address + ": " + DockerErrors.describe(e) + hint(address), e);
        }
    }

    private static DockerClient client(DefaultDockerClientConfig clientConfig, Duration apiTimeout,
                                       EngineTransport.Pool pool) {
        try {
            SSLContext ssl = clientConfig.getSSLConfig() == null ? null : clientConfig.getSSLConfig().getSSLContext();
            return DockerClientImpl.getInstance(clientConfig,
                new EngineTransport(clientConfig.getDockerHost(), ssl, apiTimeout, pool));
        } catch (Exception e) {
            String address = String.valueOf(clientConfig.getDockerHost());
            throw new UnavailableException(DockerErrors.INITIALIZATION_ERROR,
                "Failed to initialize the Docker client for " + address + ": " + DockerErrors.describe(e) + hint(address), e);
        }
    }

    static String hint(String dockerHost) {
        if (dockerHost.startsWith("ssh://")) {
            return " (docker-java has no ssh:// transport: forward the socket, for example with "
                + "`ssh -L /tmp/docker.sock:/var/run/docker.sock`, and set DOCKER_HOST=unix:///tmp/docker.sock)";
        }
        return " (is the Docker daemon running and is its socket readable by this user? With Docker Desktop or "
            + "Colima set DOCKER_HOST, for example DOCKER_HOST=unix://${HOME}/.colima/default/docker.sock)";
    }

    @Override
    public void close() {
        closeQuietly(streams);
        closeQuietly(control);
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // closing a client that failed or is already closed
        }
    }
}
