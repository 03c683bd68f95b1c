package dev.opensandbox.core.service;

import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExpirySchedulerTest {

    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    private final MutableClock clock = new MutableClock(T0);
    private final List<SandboxId> fired = new ArrayList<>();
    private int sweeps;
    private final ExpiryScheduler scheduler = new ExpiryScheduler(clock, fired::add, () -> sweeps++);

    @Test
    void nothingFiresBeforeItsDeadline() {
        SandboxId id = SandboxId.random();
        scheduler.schedule(id, T0.plusSeconds(60));
        clock.advance(Duration.ofSeconds(59));

        assertEquals(0, scheduler.fireDue());
        assertTrue(fired.isEmpty());
        assertEquals(1, scheduler.size());
    }

    @Test
    void dueDeadlinesFireOnceInDeadlineOrder() {
        SandboxId late = SandboxId.random();
        SandboxId early = SandboxId.random();
        scheduler.schedule(late, T0.plusSeconds(120));
        scheduler.schedule(early, T0.plusSeconds(60));
        clock.advance(Duration.ofSeconds(120));

        assertEquals(2, scheduler.fireDue());
        assertEquals(List.of(early, late), fired);
        assertEquals(0, scheduler.fireDue());
        assertEquals(0, scheduler.size());
    }

    @Test
    void reschedulingMovesTheDeadlineInsteadOfAddingOne() {
        SandboxId id = SandboxId.random();
        scheduler.schedule(id, T0.plusSeconds(60));
        scheduler.schedule(id, T0.plusSeconds(600));
        clock.advance(Duration.ofSeconds(61));

        assertEquals(0, scheduler.fireDue());
        assertEquals(1, scheduler.size());
        assertEquals(T0.plusSeconds(600), scheduler.deadlineOf(id).orElseThrow());
    }

    @Test
    void cancelledDeadlinesNeverFire() {
        SandboxId id = SandboxId.random();
        scheduler.schedule(id, T0.plusSeconds(60));
        scheduler.cancel(id);
        clock.advance(Duration.ofHours(1));

        assertEquals(0, scheduler.fireDue());
        assertTrue(scheduler.deadlineOf(id).isEmpty());
    }

    @Test
    void aFailingActionDoesNotStopTheOtherDeadlines() {
        List<SandboxId> survivors = new ArrayList<>();
        SandboxId failing = SandboxId.random();
        ExpiryScheduler withFailure = new ExpiryScheduler(clock, id -> {
            if (id.equals(failing)) {
                throw new IllegalStateException("engine down");
            }
            survivors.add(id);
        }, () -> { });
        SandboxId other = SandboxId.random();
        withFailure.schedule(failing, T0.plusSeconds(1));
        withFailure.schedule(other, T0.plusSeconds(2));
        clock.advance(Duration.ofSeconds(5));

        assertEquals(2, withFailure.fireDue());
        assertEquals(List.of(other), survivors);
    }

    @Test
    void sweepNowRunsTheSweepAndSwallowsItsFailures() {
        scheduler.sweepNow();
        assertEquals(1, sweeps);

        ExpiryScheduler failingSweep = new ExpiryScheduler(clock, id -> { }, () -> {
            throw new IllegalStateException("list failed");
        });
        failingSweep.sweepNow(); // must not throw
        assertEquals(0, failingSweep.size());
    }

    // The two tests below run the real background thread: they are about that thread surviving, so
    // they wait for real, bounded by a latch timeout (nothing sleeps).

    @Test
    void aDeadlineCenturiesAwayDoesNotStopTheBackgroundThread() throws Exception {
        java.util.concurrent.CountDownLatch expired = new java.util.concurrent.CountDownLatch(1);
        // The thread reads the clock once to fire what is due and once more, under the schedule's
        // lock, to compute how long to wait: after the second read it is computing the wait for the
        // far deadline (which overflowed), and a schedule() call waits for it to release the lock.
        java.util.concurrent.CountDownLatch computingTheWait = new java.util.concurrent.CountDownLatch(2);
        java.time.Clock observed = new java.time.Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return clock.getZone();
            }

            @Override
            public java.time.Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                computingTheWait.countDown();
                return clock.instant();
            }
        };
        SandboxId far = SandboxId.random();
        SandboxId due = SandboxId.random();
        try (ExpiryScheduler background = new ExpiryScheduler(observed, id -> {
            if (id.equals(due)) {
                expired.countDown();
            }
        }, () -> { })) {
            background.schedule(far, Instant.parse("2343-01-01T00:00:00Z"));
            background.start(Duration.ofHours(1));
            assertTrue(computingTheWait.await(10, java.util.concurrent.TimeUnit.SECONDS));
            background.schedule(due, T0);

            assertTrue(expired.await(10, java.util.concurrent.TimeUnit.SECONDS),
                "the due deadline fired although a deadline in 2343 was scheduled");
            assertEquals(Instant.parse("2343-01-01T00:00:00Z"), background.deadlineOf(far).orElseThrow());
        }
    }

    @Test
    void anErrorThrownByTheSweepOrTheActionDoesNotStopTheBackgroundThread() throws Exception {
        java.util.concurrent.CountDownLatch secondSweep = new java.util.concurrent.CountDownLatch(2);
        java.util.concurrent.CountDownLatch expiredAfterError = new java.util.concurrent.CountDownLatch(1);
        SandboxId failing = SandboxId.random();
        SandboxId next = SandboxId.random();
        try (ExpiryScheduler background = new ExpiryScheduler(clock, id -> {
            if (id.equals(failing)) {
                throw new AssertionError("an Error, not an exception");
            }
            expiredAfterError.countDown();
        }, () -> {
            secondSweep.countDown();
            throw new StackOverflowError("simulated");
        })) {
            background.schedule(failing, T0);
            background.start(Duration.ofMillis(50));
            background.schedule(next, T0);

            assertTrue(expiredAfterError.await(10, java.util.concurrent.TimeUnit.SECONDS),
                "a deadline fired after the action threw an Error");
            assertTrue(secondSweep.await(10, java.util.concurrent.TimeUnit.SECONDS),
                "the sweep ran again after it threw a StackOverflowError");
        }
    }
}
