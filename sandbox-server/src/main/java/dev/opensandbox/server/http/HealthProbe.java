package dev.opensandbox.server.http;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.spi.SandboxRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What {@code /health} reports: the outcome of the runtime's {@link SandboxRuntime#probe()}, run
 * in the background every interval on a thread of its own. {@code /health} only reads the last
 * outcome, so it never waits on the platform and never calls it. A probe that has not answered
 * for three intervals counts as a failure ({@code GENERAL::HEALTH_PROBE_TIMEOUT}) until it does:
 * a hung engine is reported even before the runtime's own call timeout gives up. Until the first
 * probe answers the server counts as healthy (it started against that runtime).
 */
final class HealthProbe implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HealthProbe.class);
    static final String PROBE_TIMEOUT = "GENERAL::HEALTH_PROBE_TIMEOUT";

    /** One outcome; {@code code} and {@code message} only when unhealthy. */
    record Status(boolean healthy, String code, String message) {
        static final Status HEALTHY = new Status(true, null, null);
    }

    private record Outcome(long sequence, Status status) {
    }

    private final SandboxRuntime runtime;
    private final Clock clock;
    private final Duration interval;
    private final Duration stalledAfter;
    private final AtomicLong sequence = new AtomicLong();
    /** Probes that have started and not yet answered, by sequence: when each started. */
    private final Map<Long, Instant> running = new ConcurrentSkipListMap<>();
    private volatile Outcome last = new Outcome(0, Status.HEALTHY);
    private ScheduledExecutorService scheduler;

    HealthProbe(SandboxRuntime runtime, Clock clock, Duration interval) {
        this.runtime = runtime;
        this.clock = clock;
        this.interval = interval;
        this.stalledAfter = interval.multipliedBy(3);
    }

    /** Probes now and then every interval, on a daemon thread. */
    synchronized void start() {
        if (scheduler != null) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "opensandbox-health-probe");
            thread.setDaemon(true);
            return thread;
        });
        scheduler.scheduleWithFixedDelay(this::probeOnce, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Runs one probe on the calling thread and records its outcome (unless a later probe answered first). */
    void probeOnce() {
        long number = sequence.incrementAndGet();
        running.put(number, clock.instant());
        Status status;
        try {
            runtime.probe();
            status = Status.HEALTHY;
        } catch (SandboxException e) {
            status = new Status(false, e.code(), e.getMessage());
        } catch (RuntimeException e) {
            status = new Status(false, ErrorCodes.UNKNOWN, "The " + runtime.type() + " runtime's health probe failed: "
                + e.getClass().getSimpleName() + ".");
        } finally {
            running.remove(number);
        }
        record(number, status);
    }

    private synchronized void record(long number, Status status) {
        if (number < last.sequence()) {
            return;
        }
        if (status.healthy() != last.status().healthy()) {
            if (status.healthy()) {
                LOG.info("health: the {} runtime answers again", runtime.type());
            } else {
                LOG.warn("health: unhealthy: {} {}", status.code(), status.message());
            }
        }
        last = new Outcome(number, status);
    }

    /** The last outcome, or a timeout when a probe started since has been running too long. Never blocks. */
    Status status() {
        Outcome outcome = last;
        Instant now = clock.instant();
        for (Map.Entry<Long, Instant> probe : running.entrySet()) {
            if (probe.getKey() > outcome.sequence()) {
                Duration silent = Duration.between(probe.getValue(), now);
                if (silent.compareTo(stalledAfter) > 0) {
                    return new Status(false, PROBE_TIMEOUT, "The " + runtime.type()
                        + " runtime has not answered its health probe for " + silent.toSeconds() + " s.");
                }
                break; // the oldest probe newer than the outcome is the one to judge by
            }
        }
        return outcome.status();
    }

    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }
}
