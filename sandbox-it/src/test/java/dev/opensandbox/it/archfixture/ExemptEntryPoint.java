package dev.opensandbox.it.archfixture;

import java.time.Clock;

/** Stands in for the server's Main: the one class the clock rule exempts when named as such. */
public class ExemptEntryPoint {

    public Clock systemClock() {
        return Clock.systemUTC();
    }
}
