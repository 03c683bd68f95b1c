package dev.opensandbox.server.http;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.MalformedRequestException;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Timestamps on the wire: written as RFC 3339 in UTC with {@code Z} and six fraction digits only
 * when the microseconds are non-zero (as upstream); read leniently, because clients send
 * nanoseconds, local offsets, and sometimes epoch numbers.
 */
final class Times {

    private static final DateTimeFormatter WHOLE_SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'")
        .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter MICROS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
        .withZone(ZoneOffset.UTC);
    /** Date, 'T'/'t'/space, time with optional fraction, optional Z or offset (with or without colon). */
    private static final Pattern DATE_TIME = Pattern.compile(
        "(\\d{4}-\\d{2}-\\d{2})[Tt ](\\d{2}:\\d{2}(?::\\d{2}(?:[.,]\\d{1,9})?)?)\\s*(Z|z|[+-]\\d{2}(?::?\\d{2})?)?");
    private static final Pattern DATE_ONLY = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");
    private static final Pattern NUMBER = Pattern.compile("[+-]?\\d+(\\.\\d+)?");
    /** Epoch values above this many seconds are taken as milliseconds, as upstream's parser does. */
    private static final long MAX_EPOCH_SECONDS = 20_000_000_000L;

    private Times() {
    }

    static String format(Instant instant) {
        if (instant == null) {
            return null;
        }
        Instant micros = instant.truncatedTo(ChronoUnit.MICROS);
        return micros.getNano() == 0 ? WHOLE_SECONDS.format(micros) : MICROS.format(micros);
    }

    /**
     * Parses a client timestamp: RFC 3339 with any offset, a space or lowercase separator, an
     * offset without colon, a naive time (UTC), a date (midnight UTC), or epoch seconds
     * (milliseconds when very large).
     *
     * @throws MalformedRequestException naming {@code field} when nothing fits
     */
    static Instant parse(String text, String field) {
        String value = text == null ? "" : text.trim();
        Matcher m = DATE_TIME.matcher(value);
        try {
            if (m.matches()) {
                String time = m.group(2).replace(',', '.');
                if (time.length() == 5) {
                    time = time + ":00";
                }
                LocalDateTime local = LocalDateTime.parse(m.group(1) + "T" + time);
                String offset = m.group(3);
                if (offset == null || offset.equalsIgnoreCase("z")) {
                    return local.toInstant(ZoneOffset.UTC);
                }
                if (offset.length() == 5) {
                    offset = offset.substring(0, 3) + ":" + offset.substring(3);
                }
                return OffsetDateTime.of(local, ZoneOffset.of(offset)).toInstant();
            }
            if (DATE_ONLY.matcher(value).matches()) {
                return LocalDate.parse(value).atStartOfDay().toInstant(ZoneOffset.UTC);
            }
            if (NUMBER.matcher(value).matches()) {
                return fromEpoch(new BigDecimal(value));
            }
        } catch (ArithmeticException | java.time.DateTimeException e) {
            // fall through to the validation error
        }
        throw new MalformedRequestException(ErrorCodes.VALIDATION_ERROR,
            field + ": Input should be a valid datetime (got '" + value + "').");
    }

    /**
     * Epoch seconds (milliseconds above {@value #MAX_EPOCH_SECONDS}) to an instant. Numbers beyond
     * what an {@link Instant} holds give {@link Instant#MIN} or {@link Instant#MAX}, so that callers
     * refuse them with {@link #isWritable} like any other out-of-range time, never with an overflow.
     */
    static Instant fromEpoch(BigDecimal epoch) {
        BigDecimal seconds = epoch.abs().compareTo(BigDecimal.valueOf(MAX_EPOCH_SECONDS)) > 0
            ? epoch.movePointLeft(3) : epoch;
        if (seconds.compareTo(BigDecimal.valueOf(Instant.MAX.getEpochSecond())) > 0) {
            return Instant.MAX;
        }
        if (seconds.compareTo(BigDecimal.valueOf(Instant.MIN.getEpochSecond())) < 0) {
            return Instant.MIN;
        }
        BigDecimal whole = seconds.setScale(0, java.math.RoundingMode.FLOOR);
        long micros = seconds.subtract(whole).movePointRight(6).setScale(0, java.math.RoundingMode.FLOOR).longValue();
        return Instant.ofEpochSecond(whole.longValueExact()).plus(micros, ChronoUnit.MICROS);
    }

    /** A JSON number as epoch seconds or milliseconds; infinities (from {@code 1e999}) give MIN or MAX. */
    static Instant fromEpoch(double epoch) {
        if (Double.isNaN(epoch)) {
            return Instant.MIN;
        }
        if (Double.isInfinite(epoch)) {
            return epoch > 0 ? Instant.MAX : Instant.MIN;
        }
        return fromEpoch(BigDecimal.valueOf(epoch));
    }

    /**
     * Whether {@link #format} writes this instant as RFC 3339: years 1970 to 9999. (Earlier years
     * are writable too, but no timestamp the API takes may lie before the epoch.)
     */
    static boolean isWritable(Instant instant) {
        return !instant.isBefore(Instant.EPOCH) && !instant.isAfter(LAST_WRITABLE);
    }

    /** The last instant {@link #format} writes with a four-digit year. */
    static final Instant LAST_WRITABLE = Instant.parse("9999-12-31T23:59:59.999999Z");
}
