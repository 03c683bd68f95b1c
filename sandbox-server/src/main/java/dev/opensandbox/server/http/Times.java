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

    static Instant fromEpoch(BigDecimal epoch) {
        BigDecimal seconds = epoch.abs().compareTo(BigDecimal.valueOf(MAX_EPOCH_SECONDS)) > 0
            ? epoch.movePointLeft(3) : epoch;
        BigDecimal micros = seconds.movePointRight(6).setScale(0, java.math.RoundingMode.FLOOR);
        return Instant.EPOCH.plus(micros.longValueExact(), ChronoUnit.MICROS);
    }
}
