package dev.opensandbox.core.service;

import dev.opensandbox.core.SandboxId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One schedule of expiry deadlines for every sandbox (no thread or timer per sandbox) and one
 * optional background thread that fires due deadlines and runs a periodic sweep.
 *
 * <p>Deadlines are compared against the injected {@link Clock}; the background thread only
 * decides <em>when to look</em>. Tests therefore drive it without sleeping: move the clock, then
 * call {@link #fireDue()} (or {@link #sweepNow()}).
 *
 * <p>Firing a deadline removes it and hands the id to the expiry action; the action itself
 * decides (under the sandbox's lock) whether the sandbox is really overdue, so a deadline that
 * fires just after a renewal does nothing.
 */
public final class ExpiryScheduler implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ExpiryScheduler.class);

    private record Deadline(Instant at, SandboxId id) implements Comparable<Deadline> {
        @Override
        public int compareTo(Deadline other) {
            int byTime = at.compareTo(other.at);
            return byTime != 0 ? byTime : id.compareTo(other.id);
        }
    }

    /** The longest the background thread sleeps before it looks at the clock again. */
    static final Duration LONGEST_WAIT = Duration.ofDays(1);
    /** How long the background thread pauses after an unexpected failure of its own. */
    static final Duration AFTER_FAILURE = Duration.ofSeconds(1);

    private final Clock clock;
    private final Consumer<SandboxId> expiryAction;
    private final Runnable sweep;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final TreeSet<Deadline> deadlines = new TreeSet<>();
    private final Map<SandboxId, Deadline> byId = new HashMap<>();
    private Thread worker;
    private volatile boolean closed;

    /**
     * @param clock        the only source of time
     * @param expiryAction called with the id of a sandbox whose deadline passed
     * @param sweep        the periodic reconcile pass; run by the background thread
     */
    public ExpiryScheduler(Clock clock, Consumer<SandboxId> expiryAction, Runnable sweep) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.expiryAction = Objects.requireNonNull(expiryAction, "expiryAction");
        this.sweep = Objects.requireNonNull(sweep, "sweep");
    }

    /** Sets (or moves) the deadline of a sandbox. */
    public void schedule(SandboxId id, Instant at) {
        lock.lock();
        try {
            Deadline previous = byId.remove(id);
            if (previous != null) {
                deadlines.remove(previous);
            }
            Deadline deadline = new Deadline(at, id);
            deadlines.add(deadline);
            byId.put(id, deadline);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Forgets the deadline of a sandbox, if any. */
    public void cancel(SandboxId id) {
        lock.lock();
        try {
            Deadline previous = byId.remove(id);
            if (previous != null) {
                deadlines.remove(previous);
            }
        } finally {
            lock.unlock();
        }
    }

    /** The deadline of a sandbox, if scheduled. */
    public java.util.Optional<Instant> deadlineOf(SandboxId id) {
        lock.lock();
        try {
            Deadline deadline = byId.get(id);
            return deadline == null ? java.util.Optional.empty() : java.util.Optional.of(deadline.at());
        } finally {
            lock.unlock();
        }
    }

    /** How many deadlines are scheduled. */
    public int size() {
        lock.lock();
        try {
            return deadlines.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs the expiry action for every deadline at or before the clock's current instant.
     * Failures of the action are logged; the action is responsible for rescheduling retries.
     *
     * @return how many deadlines fired
     */
    public int fireDue() {
        List<SandboxId> due = takeDue();
        for (SandboxId id : due) {
            try {
                expiryAction.accept(id);
            } catch (VirtualMachineError fatal) {
                throw fatal;
            } catch (RuntimeException | Error e) {
                LOG.warn("sandbox={} action=expire error={}", id, e.toString());
            }
        }
        return due.size();
    }

    /** Runs the sweep once, on the calling thread. */
    public void sweepNow() {
        try {
            sweep.run();
        } catch (VirtualMachineError fatal) {
            throw fatal;
        } catch (dev.opensandbox.core.SandboxException expected) {
            // A platform or store that does not answer: the message says it all, the next pass retries.
            LOG.warn("action=sweep error={}", expected.toString());
        } catch (RuntimeException | Error e) {
            LOG.warn("action=sweep error={}", e.toString(), e);
        }
    }

    private List<SandboxId> takeDue() {
        Instant now = clock.instant();
        List<SandboxId> due = new ArrayList<>();
        lock.lock();
        try {
            while (!deadlines.isEmpty() && !deadlines.first().at().isAfter(now)) {
                Deadline deadline = deadlines.pollFirst();
                byId.remove(deadline.id());
                due.add(deadline.id());
            }
        } finally {
            lock.unlock();
        }
        return due;
    }

    /**
     * Starts the background thread: it fires deadlines as they come due and runs the sweep every
     * {@code sweepInterval}, the first one an interval from now (callers run the first sweep
     * themselves, synchronously, so that start-up problems surface at start). Waiting uses real time, but every
     * decision compares against the clock, so a deadline is never fired early.
     */
    public synchronized void start(Duration sweepInterval) {
        if (worker != null) {
            throw new IllegalStateException("already started");
        }
        long sweepNanos = sweepInterval.toNanos();
        worker = new Thread(() -> loop(sweepNanos), "opensandbox-expiry");
        worker.setDaemon(true);
        worker.start();
    }

    private void loop(long sweepNanos) {
        long nextSweep = System.nanoTime() + sweepNanos;
        while (!closed) {
            try {
                if (System.nanoTime() - nextSweep >= 0) {
                    sweepNow();
                    nextSweep = System.nanoTime() + sweepNanos;
                }
                fireDue();
                waitForWork(nextSweep);
            } catch (Throwable unexpected) {
                // This thread expires every sandbox: whatever went wrong (even an OutOfMemoryError, which
                // may pass), log it and keep going, after a pause so that a failure repeating on every
                // turn cannot spin.
                LOG.error("action=expiry-loop error={}; continuing in {} s", unexpected.toString(),
                    AFTER_FAILURE.toSeconds(), unexpected);
                awaitChangeAtMost(AFTER_FAILURE::toNanos);
            }
        }
    }

    private void waitForWork(long nextSweep) {
        awaitChangeAtMost(() -> {
            long waitNanos = nextSweep - System.nanoTime();
            return deadlines.isEmpty() ? waitNanos : Math.min(waitNanos, nanosUntil(deadlines.first().at()));
        });
    }

    /** Waits for a schedule change or close, at most the nanoseconds {@code bound} computes under the lock. */
    private void awaitChangeAtMost(java.util.function.LongSupplier bound) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            long waitNanos = bound.getAsLong();
            if (waitNanos > 0) {
                changed.awaitNanos(waitNanos);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Nanoseconds from the clock's now until {@code at}, clamped to [0, one day]: a deadline centuries
     * away (an adopted label, say) must not overflow a {@code long} of nanoseconds, and waking once a
     * day to look again costs nothing.
     */
    private long nanosUntil(Instant at) {
        Instant now = clock.instant();
        if (!at.isAfter(now)) {
            return 0;
        }
        Duration until = Duration.between(now, at);
        return until.compareTo(LONGEST_WAIT) >= 0 ? LONGEST_WAIT.toNanos() : until.toNanos();
    }

    /** Stops the background thread and waits briefly for it to end. */
    @Override
    public void close() {
        closed = true;
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        Thread current;
        synchronized (this) {
            current = worker;
        }
        if (current != null) {
            try {
                current.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
