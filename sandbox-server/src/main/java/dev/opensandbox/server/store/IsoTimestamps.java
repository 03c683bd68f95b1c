package dev.opensandbox.server.store;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAccessor;
import java.util.Locale;

/**
 * The text form of instants in the store: what Python's {@code datetime.isoformat()} writes for
 * an aware UTC datetime, which is what upstream stores.
 *
 * <p><b>Format decision.</b> We write exactly upstream's shape,
 * {@code 2026-06-12T15:35:36.123456+00:00}, and {@code 2026-06-12T15:35:36+00:00} when the
 * microseconds are zero, rather than always padding six fraction digits. Both shapes still sort
 * correctly as text, which {@code ORDER BY created_at} relies on: the strings agree up to the
 * seconds, and at that position the fractionless form continues with {@code '+'} (0x2B) while the
 * fractional form continues with {@code '.'} (0x2E), so "no fraction" sorts first, as the smaller
 * instant must; a non-zero fraction always has exactly six digits, so fractions compare digit by
 * digit. Matching upstream byte for byte means a database stays interchangeable with the Python
 * server in both directions and a row's text does not depend on which server wrote it. The
 * argument needs the offset to be {@code +00:00} on every row (upstream's service and this store
 * only write UTC); a {@code Z} suffix (0x5A) would sort after the fraction and break it, so we
 * never write {@code Z}, although we read it.
 */
final class IsoTimestamps {

    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss", Locale.ROOT);

    /** ISO local date-time (0–9 fraction digits), then an optional offset: {@code Z}, {@code +HH:MM}, {@code +HHMM}, {@code +HH}. */
    private static final DateTimeFormatter LENIENT = new DateTimeFormatterBuilder()
        .parseCaseInsensitive()
        .append(DateTimeFormatter.ISO_LOCAL_DATE)
        .appendLiteral('T')
        .append(DateTimeFormatter.ISO_LOCAL_TIME)
        .optionalStart().appendOffset("+HH:MM:ss", "Z").optionalEnd()
        .optionalStart().appendOffset("+HHMM", "Z").optionalEnd()
        .optionalStart().appendOffset("+HH", "Z").optionalEnd()
        .toFormatter(Locale.ROOT);

    private IsoTimestamps() {
    }

    /** The instant truncated to microseconds, as the store keeps it. */
    static Instant truncate(Instant instant) {
        return instant == null ? null : instant.truncatedTo(ChronoUnit.MICROS);
    }

    /** Python's {@code isoformat()} of the instant in UTC, truncated to microseconds; null for null. */
    static String format(Instant instant) {
        if (instant == null) {
            return null;
        }
        Instant micros = truncate(instant);
        StringBuilder out = new StringBuilder(32)
            .append(SECONDS.format(LocalDateTime.ofInstant(micros, ZoneOffset.UTC)));
        int fraction = micros.getNano() / 1000;
        if (fraction != 0) {
            String digits = Integer.toString(fraction);
            out.append('.').append("0".repeat(6 - digits.length())).append(digits);
        }
        return out.append("+00:00").toString();
    }

    /**
     * Reads what {@link #format} writes and what other writers plausibly wrote: any offset or
     * {@code Z}, 0–9 fraction digits, a space instead of {@code T} (SQLite's own
     * {@code datetime()}), and no offset at all, taken as UTC (a naive Python datetime).
     *
     * @throws IllegalArgumentException when {@code text} is none of these
     */
    static Instant parse(String text) {
        if (text == null) {
            return null;
        }
        String normalized = text.trim();
        if (normalized.length() > 10 && normalized.charAt(10) == ' ') {
            normalized = normalized.substring(0, 10) + 'T' + normalized.substring(11);
        }
        try {
            TemporalAccessor parsed = LENIENT.parse(normalized);
            LocalDateTime local = LocalDateTime.from(parsed);
            ZoneOffset offset = parsed.isSupported(java.time.temporal.ChronoField.OFFSET_SECONDS)
                ? ZoneOffset.from(parsed)
                : ZoneOffset.UTC;
            return truncate(local.toInstant(offset));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("Not an ISO-8601 timestamp: " + text, e);
        }
    }
}
