package io.bulwark.proxy.log;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;

/**
 * One JSON object written field by field as UTF-8 into a reused byte array: what the access log
 * formats each request into on its event loop, with no per-line allocation once the array is
 * large enough (a generator, a writer and a String per line were a third of the log's cost).
 * One instance per thread; not thread-safe.
 */
final class JsonLine {

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private byte[] bytes = new byte[512];
    private int length;
    private boolean firstField;

    private long cachedSecond = Long.MIN_VALUE;
    private final byte[] cachedTime = new byte[32];
    private int cachedTimeLength;

    JsonLine start() {
        length = 0;
        firstField = true;
        put((byte) '{');
        return this;
    }

    /** Ends the object and the line ({@code \n}). */
    JsonLine end() {
        put((byte) '}');
        put((byte) '\n');
        return this;
    }

    byte[] bytes() {
        return bytes;
    }

    int length() {
        return length;
    }

    /** The line without its newline, as a String (for tests and taps, never on the hot path). */
    String text() {
        int n = length > 0 && bytes[length - 1] == '\n' ? length - 1 : length;
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }

    JsonLine string(String name, String value) {
        name(name);
        if (value == null) {
            ascii("null");
        } else {
            quoted(value);
        }
        return this;
    }

    JsonLine number(String name, long value) {
        name(name);
        decimal(value);
        return this;
    }

    /** A number with exactly three decimals (rounded), as {@code 12.345}. */
    JsonLine millis3(String name, double value) {
        name(name);
        long thousandths = Math.round(value * 1000);
        if (thousandths < 0) {
            put((byte) '-');
            thousandths = -thousandths;
        }
        decimal(thousandths / 1000);
        put((byte) '.');
        long frac = thousandths % 1000;
        put((byte) ('0' + frac / 100));
        put((byte) ('0' + frac / 10 % 10));
        put((byte) ('0' + frac % 10));
        return this;
    }

    JsonLine bool(String name, boolean value) {
        name(name);
        ascii(value ? "true" : "false");
        return this;
    }

    /** An ISO-8601 UTC instant with milliseconds, {@code 2026-12-07T20:55:01.042Z}; the seconds are formatted once a second. */
    JsonLine time(String name, long epochMillis) {
        name(name);
        long second = Math.floorDiv(epochMillis, 1000);
        if (second != cachedSecond) {
            String s = Instant.ofEpochSecond(second).toString(); // 2026-12-07T20:55:01Z
            cachedTimeLength = 0;
            for (int i = 0; i < s.length() - 1; i++) {
                cachedTime[cachedTimeLength++] = (byte) s.charAt(i);
            }
            cachedTime[cachedTimeLength++] = '.';
            cachedSecond = second;
        }
        ensure(cachedTimeLength + 6);
        put((byte) '"');
        System.arraycopy(cachedTime, 0, bytes, length, cachedTimeLength);
        length += cachedTimeLength;
        int ms = (int) Math.floorMod(epochMillis, 1000);
        put((byte) ('0' + ms / 100));
        put((byte) ('0' + ms / 10 % 10));
        put((byte) ('0' + ms % 10));
        put((byte) 'Z');
        put((byte) '"');
        return this;
    }

    private void name(String name) {
        if (!firstField) {
            put((byte) ',');
        }
        firstField = false;
        quoted(name);
        put((byte) ':');
    }

    private void decimal(long value) {
        if (value < 0) {
            if (value == Long.MIN_VALUE) {
                ascii(Long.toString(value));
                return;
            }
            put((byte) '-');
            value = -value;
        }
        ensure(20);
        int digits = 1;
        for (long v = value; v >= 10; v /= 10) {
            digits++;
        }
        for (int i = length + digits - 1; i >= length; i--) {
            bytes[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        length += digits;
    }

    private void ascii(String s) {
        ensure(s.length());
        for (int i = 0; i < s.length(); i++) {
            bytes[length++] = (byte) s.charAt(i);
        }
    }

    /** A JSON string: quotes, backslashes and control characters escaped, everything else as UTF-8. */
    private void quoted(String s) {
        ensure(s.length() * 3 + 2); // a UTF-16 unit takes at most 3 bytes (a surrogate pair takes 4 for 2)
        bytes[length++] = '"';
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                if (c == '"' || c == '\\') {
                    ensure(2 + (s.length() - i) * 3);
                    bytes[length++] = '\\';
                    bytes[length++] = (byte) c;
                } else if (c < 0x20 || c == 0x7f) {
                    ensure(6 + (s.length() - i) * 3);
                    bytes[length++] = '\\';
                    bytes[length++] = 'u';
                    bytes[length++] = '0';
                    bytes[length++] = '0';
                    bytes[length++] = HEX[c >> 4];
                    bytes[length++] = HEX[c & 0xf];
                } else {
                    bytes[length++] = (byte) c;
                }
            } else if (c < 0x800) {
                bytes[length++] = (byte) (0xc0 | c >> 6);
                bytes[length++] = (byte) (0x80 | c & 0x3f);
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                bytes[length++] = (byte) (0xf0 | cp >> 18);
                bytes[length++] = (byte) (0x80 | cp >> 12 & 0x3f);
                bytes[length++] = (byte) (0x80 | cp >> 6 & 0x3f);
                bytes[length++] = (byte) (0x80 | cp & 0x3f);
            } else if (Character.isSurrogate(c)) {
                bytes[length++] = '?'; // a lone surrogate has no UTF-8 form
            } else {
                bytes[length++] = (byte) (0xe0 | c >> 12);
                bytes[length++] = (byte) (0x80 | c >> 6 & 0x3f);
                bytes[length++] = (byte) (0x80 | c & 0x3f);
            }
        }
        ensure(1);
        bytes[length++] = '"';
    }

    private void put(byte b) {
        ensure(1);
        bytes[length++] = b;
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }
}
