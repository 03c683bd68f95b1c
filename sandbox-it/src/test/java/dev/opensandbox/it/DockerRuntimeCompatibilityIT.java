package dev.opensandbox.it;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.spi.RuntimeContext;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.runtime.docker.DockerRuntimeProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The runtime compatibility kit against the real Docker engine, once per network mode. Needs a
 * reachable engine (skipped otherwise) and the local image {@value #TEST_IMAGE} built by
 * {@code scripts/build-test-images.sh} (fails otherwise: no registry here).
 */
class DockerRuntimeCompatibilityIT {

    static final String TEST_IMAGE = "opensandbox-test/busybox:latest";
    /** Marks what this run created outside the runtime, so parallel runs never remove each other's containers. */
    static final String RUN_LABEL = "opensandbox-test.it/docker-kit-run";
    static final String RUN_ID = UUID.randomUUID().toString();

    private static SandboxRuntime bridge;
    private static SandboxRuntime host;
    private static DockerClient docker;

    @BeforeAll
    static void connect() {
        try {
            bridge = runtime(Map.of("network_mode", "bridge", "port_bind_address", "127.0.0.1"));
            host = runtime(Map.of("network_mode", "host"));
        } catch (SandboxException e) {
            Assumptions.abort("No Docker engine reachable, skipping the Docker runtime kit: " + e.getMessage());
        }
        DefaultDockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder().build();
        docker = DockerClientImpl.getInstance(config,
            new ApacheDockerHttpClient.Builder().dockerHost(config.getDockerHost()).build());
        if (docker.listImagesCmd().withImageNameFilter(TEST_IMAGE).exec().isEmpty()) {
            fail("The test image " + TEST_IMAGE + " is missing: run scripts/build-test-images.sh (images cannot be pulled here).");
        }
    }

    private static SandboxRuntime runtime(Map<String, Object> dockerSection) {
        return new DockerRuntimeProvider().create(new RuntimeContext(Clock.systemUTC(),
            Map.of("docker", dockerSection, "server", Map.of("host", "127.0.0.1")), System.getenv()));
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (docker != null) {
            for (Container container : docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(RUN_LABEL, RUN_ID)).exec()) {
                docker.removeContainerCmd(container.getId()).withForce(true).exec();
            }
            docker.close();
        }
        if (bridge != null) {
            bridge.close();
        }
        if (host != null) {
            host.close();
        }
    }

    static void runUnmanagedContainer() {
        String id = docker.createContainerCmd(TEST_IMAGE)
            .withName("opensandbox-kit-unmanaged-" + UUID.randomUUID())
            .withLabels(Map.of(RUN_LABEL, RUN_ID, "opensandbox.io/not-an-id", "true"))
            .withEntrypoint(List.of("sleep", "3600"))
            .exec().getId();
        docker.startContainerCmd(id).exec();
    }

    abstract static class DockerKit extends SandboxRuntimeCompatibilityKit {
        @Override
        protected Clock clock() {
            return Clock.systemUTC();
        }

        @Override
        protected String testImage() {
            return TEST_IMAGE;
        }

        @Override
        protected List<String> longRunningEntrypoint() {
            return List.of("sleep", "3600");
        }

        @Override
        protected void createUnmanagedWorkload() {
            runUnmanagedContainer();
        }
    }

    @Nested
    @DisplayName("bridge network: Docker publishes 44772 and 8080 on 127.0.0.1")
    class Bridge extends DockerKit {
        @Override
        protected SandboxRuntime runtime() {
            return bridge;
        }
    }

    @Nested
    @DisplayName("host network: the proxy is refused, ports are the host's")
    class HostNetwork extends DockerKit {
        @Override
        protected SandboxRuntime runtime() {
            return host;
        }

        @Override
        protected boolean proxiesSandboxPorts() {
            return false;
        }
    }
}
