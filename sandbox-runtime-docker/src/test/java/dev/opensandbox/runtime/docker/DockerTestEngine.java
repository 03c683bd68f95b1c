package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.Deployment;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real engine for integration tests: one raw client, runtimes built on a call-counting
 * wrapper of it, and cleanup of everything a test run created (found by {@link #RUN_LABEL}).
 */
final class DockerTestEngine implements AutoCloseable {

    static final String TEST_IMAGE = "opensandbox-test/busybox:latest";
    /** Put on every container a test creates (as sandbox metadata or directly), so parallel runs never collide. */
    static final String RUN_LABEL = "opensandbox-test.it/run";

    final String runId = UUID.randomUUID().toString();
    final DockerClient raw;
    final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    final DockerClient counted;

    private DockerTestEngine(DockerClient raw) {
        this.raw = raw;
        this.counted = (DockerClient) Proxy.newProxyInstance(DockerClient.class.getClassLoader(),
            new Class<?>[] {DockerClient.class}, (proxy, method, args) -> {
                if (method.getName().endsWith("Cmd")) {
                    calls.computeIfAbsent(method.getName(), k -> new AtomicInteger()).incrementAndGet();
                }
                try {
                    return method.invoke(raw, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });
    }

    /** Connects, or aborts the calling test class when no engine is reachable; fails when the test image is missing. */
    static DockerTestEngine connectOrSkip() {
        DockerClient client;
        try {
            client = DockerRuntimeProvider.connect(DockerRuntimeConfig.defaults(), System.getenv());
        } catch (SandboxException e) {
            Assumptions.abort("No Docker engine reachable, skipping: " + e.getMessage());
            throw e;
        }
        if (client.listImagesCmd().withImageNameFilter(TEST_IMAGE).exec().isEmpty()) {
            Assertions.fail("The test image " + TEST_IMAGE + " is missing: run scripts/build-test-images.sh "
                + "(images cannot be pulled here).");
        }
        return new DockerTestEngine(client);
    }

    DockerSandboxRuntime runtime(Map<String, Object> dockerSection) {
        DockerRuntimeConfig config = DockerRuntimeConfig.from(dockerSection, Map.of("host", "127.0.0.1"), Map.of(),
            Map.of());
        return new DockerSandboxRuntime(config, counted, Clock.systemUTC());
    }

    /** A bridge runtime (ports on 127.0.0.1) that may mount host paths under {@code allowed}. */
    DockerSandboxRuntime runtimeAllowingHostPathsUnder(Path allowed) {
        DockerRuntimeConfig config = DockerRuntimeConfig.from(Map.of("network_mode", "bridge", "port_bind_address",
            "127.0.0.1"), Map.of("host", "127.0.0.1"), Map.of(), Map.of(),
            Map.of("allowed_host_paths", List.of(allowed.toString())));
        return new DockerSandboxRuntime(config, counted, Clock.systemUTC());
    }

    /**
     * A runtime of its own deployment (so that its reconcile touches only what this test made) on
     * a clock {@code ahead} of the real one, which makes every container look older than it is.
     */
    DockerSandboxRuntime runtime(DockerRuntimeConfig config, Deployment deployment, Duration ahead) {
        return new DockerSandboxRuntime(config.withDeployment(deployment), counted,
            Clock.offset(Clock.systemUTC(), ahead));
    }

    /** A deployment id no other test run uses. */
    static Deployment newDeployment() {
        return Deployment.of("it-" + UUID.randomUUID());
    }

    int totalCalls() {
        return calls.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    /** A spec for the test image labelled for this run. */
    SandboxSpec.Builder spec(String... entrypoint) {
        return SandboxSpec.builder().image(ImageSpec.of(TEST_IMAGE)).entrypoint(entrypoint).resourceLimits(Map.of())
            .metadata(RUN_LABEL, runId).timeout(Duration.ofHours(1));
    }

    static ProvisionRequest request(SandboxSpec spec) {
        return request(spec, ResourceLimits.none());
    }

    static ProvisionRequest request(SandboxSpec spec, ResourceLimits limits) {
        Instant now = Clock.systemUTC().instant().truncatedTo(ChronoUnit.MICROS);
        return new ProvisionRequest(SandboxId.random(), spec, spec.image(), spec.entrypoint(), limits, now,
            spec.timeout() == null ? null : now.plus(spec.timeout()));
    }

    /** What a command printed (stdout and stderr together) and its exit code. */
    record ExecResult(int exitCode, String output) {
    }

    static ExecResult exec(DockerSandboxRuntime runtime, SandboxId id, ExecRequest request) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = runtime.exec(id, request, new ExecOutput() {
            @Override
            public void stdout(byte[] data, int offset, int length) {
                out.write(data, offset, length);
            }

            @Override
            public void stderr(byte[] data, int offset, int length) {
                out.write(data, offset, length);
            }
        }).awaitExit(Duration.ofSeconds(30));
        return new ExecResult(code, out.toString(StandardCharsets.UTF_8));
    }

    List<Container> containersOf(SandboxId id) {
        return raw.listContainersCmd().withShowAll(true).withLabelFilter(Map.of("opensandbox.io/id", id.toString())).exec();
    }

    @Override
    public void close() throws Exception {
        List<Container> leftovers = raw.listContainersCmd().withShowAll(true)
            .withLabelFilter(Map.of(RUN_LABEL, runId)).exec();
        leftovers.parallelStream().forEach(c -> {
            try {
                raw.removeContainerCmd(c.getId()).withForce(true).exec();
            } catch (RuntimeException ignored) {
                // already gone
            }
        });
        raw.close();
    }
}
