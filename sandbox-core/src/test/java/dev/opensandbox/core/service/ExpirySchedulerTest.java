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
}
