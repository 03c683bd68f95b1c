package dev.opensandbox.it.archfixture;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/** Reads time only in allowed ways; the clock rule must not report it. */
public class UsesInjectedClock {

    private final Clock clock;

    public UsesInjectedClock(Clock clock) {
        this.clock = clock;
    }

    public Instant expiry() {
        return Instant.now(clock).plus(Duration.ofMinutes(10));
    }

    public boolean overdue(long deadlineNanos) {
        return System.nanoTime() - deadlineNanos >= 0;
    }
}
