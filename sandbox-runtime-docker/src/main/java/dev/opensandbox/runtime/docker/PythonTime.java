package dev.opensandbox.runtime.docker;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/** Timestamps in the formats upstream writes into labels and Docker writes into its API. */
final class PythonTime {

    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss");

    /** Docker's "never" for StartedAt/FinishedAt. */
    private static final Instant DOCKER_ZERO = Instant.parse("0001-01-01T00:00:00Z");

    private PythonTime() {
    }

    /**
     * Python's {@code datetime.isoformat()} of a UTC instant: microseconds, fraction omitted when
     * zero, offset written {@code +00:00}, for example {@code 2026-06-12T15:35:36.123456+00:00}.
     */
    static String isoformat(Instant instant) {
        Instant micros = instant.truncatedTo(ChronoUnit.MICROS);
        LocalDateTime utc = LocalDateTime.ofInstant(micros, ZoneOffset.UTC);
        StringBuilder text = new StringBuilder(SECONDS.format(utc));
        int microsOfSecond = utc.getNano() / 1000;
        if (microsOfSecond != 0) {
            text.append('.').append(String.format("%06d", microsOfSecond));
        }
        return text.append("+00:00").toString();
    }

    /**
     * Parses an ISO-8601 timestamp leniently: with an offset or {@code Z}, or without (then UTC,
     * as upstream reads naive values), with any number of fraction digits.
     */
    static Optional<Instant> parseIso(String text) {
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        String trimmed = text.trim().replace(' ', 'T');
        try {
            return Optional.of(OffsetDateTime.parse(trimmed, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant());
        } catch (DateTimeParseException notOffset) {
            try {
                return Optional.of(LocalDateTime.parse(trimmed, DateTimeFormatter.ISO_LOCAL_DATE_TIME)
                    .toInstant(ZoneOffset.UTC));
            } catch (DateTimeParseException notLocal) {
                return Optional.empty();
            }
        }
    }

    /**
     * A Docker API timestamp (RFC 3339 with nanoseconds), truncated to microseconds as upstream
     * does; empty for Docker's zero time or a value that cannot be parsed.
     */
    static Optional<Instant> parseDocker(String text) {
        return parseIso(text)
            .filter(instant -> instant.isAfter(DOCKER_ZERO))
            .map(instant -> instant.truncatedTo(ChronoUnit.MICROS));
    }
}
