package dev.opensandbox.core.testing;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.Pool;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.spi.PoolRuntime;
import dev.opensandbox.core.spi.RuntimeCapabilities;
import dev.opensandbox.core.spi.SandboxRuntime;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link PoolRuntime} in memory, honouring the SPI's contract (not found, already exists), with
 * a switch that makes every call fail as a broken platform would, a way to play the controller's
 * status writes, and a log of the calls that reached it.
 */
public final class FakePoolRuntime implements PoolRuntime {

    private final Clock clock;
    private final Map<String, Pool> pools = new LinkedHashMap<>();
    private final List<String> calls = new ArrayList<>();
    private volatile boolean broken;

    public FakePoolRuntime(Clock clock) {
        this.clock = clock;
    }

    /** {@code runtime} with these pools, its capabilities saying so. */
    public SandboxRuntime attachTo(SandboxRuntime runtime) {
        RuntimeCapabilities c = runtime.capabilities();
        RuntimeCapabilities withPools = new RuntimeCapabilities(c.errorNamespace(), c.pause(), c.exec(), c.files(),
            c.logs(), c.snapshots(), true);
        FakePoolRuntime pools = this;
        return new ForwardingSandboxRuntime(runtime) {
            @Override
            public RuntimeCapabilities capabilities() {
                return withPools;
            }

            @Override
            public Optional<PoolRuntime> pools() {
                return Optional.of(pools);
            }
        };
    }

    /** From now on every call fails with 500 {@code KUBERNETES::POOL_API_ERROR}. */
    public void breakPlatform() {
        broken = true;
    }

    /** What the controller would report for {@code name}. */
    public synchronized void reportStatus(String name, Pool.Status status) {
        Pool pool = pools.get(name);
        pools.put(name, new Pool(name, pool.capacity(), status, pool.createdAt(), pool.template()));
    }

    /** The calls that reached this runtime, as {@code verb name}. */
    public synchronized List<String> calls() {
        return List.copyOf(calls);
    }

    @Override
    public synchronized Pool create(String name, Map<String, Object> template, Pool.Capacity capacity) {
        enter("create " + name);
        if (pools.containsKey(name)) {
            throw PoolRuntime.poolAlreadyExists(name);
        }
        Pool pool = new Pool(name, capacity, null, clock.instant(), template);
        pools.put(name, pool);
        return pool;
    }

    @Override
    public synchronized Pool get(String name) {
        enter("get " + name);
        return find(name);
    }

    @Override
    public synchronized List<Pool> list() {
        enter("list");
        return List.copyOf(pools.values());
    }

    @Override
    public synchronized Pool updateCapacity(String name, Pool.Capacity capacity) {
        enter("update " + name);
        Pool pool = find(name);
        Pool updated = new Pool(name, capacity, pool.status(), pool.createdAt(), pool.template());
        pools.put(name, updated);
        return updated;
    }

    @Override
    public synchronized void delete(String name) {
        enter("delete " + name);
        find(name);
        pools.remove(name);
    }

    private void enter(String call) {
        calls.add(call);
        if (broken) {
            throw new RuntimeFailureException(ErrorCodes.POOL_API_ERROR, "Failed to " + call + ": the platform is down.");
        }
    }

    private Pool find(String name) {
        Pool pool = pools.get(name);
        if (pool == null) {
            throw PoolRuntime.poolNotFound(name);
        }
        return pool;
    }
}
