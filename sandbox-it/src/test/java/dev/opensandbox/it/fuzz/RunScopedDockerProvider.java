package dev.opensandbox.it.fuzz;

import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.RuntimeContext;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntimeProvider;

import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code [runtime] type = "docker-run-scoped"}: the Docker runtime, seen by its server as holding
 * only the sandboxes that server created. The engine is shared with other tests, and until
 * servers tell their deployments apart (issue 11: each server adopts, and expires, the other's
 * containers) a test server must neither adopt, expire nor reap what it did not make: its list
 * holds only its own sandboxes and it reaps no orphans. Every other call is the Docker runtime's.
 */
public final class RunScopedDockerProvider implements SandboxRuntimeProvider {

    public static final String TYPE = "docker-run-scoped";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public SandboxRuntime create(RuntimeContext context) {
        for (SandboxRuntimeProvider provider : ServiceLoader.load(SandboxRuntimeProvider.class)) {
            if (provider.type().equals("docker")) {
                return new RunScoped(provider.create(context));
            }
        }
        throw new IllegalStateException("no docker runtime provider on the test classpath");
    }

    private static final class RunScoped extends ForwardingSandboxRuntime {
        private final Set<SandboxId> created = ConcurrentHashMap.newKeySet();

        RunScoped(SandboxRuntime docker) {
            super(docker);
        }

        @Override
        public Sandbox create(ProvisionRequest request) {
            created.add(request.id());
            return super.create(request);
        }

        @Override
        public List<Sandbox> list() {
            return super.list().stream().filter(sandbox -> created.contains(sandbox.id())).toList();
        }

        @Override
        public void reapOrphans() {
            // Orphans on a shared engine may be another server's creates in flight.
        }
    }
}
