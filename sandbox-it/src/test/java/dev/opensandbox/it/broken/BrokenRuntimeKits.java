package dev.opensandbox.it.broken;

import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxStatus;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.it.SandboxRuntimeCompatibilityKit;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The compatibility kit run against deliberately broken runtimes. Their names do not end in
 * {@code Test}, so Surefire never runs them directly: {@code RuntimeKitCatchesBrokenRuntimeTest}
 * runs them through the JUnit Platform and checks which kit tests fail.
 */
public final class BrokenRuntimeKits {

    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);

    private BrokenRuntimeKits() {
    }

    /** The shared wiring: an in-memory runtime behind a broken wrapper. */
    abstract static class BrokenKit extends SandboxRuntimeCompatibilityKit {
        final InMemorySandboxRuntime delegate = new InMemorySandboxRuntime(CLOCK);

        @Override
        protected Clock clock() {
            return CLOCK;
        }

        @Override
        protected String testImage() {
            return "busybox:latest";
        }

        @Override
        protected void createUnmanagedWorkload() {
            delegate.addUnmanagedWorkload("plain-container");
        }
    }

    /** remove() of an unknown or already removed sandbox throws instead of succeeding. */
    public static class BrokenRemoveRuntimeKit extends BrokenKit {
        private final SandboxRuntime runtime = new ForwardingSandboxRuntime(delegate) {
            @Override
            public void remove(SandboxId id) {
                if (delegate.inspect(id).isEmpty()) {
                    throw sandboxNotFound(id);
                }
                super.remove(id);
            }
        };

        @Override
        protected SandboxRuntime runtime() {
            return runtime;
        }
    }

    /** list() reports workloads without the id label, as a runtime filtering on the wrong label would. */
    public static class LeakingListRuntimeKit extends BrokenKit {
        private final List<String> unmanaged = new CopyOnWriteArrayList<>();
        private final SandboxRuntime runtime = new ForwardingSandboxRuntime(delegate) {
            @Override
            public List<Sandbox> list() {
                List<Sandbox> all = new ArrayList<>(super.list());
                for (String name : unmanaged) {
                    SandboxId madeUp = new SandboxId(UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)));
                    all.add(new Sandbox(madeUp, "busybox:latest", null, null, SandboxStatus.of(SandboxState.RUNNING),
                        null, null, null, CLOCK.instant()));
                }
                return all;
            }
        };

        @Override
        protected SandboxRuntime runtime() {
            return runtime;
        }

        @Override
        protected void createUnmanagedWorkload() {
            super.createUnmanagedWorkload();
            unmanaged.add("plain-container");
        }
    }

    /** inspect() of an unknown sandbox throws not-found instead of returning empty. */
    public static class ThrowingInspectRuntimeKit extends BrokenKit {
        private final SandboxRuntime runtime = new ForwardingSandboxRuntime(delegate) {
            @Override
            public Optional<Sandbox> inspect(SandboxId id) {
                return Optional.of(super.inspect(id).orElseThrow(() -> sandboxNotFound(id)));
            }
        };

        @Override
        protected SandboxRuntime runtime() {
            return runtime;
        }
    }
}
