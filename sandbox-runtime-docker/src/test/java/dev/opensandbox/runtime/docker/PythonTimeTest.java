package dev.opensandbox.runtime.docker;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PythonTimeTest {

    @Test
    void isoformatWritesMicrosecondsAndAnExplicitUtcOffset() {
        assertEquals("2026-06-12T15:35:36.123456+00:00",
            PythonTime.isoformat(Instant.parse("2026-06-12T15:35:36.123456789Z")));
    }

    @Test
    void isoformatOmitsAZeroFraction() {
        assertEquals("2026-06-12T15:35:36+00:00", PythonTime.isoformat(Instant.parse("2026-06-12T15:35:36Z")));
        assertEquals("2026-06-12T15:35:36+00:00", PythonTime.isoformat(Instant.parse("2026-06-12T15:35:36.000000900Z")));
    }

    @Test
    void isoformatKeepsLeadingZerosOfTheFraction() {
        assertEquals("2026-06-12T15:35:36.000100+00:00",
            PythonTime.isoformat(Instant.parse("2026-06-12T15:35:36.0001Z")));
    }

    @Test
    void parsesWhatPythonWritesAndWhatHumansWrite() {
        Instant expected = Instant.parse("2026-06-12T15:35:36.123456Z");
        assertEquals(Optional.of(expected), PythonTime.parseIso("2026-06-12T15:35:36.123456+00:00"));
        assertEquals(Optional.of(expected), PythonTime.parseIso("2026-06-12T15:35:36.123456Z"));
        assertEquals(Optional.of(expected), PythonTime.parseIso("2026-06-12T17:35:36.123456+02:00"));
        assertEquals(Optional.of(expected), PythonTime.parseIso("2026-06-12T15:35:36.123456"), "naive means UTC");
        assertEquals(Optional.of(expected), PythonTime.parseIso("2026-06-12 15:35:36.123456+00:00"));
        assertEquals(Optional.empty(), PythonTime.parseIso("soon"));
    }

    @Test
    void roundTrips() {
        Instant instant = Instant.parse("2030-01-01T00:00:00.000001Z");
        assertEquals(Optional.of(instant), PythonTime.parseIso(PythonTime.isoformat(instant)));
    }

    @Test
    void dockerZeroTimeIsAbsentAndNanosAreTruncated() {
        assertEquals(Optional.empty(), PythonTime.parseDocker("0001-01-01T00:00:00Z"));
        assertEquals(Optional.of(Instant.parse("2026-06-12T15:00:00.123456Z")),
            PythonTime.parseDocker("2026-06-12T15:00:00.123456789Z"));
    }
}
