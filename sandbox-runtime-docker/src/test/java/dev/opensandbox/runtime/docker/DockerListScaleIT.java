package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.spi.ProvisionRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Listing N sandboxes costs one Engine call, not 1 + 2N as upstream (W13). About a minute: 200 real containers. */
class DockerListScaleIT {

    private static final int SANDBOXES = 200;

    private static DockerTestEngine engine;

    @BeforeAll
    static void connect() {
        engine = DockerTestEngine.connectOrSkip();
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void listingTwoHundredSandboxesIsOneEngineCall() throws Exception {
        DockerSandboxRuntime runtime = engine.runtime(Map.of("network_mode", "host"));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Sandbox>> creates = new java.util.ArrayList<>();
            for (int i = 0; i < SANDBOXES; i++) {
                ProvisionRequest request = DockerTestEngine.request(engine.spec("sleep", "3600").build());
                creates.add(pool.submit(() -> runtime.create(request)));
            }
            Set<SandboxId> created = new java.util.HashSet<>();
            for (Future<Sandbox> create : creates) {
                created.add(create.get().id());
            }

            engine.calls.clear();
            List<Sandbox> listed = runtime.list();

            assertEquals(Map.of("listContainersCmd", 1), engine.calls.entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get())), "Engine calls of one list()");
            Set<SandboxId> ours = listed.stream().map(Sandbox::id).filter(created::contains).collect(Collectors.toSet());
            assertEquals(created, ours);
            assertTrue(listed.stream().filter(s -> created.contains(s.id()))
                .allMatch(s -> s.status().state() == SandboxState.RUNNING && s.metadata().containsKey(DockerTestEngine.RUN_LABEL)));

            List<Future<?>> removes = created.stream().map(id -> pool.submit(() -> runtime.remove(id)))
                .collect(Collectors.toList());
            for (Future<?> remove : removes) {
                remove.get();
            }
        } finally {
            pool.shutdown();
        }
    }
}
