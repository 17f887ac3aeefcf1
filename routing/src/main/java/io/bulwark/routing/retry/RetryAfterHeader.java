package io.bulwark.routing.retry;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * Parses an upstream's {@code Retry-After} header (RFC 9110 §10.2.3): either delta-seconds or an
 * HTTP-date. Every HTTP-date form a recipient must accept is understood: IMF-fixdate
 * ({@code Sun, 06 Nov 1994 08:49:37 GMT}), the obsolete RFC 850 form
 * ({@code Sunday, 06-Nov-94 08:49:37 GMT}, two-digit years read as at most 50 years ahead) and
 * asctime ({@code Sun Nov  6 08:49:37 1994}).
 */
public final class RetryAfterHeader {

    private static final DateTimeFormatter ASCTIME =
            DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss uuuu", Locale.US).withZone(ZoneOffset.UTC);
    /** More digits than this overflow a long's milliseconds; such a delay is "forever". */
    private static final int MAX_DELTA_DIGITS = 15;

    private RetryAfterHeader() {
    }

    /**
     * The delay the header asks for, in milliseconds from {@code nowMillis} (0 for a date in the
     * past); empty when the value is missing or neither form parses.
     */
    public static OptionalLong delayMillis(String value, long nowMillis) {
        if (value == null) {
            return OptionalLong.empty();
        }
        String v = value.strip();
        if (v.isEmpty()) {
            return OptionalLong.empty();
        }
        if (isDigits(v)) {
            if (v.length() > MAX_DELTA_DIGITS) {
                return OptionalLong.of(Long.MAX_VALUE);
            }
            return OptionalLong.of(Long.parseLong(v) * 1000);
        }
        OptionalLong delay = delayUntil(v, DateTimeFormatter.RFC_1123_DATE_TIME, nowMillis);
        if (delay.isEmpty()) {
            delay = delayUntil(v, ASCTIME, nowMillis);
        }
        if (delay.isEmpty()) {
            delay = delayUntil(v, rfc850(nowMillis), nowMillis);
        }
        return delay;
    }

    private static OptionalLong delayUntil(String value, DateTimeFormatter format, long nowMillis) {
        try {
            ZonedDateTime date = ZonedDateTime.parse(value, format);
            return OptionalLong.of(Math.max(0, date.toInstant().toEpochMilli() - nowMillis));
        } catch (DateTimeParseException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * The RFC 850 form, whose two-digit year (RFC 9110 §5.6.7) is the one within 50 years ahead of
     * now or, if that is too far ahead, the most recent past one with those digits. Built per call:
     * the century depends on now, and the weekday is then checked against the right year.
     */
    private static DateTimeFormatter rfc850(long nowMillis) {
        int year = ZonedDateTime.ofInstant(Instant.ofEpochMilli(nowMillis), ZoneOffset.UTC).getYear();
        return new DateTimeFormatterBuilder()
                .appendPattern("EEEE, dd-MMM-")
                .appendValueReduced(ChronoField.YEAR, 2, 2, year - 49)
                .appendPattern(" HH:mm:ss 'GMT'")
                .toFormatter(Locale.US)
                .withZone(ZoneOffset.UTC);
    }

    private static boolean isDigits(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }
}
