package dev.opensandbox.core.testing;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MutableClockTest {

    @Test
    void startsAtTheDefaultInstantInUtcAndMovesOnlyWhenTold() {
        MutableClock clock = new MutableClock();

        assertEquals(MutableClock.DEFAULT_START, clock.instant());
        assertEquals(ZoneOffset.UTC, clock.getZone());
        assertEquals(MutableClock.DEFAULT_START.plusSeconds(90), clock.advance(Duration.ofSeconds(90)));
        assertEquals(MutableClock.DEFAULT_START.plusSeconds(90), clock.instant());

        Instant later = Instant.parse("2030-06-01T12:00:00Z");
        clock.set(later);
        assertEquals(later, clock.instant());
        assertEquals(later.toEpochMilli(), clock.millis());
    }

    @Test
    void aZonedViewSharesTheTime() {
        MutableClock clock = new MutableClock();
        Clock paris = clock.withZone(ZoneId.of("Europe/Paris"));

        clock.advance(Duration.ofHours(1));

        assertEquals(clock.instant(), paris.instant());
        assertEquals(ZoneId.of("Europe/Paris"), paris.getZone());
    }
}
