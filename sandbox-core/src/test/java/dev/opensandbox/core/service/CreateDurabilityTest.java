package dev.opensandbox.core.service;

import dev.opensandbox.core.DeadlineExceededException;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.core.store.SandboxRecord;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing a create leaves behind outlives it when it fails, times out or is cut short by a crash:
 * no runtime object without a record, no record without an end, and no expiry beyond what the
 * scheduler can hold.
 */
class CreateDurabilityTest {

    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    private final MutableClock clock = new MutableClock(T0);
    private final InMemorySandboxRuntime runtime = new InMemorySandboxRuntime(clock);
    private final InMemorySandboxStore store = new InMemorySandboxStore();

    private static SandboxSpec.Builder spec() {
        return SandboxServiceTest.spec();
    }

    private SandboxService service(dev.opensandbox.core.spi.SandboxRuntime on) {
        return new SandboxService(on, store, clock, ServicePolicy.defaults());
    }

    // ------------------------------------------------------------ lease bounds

    @Test
    void aTimeoutBeyondTheLongestLeaseIsInvalidAndCreatesNothing() {
        SandboxService service = service(runtime);
        InvalidRequestException error = assertThrows(InvalidRequestException.class,
            () -> service.create(spec().timeout(Duration.ofDays(365L * 313)).build()));

        assertEquals("SANDBOX::INVALID_PARAMETER", error.code());
        assertTrue(error.getMessage().contains("315360000"), error.getMessage());
        assertTrue(runtime.list().isEmpty());
        assertTrue(store.findAll().isEmpty());
    }

    @Test
    void aTimeoutOfExactlyTheLongestLeaseIsAccepted() {
        Sandbox sandbox = service(runtime).create(spec().timeout(SandboxService.LONGEST_LEASE).build());
        assertEquals(T0.plus(SandboxService.LONGEST_LEASE), sandbox.expiresAt());
    }

    @Test
    void aRenewalBeyondTheLongestLeaseIsInvalidExpirationAndChangesNothing() {
        SandboxService service = service(runtime);
        Sandbox sandbox = service.create(spec().build());

        InvalidRequestException error = assertThrows(InvalidRequestException.class,
            () -> service.renew(sandbox.id(), Instant.parse("2400-01-01T00:00:00Z")));

        assertEquals("DOCKER::INVALID_EXPIRATION", error.code());
        assertEquals(T0.plus(Duration.ofMinutes(10)), service.get(sandbox.id()).expiresAt());
        assertEquals(T0.plus(Duration.ofMinutes(10)), service.expiry().deadlineOf(sandbox.id()).orElseThrow());
    }

    // ------------------------------------------------------------ failed creates

    @Test
    void aCreateThatFailedAndCouldNotBeCleanedUpIsHiddenAndRemovedByReconcile() {
        AtomicInteger failingRemoves = new AtomicInteger(1);
        ForwardingSandboxRuntime flaky = new ForwardingSandboxRuntime(runtime) {
            @Override
            public Sandbox create(ProvisionRequest request) {
                super.create(request); // the container exists ...
                throw new RuntimeFailureException("DOCKER::SANDBOX_START_FAILED", "connection reset"); // ... the reply is lost
            }

            @Override
            public void remove(SandboxId id) {
                if (failingRemoves.getAndDecrement() > 0) {
                    throw new RuntimeFailureException("DOCKER::SANDBOX_DELETE_FAILED", "engine unavailable");
                }
                super.remove(id);
            }
        };
        SandboxService service = service(flaky);

        assertThrows(SandboxException.class, () -> service.create(spec().build()));
        SandboxId leftOver = onlySandboxInTheRuntime();
        assertThrows(NotFoundException.class, () -> service.get(leftOver), "a failed create is never shown");
        assertTrue(service.list(SandboxQuery.all()).items().isEmpty());
        assertThrows(NotFoundException.class, () -> service.delete(leftOver));

        service.reconcile();
        assertTrue(runtime.inspect(leftOver).isEmpty(), "reconcile removed what the failed create left");
        assertEquals(SandboxRecord.Phase.FAILED, store.find(leftOver).orElseThrow().phase());

        clock.advance(SandboxService.UNCERTAIN_CREATE_RETENTION);
        service.reconcile();
        assertTrue(store.findAll().isEmpty(), "the tombstone ends");
    }

    @Test
    void aCreateThatTimedOutKeepsATombstoneSoThatASandboxTheRuntimeFinishesLateIsRemoved() {
        AtomicReference<ProvisionRequest> timedOut = new AtomicReference<>();
        ForwardingSandboxRuntime slow = new ForwardingSandboxRuntime(runtime) {
            @Override
            public Sandbox create(ProvisionRequest request) {
                timedOut.set(request);
                throw new DeadlineExceededException("DOCKER::ENGINE_TIMEOUT", "the engine did not answer in 5 s");
            }
        };
        SandboxService service = service(slow);
        assertThrows(DeadlineExceededException.class, () -> service.create(spec().build()));
        runtime.create(timedOut.get()); // the engine completes the create after all
        SandboxId late = timedOut.get().id();

        assertThrows(NotFoundException.class, () -> service.get(late));
        service.reconcile();

        assertTrue(runtime.inspect(late).isEmpty(), "the late sandbox was removed, not adopted");
        assertTrue(store.find(late).isPresent());
        clock.advance(SandboxService.UNCERTAIN_CREATE_RETENTION);
        service.reconcile();
        assertTrue(store.findAll().isEmpty());
    }

