package dev.opensandbox.server.store;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class IsoTimestampsTest {

    private static final Instant T0 = Instant.parse("2026-06-12T15:35:36Z");

    @Test
    void formatIsPythonIsoformatOfAUtcDatetime() {
        assertEquals("2026-06-12T15:35:36+00:00", IsoTimestamps.format(T0));
        assertEquals("2026-06-12T15:35:36.123456+00:00", IsoTimestamps.format(T0.plusNanos(123_456_789)));
        assertEquals("2026-06-12T15:35:36.000001+00:00", IsoTimestamps.format(T0.plusNanos(1_000)));
        assertEquals("2026-06-12T15:35:36.500000+00:00", IsoTimestamps.format(T0.plusMillis(500)));
        assertEquals("2026-06-12T15:35:36+00:00", IsoTimestamps.format(T0.plusNanos(999)), "below a microsecond is dropped");
        assertEquals("0001-01-01T00:00:00+00:00", IsoTimestamps.format(Instant.parse("0001-01-01T00:00:00Z")));
        assertNull(IsoTimestamps.format(null));
    }

    @Test
    void parseAcceptsEveryPlausibleShape() {
        assertEquals(T0, IsoTimestamps.parse("2026-06-12T15:35:36+00:00"));
        assertEquals(T0, IsoTimestamps.parse("2026-06-12T15:35:36Z"));
        assertEquals(T0, IsoTimestamps.parse("2026-06-12t15:35:36z"));
        assertEquals(T0, IsoTimestamps.parse("2026-06-12T17:35:36+02:00"));
        assertEquals(T0, IsoTimestamps.parse("2026-06-12T10:35:36-0500"));
        assertEquals(T0, IsoTimestamps.parse("2026-06-12T15:35:36"), "naive is UTC");
        assertEquals(T0, IsoTimestamps.parse("2026-06-12 15:35:36"), "SQLite datetime()");
        assertEquals(T0.plusNanos(123_456_000), IsoTimestamps.parse("2026-06-12T15:35:36.123456+00:00"));
        assertEquals(T0.plusMillis(100), IsoTimestamps.parse("2026-06-12T15:35:36.1Z"));
        assertEquals(T0.plusNanos(123_456_000), IsoTimestamps.parse("2026-06-12T15:35:36.123456789Z"),
            "truncated to microseconds");
        assertNull(IsoTimestamps.parse(null));
    }

    @Test
    void garbageIsRejected() {
        for (String bad : List.of("", "yesterday", "2026-06-12", "2026-13-12T15:35:36Z", "2026-06-12T15:35:36+25:00")) {
            assertThrows(IllegalArgumentException.class, () -> IsoTimestamps.parse(bad), bad);
        }
    }

    @Test
    void formattedTextSortsLikeTheInstants() {
        List<Instant> instants = new ArrayList<>();
        for (long micros : new long[] {-1_000_001, -1, 0, 1, 9, 10, 999_999, 1_000_000, 1_000_001, 60_000_000}) {
            instants.add(T0.plusNanos(micros * 1_000));
        }
        List<String> byText = instants.stream().map(IsoTimestamps::format).sorted().toList();
        List<String> byInstant = instants.stream().sorted(Comparator.naturalOrder()).map(IsoTimestamps::format).toList();

        assertEquals(byInstant, byText);
        instants.forEach(instant -> assertEquals(instant, IsoTimestamps.parse(IsoTimestamps.format(instant))));
    }
}
