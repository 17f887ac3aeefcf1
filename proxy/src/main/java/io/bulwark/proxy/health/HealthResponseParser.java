package io.bulwark.proxy.health;

import io.netty.buffer.ByteBuf;

/**
 * Reads HTTP/1.x responses to health checks off a kept-alive connection, byte by byte and without
 * allocating: all a check needs is the status, whether the connection may be kept, and where the
 * response ends, so the body is skipped by its framing (RFC 9112 §6.3: {@code 1xx}, 204 and 304 have
 * none; {@code Transfer-Encoding} ending in {@code chunked} is read chunk by chunk, trailers
 * included; else {@code Content-Length}; else everything until the upstream closes). Header lines
 * are looked at only for {@code Content-Length}, {@code Transfer-Encoding} and {@code Connection};
 * the rest is skipped. One instance per connection; {@link #reset()} before each check.
 *
 * <p>Anything it cannot frame (no status line, a bad length, a line longer than
 * {@value #MAX_LINE} bytes) is {@link #FAILED}: the check fails and the connection is not reused.
 */
final class HealthResponseParser {

    /** Longest status, header, chunk-size or trailer line. */
    static final int MAX_LINE = 8192;

    /** Results of {@link #feed}. */
    static final int MORE = 0;
    static final int DONE = 1;
    static final int FAILED = 2;

    private static final int STATUS = 0;
    private static final int HEADER = 1;
    private static final int FIXED = 2;
    private static final int CHUNK_SIZE = 3;
    private static final int CHUNK_DATA = 4;
    private static final int CHUNK_END = 5;
    private static final int TRAILER = 6;
    private static final int UNTIL_CLOSE = 7;
    private static final int COMPLETE = 8;

    private final byte[] line = new byte[MAX_LINE];
    private int lineLength;
    private int state;
    private int status;
    private boolean http11;
    private boolean closeToken;
    private boolean keepAliveToken;
    private boolean chunked;
    private long contentLength;
    private long remaining;
    private String failure;

    /** Ready for the next response. */
    void reset() {
        state = STATUS;
        lineLength = 0;
        status = 0;
        failure = null;
        startHead();
    }

    private void startHead() {
        http11 = false;
        closeToken = false;
        keepAliveToken = false;
        chunked = false;
        contentLength = -1;
    }

    int status() {
        return status;
    }

    /** Whether the connection can carry the next check once this response is complete. */
    boolean keepAlive() {
        return state == COMPLETE && failure == null && !closeToken && (http11 || keepAliveToken);
    }

    /** Why the response could not be read; null unless {@link #feed} returned {@link #FAILED}. */
    String failure() {
        return failure;
    }

    /** True while a body runs until the upstream closes the connection. */
    boolean untilClose() {
        return state == UNTIL_CLOSE;
    }

    /** The upstream closed the connection: completes a body read until close. */
    int closed() {
        if (state == UNTIL_CLOSE) {
            state = COMPLETE;
            return DONE;
        }
        return fail("connection closed before a complete response");
    }

    /**
     * Consumes bytes of {@code in} (moving its reader index) up to the end of the response at most.
     * Returns {@link #DONE} when the response is complete (bytes after it stay unread), {@link #MORE}
     * when more are needed, {@link #FAILED} when the response cannot be read.
     */
    int feed(ByteBuf in) {
        while (in.isReadable()) {
            switch (state) {
                case STATUS, HEADER, CHUNK_SIZE, CHUNK_END, TRAILER -> {
                    int result = readLine(in);
                    if (result != DONE) {
                        return result;
                    }
                    result = onLine();
                    if (result != MORE) {
                        return result;
                    }
                }
                case FIXED, CHUNK_DATA -> {
                    int skip = (int) Math.min(remaining, in.readableBytes());
                    in.skipBytes(skip);
                    remaining -= skip;
                    if (remaining == 0) {
                        if (state == FIXED) {
                            state = COMPLETE;
                            return DONE;
                        }
                        state = CHUNK_END;
                    }
                }
                case UNTIL_CLOSE -> in.skipBytes(in.readableBytes());
                default -> {
                    return DONE;
                }
            }
        }
        return state == COMPLETE ? DONE : MORE;
    }

    /** Gathers one line without its CRLF (a bare LF ends it too); DONE when a whole line is in. */
    private int readLine(ByteBuf in) {
        int lf = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
        int end = lf < 0 ? in.writerIndex() : lf;
        int n = end - in.readerIndex();
        if (lineLength + n > MAX_LINE) {
            return fail("response line longer than " + MAX_LINE + " bytes");
        }
        in.readBytes(line, lineLength, n);
        lineLength += n;
        if (lf < 0) {
            return MORE;
        }
        in.skipBytes(1);
        if (lineLength > 0 && line[lineLength - 1] == '\r') {
            lineLength--;
        }
        return DONE;
    }

    private int onLine() {
        int length = lineLength;
        lineLength = 0;
        return switch (state) {
            case STATUS -> statusLine(length);
            case HEADER -> length == 0 ? endOfHead() : headerLine(length);
            case CHUNK_SIZE -> chunkSize(length);
            case CHUNK_END -> {
                if (length != 0) {
                    yield fail("missing CRLF after a chunk");
                }
                state = CHUNK_SIZE;
                yield MORE;
            }
            default -> { // TRAILER
                if (length == 0) {
                    state = COMPLETE;
                    yield DONE;
                }
                yield MORE;
            }
        };
    }

