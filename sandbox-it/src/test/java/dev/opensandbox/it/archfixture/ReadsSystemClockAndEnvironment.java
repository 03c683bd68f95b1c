package dev.opensandbox.it.archfixture;

import java.time.Duration;
import java.time.Instant;

/** Deliberately breaks the clock rule: the architecture tests prove the rule reports both calls. */
public class ReadsSystemClockAndEnvironment {

    public Instant expiry() {
        return Instant.now().plus(Duration.ofMinutes(10));
    }

    public String home() {
        return System.getenv("HOME");
    }
}
