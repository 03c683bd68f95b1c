package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.DockerClient;
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
 * {@code DOCKER_CONFIG} from the context's environment, with every engine call bounded by
 * {@code [docker] api_timeout} (see {@code EngineTransport}) and engine faults answered as 503s
 * naming the engine (see {@code EngineGuardedRuntime}). Fails within {@code api_timeout} with
 * {@code DOCKER::INITIALIZATION_ERROR} when the engine cannot be reached, does not answer, or
 * lacks the OCI runtime that {@code [secure_runtime]} names.
 */
public final class DockerRuntimeProvider implements SandboxRuntimeProvider {

    /** The value of {@code [runtime] type} that selects this provider. */
    public static final String TYPE = DockerSandboxRuntime.TYPE;

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
        return create(config, environment, clock, DockerEngine.STREAM_CONNECTIONS);
    }

    /** With at most {@code streamConnections} streams at once; for tests of a full stream pool. */
    SandboxRuntime create(DockerRuntimeConfig config, Map<String, String> environment, Clock clock,
                          int streamConnections) {
        DockerEngine engine = DockerEngine.connect(config, environment, streamConnections);
        try {
            if (config.ociRuntime() != null) {
                Map<String, ?> runtimes;
                try {
                    runtimes = engine.control().infoCmd().exec().getRuntimes();
                } catch (RuntimeException e) {
                    throw new UnavailableException(DockerErrors.INITIALIZATION_ERROR, "Cannot read the OCI runtimes of the "
                        + "Docker engine at " + engine.address() + ": " + DockerErrors.describe(e), e);
                }
                requireOciRuntime(config.ociRuntime(), runtimes);
            }
            String dockerHost = engine.address();
            boolean localEngine = dockerHost.startsWith("unix://") || dockerHost.startsWith("npipe://");
            DockerSandboxRuntime runtime = new DockerSandboxRuntime(config, engine.control(), engine.streams(), clock,
                localEngine, OssfsMounts.pathOf(environment.get("PATH")));
            return new EngineGuardedRuntime(runtime, engine);
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
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

    /** A control client of the engine named by {@code environment}, pinged; for tests. */
    static DockerClient connect(DockerRuntimeConfig config, Map<String, String> environment) {
        return DockerEngine.connectControl(config, environment);
    }
}