    /** {@code HTTP/1.x SSS [reason]} */
    private int statusLine(int length) {
        if (length == 0) {
            return MORE; // an empty line before the status line is tolerated (RFC 9112 §2.2)
        }
        if (length < 12 || !startsWith(0, "HTTP/1.") || (line[7] != '0' && line[7] != '1') || line[8] != ' '
                || (length > 12 && line[12] != ' ')) {
            return fail("malformed status line");
        }
        int code = 0;
        for (int i = 9; i < 12; i++) {
            byte b = line[i];
            if (b < '0' || b > '9') {
                return fail("malformed status line");
            }
            code = code * 10 + (b - '0');
        }
        if (code < 100) {
            return fail("malformed status line");
        }
        startHead();
        http11 = line[7] == '1';
        status = code;
        state = HEADER;
        return MORE;
    }

    private int headerLine(int length) {
        int colon = -1;
        for (int i = 0; i < length; i++) {
            if (line[i] == ':') {
                colon = i;
                break;
            }
        }
        if (colon <= 0) {
            return fail("malformed header line");
        }
        int from = colon + 1;
        int to = length;
        while (from < to && (line[from] == ' ' || line[from] == '\t')) {
            from++;
        }
        while (to > from && (line[to - 1] == ' ' || line[to - 1] == '\t')) {
            to--;
        }
        if (nameIs(colon, "content-length")) {
            long value = 0;
            if (from == to) {
                return fail("invalid Content-Length");
            }
            for (int i = from; i < to; i++) {
                byte b = line[i];
                if (b < '0' || b > '9' || value > (Long.MAX_VALUE - 9) / 10) {
                    return fail("invalid Content-Length");
                }
                value = value * 10 + (b - '0');
            }
            if (contentLength >= 0 && contentLength != value) {
                return fail("conflicting Content-Length");
            }
            contentLength = value;
        } else if (nameIs(colon, "transfer-encoding")) {
            chunked = endsWithTokenIgnoreCase(from, to, "chunked");
        } else if (nameIs(colon, "connection")) {
            closeToken |= hasToken(from, to, "close");
            keepAliveToken |= hasToken(from, to, "keep-alive");
        }
        return MORE;
    }

    private int endOfHead() {
        if (status < 200) {
            state = STATUS; // an interim answer; the real one follows
            return MORE;
        }
        if (status == 204 || status == 304) {
            state = COMPLETE;
            return DONE;
        }
        if (chunked) {
            state = CHUNK_SIZE;
        } else if (contentLength >= 0) {
            remaining = contentLength;
            if (remaining == 0) {
                state = COMPLETE;
                return DONE;
            }
            state = FIXED;
        } else {
            closeToken = true;
            state = UNTIL_CLOSE;
        }
        return MORE;
    }

    private int chunkSize(int length) {
        long size = 0;
        int digits = 0;
        for (int i = 0; i < length; i++) {
            int v = Character.digit(line[i], 16);
            if (v < 0) {
                if (line[i] == ';' || line[i] == ' ' || line[i] == '\t') {
                    break; // extensions are ignored
                }
                return fail("invalid chunk size");
            }
            if (++digits > 15) {
                return fail("invalid chunk size");
            }
            size = size * 16 + v;
        }
        if (digits == 0) {
            return fail("invalid chunk size");
        }
        if (size == 0) {
            state = TRAILER;
        } else {
            remaining = size;
            state = CHUNK_DATA;
        }
        return MORE;
    }

    private boolean startsWith(int at, String text) {
        for (int i = 0; i < text.length(); i++) {
            if (line[at + i] != text.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private boolean nameIs(int length, String lowerName) {
        if (length != lowerName.length()) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (lower(line[i]) != lowerName.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** A comma-separated list of {@code from..to} contains {@code token}, case-insensitively. */
    private boolean hasToken(int from, int to, String token) {
        int start = from;
        for (int i = from; i <= to; i++) {
            if (i == to || line[i] == ',') {
                int s = start;
                int e = i;
                while (s < e && (line[s] == ' ' || line[s] == '\t')) {
                    s++;
                }
                while (e > s && (line[e - 1] == ' ' || line[e - 1] == '\t')) {
                    e--;
                }
                if (equalsIgnoreCase(s, e, token)) {
                    return true;
                }
                start = i + 1;
            }
        }
        return false;
    }

    private boolean endsWithTokenIgnoreCase(int from, int to, String token) {
        int last = from;
        for (int i = from; i < to; i++) {
            if (line[i] == ',') {
                last = i + 1;
            }
        }
        while (last < to && (line[last] == ' ' || line[last] == '\t')) {
            last++;
        }
        return equalsIgnoreCase(last, to, token);
    }

    private boolean equalsIgnoreCase(int from, int to, String lowerText) {
        if (to - from != lowerText.length()) {
            return false;
        }
        for (int i = 0; i < lowerText.length(); i++) {
            if (lower(line[from + i]) != lowerText.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static char lower(byte b) {
        return (char) (b >= 'A' && b <= 'Z' ? b + 32 : b & 0xFF);
    }

    private int fail(String why) {
        failure = why;
        state = COMPLETE;
        return FAILED;
    }
}
