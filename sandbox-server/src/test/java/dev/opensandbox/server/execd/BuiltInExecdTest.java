package dev.opensandbox.server.execd;

import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.core.service.ServicePolicy;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built-in execd forgets a sandbox the moment the lifecycle removes it: command runs, their
 * output and sessions, whatever removed it (a delete, an expiry).
 */
class BuiltInExecdTest {

    private static final int MIB = 1024 * 1024;

    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-02T03:04:05Z"));
    private final SandboxService sandboxes = new SandboxService(new PrintingRuntime(new InMemorySandboxRuntime(clock)),
        new InMemorySandboxStore(), clock, ServicePolicy.defaults());
    private final ExecutorService workers = Executors.newCachedThreadPool();
    private final BuiltInExecd execd = new BuiltInExecd(sandboxes, clock, workers);

    @AfterEach
    void stop() {
        execd.close();
        workers.shutdownNow();
        sandboxes.close();
    }

    private SandboxId create() {
        Sandbox sandbox = sandboxes.create(SandboxSpec.builder().image("busybox").entrypoint("sleep", "3600")
            .resourceLimits(Map.of("cpu", "500m")).timeout(Duration.ofMinutes(10)).build());
        return sandbox.id();
    }

    private void runInBackground(SandboxId id) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        execd.commands().run(id, new Commands.RunCommand("print", null, true, 0, null, null, Map.of()), () -> body);
        assertTrue(body.toString(StandardCharsets.UTF_8).contains("execution_complete"));
    }

    @Test
    void deletingASandboxFreesItsCommandsOutputAndSessionsAtOnce() {
        SandboxId gone = create();
        SandboxId staying = create();
        runInBackground(gone);
        runInBackground(gone);
        runInBackground(staying);
        execd.sessions().create(gone, null);
        assertTrue(execd.commands().retainedLogBytes(gone) >= 2L * MIB, "background output is kept while the sandbox lives");

        sandboxes.delete(gone);

        assertEquals(0, execd.commands().retainedLogBytes(gone));
        assertEquals(execd.commands().retainedLogBytes(staying), execd.commands().retainedLogBytes());
        assertEquals(1, execd.commands().runCount(), "only the other sandbox's command is left");
        assertEquals(0, execd.sessions().count());
    }

    @Test
    void anExpiredSandboxIsForgottenToo() {
        SandboxId expiring = create();
        runInBackground(expiring);

        clock.advance(Duration.ofMinutes(11));
        sandboxes.expiry().fireDue();

        assertEquals(0, execd.commands().retainedLogBytes());
        assertEquals(0, execd.commands().runCount());
        assertThrows(RuntimeException.class, () -> sandboxes.get(expiring));
    }

    /** Execs print the wrapper's pid line and 1 MiB, then exit 0; the scripts of files and sessions just succeed. */
    private static final class PrintingRuntime extends ForwardingSandboxRuntime {
        PrintingRuntime(InMemorySandboxRuntime memory) {
            super(memory);
        }

        @Override
        public ExecHandle exec(SandboxId id, ExecRequest request, ExecOutput output) {
            delegate().inspect(id).orElseThrow();
            if (request.command().get(2).equals(Commands.WRAPPER)) {
                byte[] pid = "4242\n".getBytes(StandardCharsets.UTF_8);
                output.stdout(pid, 0, pid.length);
                byte[] mib = new byte[MIB];
                output.stdout(mib, 0, mib.length);
            }
            return new ExecHandle() {
                @Override
                public int awaitExit(Duration timeout) {
                    return 0;
                }

                @Override
                public OptionalInt exitCode() {
                    return OptionalInt.of(0);
                }
            };
        }
    }
}
