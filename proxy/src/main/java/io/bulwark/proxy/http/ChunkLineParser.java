package io.bulwark.proxy.http;

/**
 * One chunk-size line of a chunked body, byte by byte (RFC 9112 §7.1.1):
 * {@code chunk-size [ chunk-ext ] CRLF} with
 * {@code chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )}.
 * The size is 1 to {@value #MAX_SIZE_DIGITS} hex digits and at most 2^31-1 (the largest chunk
 * Netty's decoder can frame); the line is at most {@value #MAX_LINE} bytes. It accepts only what
 * Netty's own chunk-line check accepts too, so the two never frame a body differently.
 */
final class ChunkLineParser {

    /** Longest chunk-size line including extensions, without its CRLF. */
    static final int MAX_LINE = 4096;
    /** Most hex digits of a chunk size. */
    static final int MAX_SIZE_DIGITS = 16;

    /** Results of {@link #accept}. */
    static final int MORE = 0;
    static final int DONE = 1;
    static final int FAILED = 2;

    private static final HttpViolation BARE_LF = new HttpViolation(400, "bare LF in a chunk-size line");
    private static final HttpViolation BARE_CR = new HttpViolation(400, "bare CR in a chunk-size line");
    private static final HttpViolation TOO_LONG =
            new HttpViolation(400, "chunk-size line longer than " + MAX_LINE + " bytes");
    private static final HttpViolation TOO_MANY_DIGITS =
            new HttpViolation(400, "chunk size longer than " + MAX_SIZE_DIGITS + " hex digits");
    private static final HttpViolation TOO_LARGE = new HttpViolation(400, "chunk size larger than 2^31-1");
    private static final HttpViolation EMPTY_SIZE = new HttpViolation(400, "empty chunk size");
    private static final HttpViolation BAD_SIZE = new HttpViolation(400, "invalid chunk size");
    private static final HttpViolation BAD_EXTENSION = new HttpViolation(400, "invalid chunk extension");
    private static final HttpViolation BAD_QUOTED =
            new HttpViolation(400, "invalid quoted chunk extension value");

    private static final int SIZE = 0;
    private static final int SIZE_BWS = 1;
    private static final int NAME_START = 2;
    private static final int NAME = 3;
    private static final int NAME_BWS = 4;
    private static final int VALUE_START = 5;
    private static final int TOKEN = 6;
    private static final int QUOTED = 7;
    private static final int QUOTED_ESCAPE = 8;
    private static final int QUOTED_END = 9;
    private static final int VALUE_BWS = 10;
    private static final int LF = 11;

    private int state;
    private int length;
    private int digits;
    private long size;
    private HttpViolation violation;

    /** Starts a new line. */
    void reset() {
        state = SIZE;
        length = 0;
        digits = 0;
        size = 0;
    }

    /** The chunk size of a {@link #DONE} line. */
    long size() {
        return size;
    }

    /** Why a line {@link #FAILED}. */
    HttpViolation violation() {
        return violation;
    }

    /** One byte: {@link #MORE}, {@link #DONE} (it was the line's LF) or {@link #FAILED}. */
    int accept(int b) {
        if (state == LF) {
            return b == '\n' ? DONE : fail(BARE_CR);
        }
        if (b == '\n') {
            return fail(BARE_LF);
        }
        if (b == '\r') {
            return lineEnd();
        }
        if (++length > MAX_LINE) {
            return fail(TOO_LONG);
        }
        boolean ws = b == ' ' || b == '\t';
        boolean tchar = HttpChars.is(b, HttpChars.TCHAR);
        switch (state) {
            case SIZE:
                return sizeDigit(b, ws);
            case SIZE_BWS:
            case VALUE_BWS:
                return ws ? MORE : to(b == ';', NAME_START, BAD_EXTENSION);
            case NAME_START:
                return ws ? MORE : to(tchar, NAME, BAD_EXTENSION);
            case NAME:
                if (tchar) {
                    return MORE;
                }
                return ws ? to(true, NAME_BWS, null) : afterName(b);
            case NAME_BWS:
                return ws ? MORE : afterName(b);
            case VALUE_START:
                if (ws) {
                    return MORE;
                }
                return b == '"' ? to(true, QUOTED, null) : to(tchar, TOKEN, BAD_EXTENSION);
            case TOKEN:
                // No BWS after a token value: Netty's check refuses it, so accepting it would split views.
                return tchar ? MORE : to(b == ';', NAME_START, BAD_EXTENSION);
            case QUOTED:
                if (b == '"') {
                    return to(true, QUOTED_END, null);
                }
                if (b == '\\') {
                    return to(true, QUOTED_ESCAPE, null);
                }
                return HttpChars.is(b, HttpChars.QDTEXT) ? MORE : fail(BAD_QUOTED);
            case QUOTED_ESCAPE:
                return to(HttpChars.is(b, HttpChars.FIELD), QUOTED, BAD_QUOTED);
            case QUOTED_END:
                return ws ? to(true, VALUE_BWS, null) : to(b == ';', NAME_START, BAD_EXTENSION);
            default:
                throw new IllegalStateException("chunk line state " + state);
        }
    }

    private int sizeDigit(int b, boolean ws) {
        int d = HttpChars.hex(b);
        if (d >= 0) {
            if (++digits > MAX_SIZE_DIGITS) {
                return fail(TOO_MANY_DIGITS);
            }
            size = (size << 4) | d;
            return size > Integer.MAX_VALUE ? fail(TOO_LARGE) : MORE;
        }
        if (digits == 0) {
            return fail(BAD_SIZE);
        }
        if (ws) {
            return to(true, SIZE_BWS, null);
        }
        return to(b == ';', NAME_START, BAD_SIZE);
    }

    /** After an extension name: ';' starts the next extension, '=' its value. */
    private int afterName(int b) {
        if (b == '=') {
            return to(true, VALUE_START, null);
        }
        return to(b == ';', NAME_START, BAD_EXTENSION);
    }

    /** CR: allowed after the size, a name, a token or a quoted value; nowhere else. */
    private int lineEnd() {
        if (state == SIZE && digits == 0) {
            return fail(EMPTY_SIZE);
        }
        if (state == SIZE || state == NAME || state == TOKEN || state == QUOTED_END) {
            state = LF;
            return MORE;
        }
        if (state == QUOTED || state == QUOTED_ESCAPE) {
            return fail(BAD_QUOTED);
        }
        return fail(state == SIZE_BWS ? BAD_SIZE : BAD_EXTENSION);
    }

    private int to(boolean ok, int next, HttpViolation otherwise) {
        if (!ok) {
            return fail(otherwise);
        }
        state = next;
        return MORE;
    }

    private int fail(HttpViolation v) {
        violation = v;
        return FAILED;
    }
}
