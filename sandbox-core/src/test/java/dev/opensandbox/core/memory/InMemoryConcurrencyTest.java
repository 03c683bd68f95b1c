package dev.opensandbox.core.memory;

import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.opensandbox.core.memory.Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InMemoryConcurrencyTest {

    private final MutableClock clock = new MutableClock();
    private final InMemorySandboxRuntime runtime = new InMemorySandboxRuntime(clock);

    @Test
    void concurrentExecsOnOneSandboxDoNotLoseWrites() throws Exception {
        SandboxId id = SandboxId.random();
        runtime.create(request(id, clock.instant(), "sleep", "3600"));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 50; i++) {
                        Fixtures.sh(runtime, id, "echo line >> /tmp/log");
                    }
                }));
            }
            for (Future<?> future : futures) {
                future.get(10, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertEquals(200, Fixtures.sh(runtime, id, "cat /tmp/log").stdout().lines().count());
    }

    @Test
    void concurrentCreatesAndRemovesOfDifferentSandboxesAllTakeEffect() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<SandboxId> kept = new ArrayList<>();
        try {
            List<Future<SandboxId>> futures = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                boolean keep = i % 2 == 0;
                futures.add(pool.submit(() -> {
                    SandboxId id = SandboxId.random();
                    runtime.create(request(id, clock.instant(), "sleep", "3600"));
                    if (!keep) {
                        runtime.remove(id);
                    }
                    return keep ? id : null;
                }));
            }
            for (Future<SandboxId> future : futures) {
                SandboxId id = future.get(10, TimeUnit.SECONDS);
                if (id != null) {
                    kept.add(id);
                }
            }
        } finally {
            pool.shutdownNow();
        }

        assertEquals(20, runtime.list().size());
        assertTrue(runtime.list().stream().allMatch(sandbox -> kept.contains(sandbox.id())));
    }
}