    @Test
    void aCreateThatFoundThePlatformUnreachableIsNotRetriedButCleanedUpByReconcileOnceItAnswers() {
        AtomicInteger removes = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean reachable = new java.util.concurrent.atomic.AtomicBoolean(false);
        ForwardingSandboxRuntime cutOff = new ForwardingSandboxRuntime(runtime) {
            @Override
            public Sandbox create(ProvisionRequest request) {
                super.create(request); // the platform did the work, the answer never came
                throw new dev.opensandbox.core.PlatformUnavailableException("DOCKER::ENGINE_UNAVAILABLE",
                    "the engine at unix:///var/run/docker.sock dropped the connection");
            }

            @Override
            public void remove(SandboxId id) {
                removes.incrementAndGet();
                if (!reachable.get()) {
                    throw new dev.opensandbox.core.PlatformUnavailableException("DOCKER::ENGINE_UNAVAILABLE", "gone");
                }
                super.remove(id);
            }

            @Override
            public List<Sandbox> list() {
                if (!reachable.get()) {
                    throw new dev.opensandbox.core.PlatformUnavailableException("DOCKER::ENGINE_UNAVAILABLE", "gone");
                }
                return super.list();
            }
        };
        SandboxService service = service(cutOff);

        assertThrows(dev.opensandbox.core.PlatformUnavailableException.class, () -> service.create(spec().build()));
        assertEquals(0, removes.get(), "an unreachable platform is not asked to remove at once");
        SandboxId leftOver = onlySandboxInTheRuntime();
        assertEquals(SandboxRecord.Phase.FAILED, store.find(leftOver).orElseThrow().phase());

        reachable.set(true);
        service.reconcile();
        assertTrue(runtime.inspect(leftOver).isEmpty(), "reconcile removed it once the platform answered");
    }

    @Test
    void aCreateTheRuntimeRefusedOutrightLeavesNoRecord() {
        runtime.failNextCreate(new RuntimeFailureException("DOCKER::SANDBOX_IMAGE_PULL_FAILED", "no such image"));
        assertThrows(SandboxException.class, () -> service(runtime).create(spec().build()));
        assertTrue(store.findAll().isEmpty());
        assertTrue(runtime.list().isEmpty());
    }

    // ------------------------------------------------------------ creates cut short by a crash

    @Test
    void aCreateInterruptedAfterTheRuntimeMadeTheSandboxIsRemovedAtRestartAndItsRecordEnds() {
        // The crash came between the runtime's create and the READY record: simulate it by putting
        // the record of a created sandbox back to CREATING, then "restart" with a new service.
        Sandbox made = service(runtime).create(spec().timeout(null).build());
        SandboxRecord record = store.find(made.id()).orElseThrow();
        store.replace(record.version(), record.withPhase(SandboxRecord.Phase.CREATING)).orElseThrow();

        SandboxService restarted = service(runtime);
        restarted.reconcile(); // what start() runs first

        assertTrue(runtime.inspect(made.id()).isEmpty(), "the interrupted sandbox was removed");
        assertThrows(NotFoundException.class, () -> restarted.get(made.id()));
        clock.advance(Duration.ofMinutes(1)); // two passes of the default sweep interval, and more
        restarted.reconcile();
        assertTrue(store.findAll().isEmpty(), "no row outlives the interrupted create");
    }

    @Test
    void aCreateInterruptedBeforeTheRuntimeMadeAnythingLeavesNoRecord() {
        SandboxId interrupted = SandboxId.random();
        store.insert(SandboxRecord.creating(interrupted, T0, null, Map.of(), null, null));
        SandboxService restarted = service(runtime);

        restarted.reconcile();
        clock.advance(Duration.ofMinutes(1)); // two passes of the default sweep interval, and more
        restarted.reconcile();

        assertTrue(store.findAll().isEmpty());
    }

    @Test
    void aTombstoneSurvivesARestartAndStillEnds() {
        SandboxId interrupted = SandboxId.random();
        store.insert(SandboxRecord.creating(interrupted, T0, null, Map.of(), null, null));
        service(runtime).reconcile();
        assertEquals(SandboxRecord.Phase.FAILED, store.find(interrupted).orElseThrow().phase());

        SandboxService restarted = service(runtime);
        restarted.reconcile(); // re-arms the tombstone's end
        clock.advance(Duration.ofMinutes(1));
        restarted.expiry().fireDue();

        assertTrue(store.findAll().isEmpty());
    }

    @Test
    void reconcileLeavesACreateInFlightAlone() throws Exception {
        CountDownLatch made = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ForwardingSandboxRuntime blocking = new ForwardingSandboxRuntime(runtime) {
            @Override
            public Sandbox create(ProvisionRequest request) {
                Sandbox sandbox = super.create(request);
                made.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return sandbox;
            }
        };
        SandboxService service = service(blocking);
        CompletableFuture<Sandbox> create = CompletableFuture.supplyAsync(() -> service.create(spec().build()));
        try {
            assertTrue(made.await(10, TimeUnit.SECONDS));
            SandboxId inFlight = onlySandboxInTheRuntime();

            clock.advance(Duration.ofHours(1));
            service.reconcile();

            assertTrue(runtime.inspect(inFlight).isPresent(), "reconcile did not remove a sandbox being created");
            assertEquals(SandboxRecord.Phase.CREATING, store.find(inFlight).orElseThrow().phase());
        } finally {
            release.countDown();
        }
        Sandbox created = create.get(10, TimeUnit.SECONDS);
        assertEquals(SandboxRecord.Phase.READY, store.find(created.id()).orElseThrow().phase());
    }

    private SandboxId onlySandboxInTheRuntime() {
        List<Sandbox> all = runtime.list();
        assertEquals(1, all.size(), "sandboxes in the runtime: " + all);
        return all.get(0).id();
    }
}
