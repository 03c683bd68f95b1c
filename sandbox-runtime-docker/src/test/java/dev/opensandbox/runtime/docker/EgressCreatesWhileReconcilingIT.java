package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.model.Container;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NetworkPolicy;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.spi.Deployment;
import dev.opensandbox.core.spi.ProvisionRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression: the reconcile pass removed the egress sidecar of a create still in flight (it exists
 * before the sandbox container does), and the create failed with "egress sidecar did not become
 * healthy" (4 of 12 at a 10-s sweep, 12 of 12 at 1 s). Here reconcile runs in a tight loop while
 * creates with a network policy run, on a clock a day ahead so that the age grace protects
 * nothing: only the runtime's own record of creates in flight does.
 */
class EgressCreatesWhileReconcilingIT {

    private static final int CREATES = 12;
    private static final int MAX_REAPS = 20_000;
    private static final NetworkPolicy POLICY = new NetworkPolicy("deny", List.of(new NetworkPolicy.Rule("allow", "pypi.org")));

    private static DockerTestEngine engine;
    private static Deployment deployment;
    private static DockerSandboxRuntime runtime;

    @BeforeAll
    static void connect() {
        engine = DockerTestEngine.connectOrSkip();
        deployment = DockerTestEngine.newDeployment();
        DockerRuntimeConfig config = DockerRuntimeConfig.from(Map.of("network_mode", "bridge", "port_bind_address",
            "127.0.0.1"), Map.of("host", "127.0.0.1"), Map.of(), Map.of("image", EgressSidecarIT.EGRESS_IMAGE), Map.of());
        runtime = engine.runtime(config, deployment, Duration.ofDays(1));
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (engine == null) {
            return;
        }
        for (Container container : engine.raw.listContainersCmd().withShowAll(true)
            .withLabelFilter(Map.of(Labels.DEPLOYMENT, deployment.id())).exec()) {
            engine.raw.removeContainerCmd(container.getId()).withForce(true).exec();
        }
        engine.close();
    }

    @Test
    void everyCreateWithAPolicySucceedsWhileReconcileRunsInATightLoop() throws Exception {
        ExecutorService workers = Executors.newFixedThreadPool(4);
        AtomicBoolean creating = new AtomicBoolean(true);
        AtomicInteger reaps = new AtomicInteger();
        try {
            Future<?> reaper = workers.submit(() -> {
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
                while (creating.get() && reaps.get() < MAX_REAPS && System.nanoTime() < deadline) {
                    runtime.reapOrphans();
                    reaps.incrementAndGet();
                }
            });
            List<Future<Sandbox>> creates = new ArrayList<>();
            for (int i = 0; i < CREATES; i++) {
                ProvisionRequest request = DockerTestEngine.request(engine.spec("sleep", "3600").networkPolicy(POLICY).build());
                creates.add(workers.submit(() -> runtime.create(request)));
            }
            List<String> failures = new ArrayList<>();
            List<Sandbox> created = new ArrayList<>();
            for (Future<Sandbox> create : creates) {
                try {
                    created.add(create.get(3, TimeUnit.MINUTES));
                } catch (java.util.concurrent.ExecutionException e) {
                    failures.add(e.getCause().getMessage());
                }
            }
            creating.set(false);
            reaper.get(1, TimeUnit.MINUTES);

            assertEquals(List.of(), failures, "creates that failed while reconcile ran " + reaps.get() + " times");
            assertTrue(reaps.get() >= CREATES, "reconcile ran alongside the creates: " + reaps.get());
            for (Sandbox sandbox : created) {
                assertEquals(SandboxState.RUNNING, runtime.inspect(sandbox.id()).orElseThrow().status().state());
                assertEquals(1, engine.raw.listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of(Labels.EGRESS_SIDECAR_FOR, sandbox.id().toString())).exec().size(),
                    "the sidecar of " + sandbox.id() + " survived");
                runtime.remove(sandbox.id());
            }
        } finally {
            creating.set(false);
            workers.shutdown();
            assertTrue(workers.awaitTermination(2, TimeUnit.MINUTES));
        }
    }
}
