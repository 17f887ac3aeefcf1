package io.bulwark.proxy.http;

/**
 * The header fields that decide where a request ends, and Host, as the {@link StrictRequestParser}
 * streams them by: Content-Length is parsed digit by digit, Transfer-Encoding is kept (at most
 * {@value #MAX_TRANSFER_ENCODING} bytes) and classified at the end of its line, Host is counted.
 * Anything that would let two parsers frame the request differently is refused.
 */
final class FramingFields {

    /** Most digits of a Content-Length (10^18 - 1 fits a long with room to spare). */
    static final int MAX_CONTENT_LENGTH_DIGITS = 18;
    /** Longest Transfer-Encoding value kept for classification; longer is refused. */
    static final int MAX_TRANSFER_ENCODING = 64;

    /** What a field line is, as far as framing goes. */
    static final int OTHER = 0;
    static final int CONTENT_LENGTH = 1;
    static final int TRANSFER_ENCODING = 2;
    static final int HOST = 3;
    /** Sec-WebSocket-Key1/Key2: Netty gives a GET with both an implicit 8-byte body; nobody else does. */
    static final int HIXIE_KEY = 4;

    private static final HttpViolation NOT_A_NUMBER =
            new HttpViolation(400, "Content-Length must be a single decimal number");
    private static final HttpViolation TOO_MANY_DIGITS =
            new HttpViolation(400, "Content-Length longer than " + MAX_CONTENT_LENGTH_DIGITS + " digits");
    private static final HttpViolation EMPTY_LENGTH = new HttpViolation(400, "empty Content-Length");
    private static final HttpViolation TWO_LENGTHS = new HttpViolation(400, "more than one Content-Length");
    private static final HttpViolation LENGTH_AND_CODING =
            new HttpViolation(400, "both Content-Length and Transfer-Encoding");
    private static final HttpViolation CODING_ON_HTTP10 =
            new HttpViolation(400, "Transfer-Encoding is not allowed in HTTP/1.0");
    private static final HttpViolation TWO_CODINGS = new HttpViolation(400, "more than one Transfer-Encoding");
    private static final HttpViolation NOT_CHUNKED =
            new HttpViolation(400, "Transfer-Encoding must be exactly \"chunked\"");
    private static final HttpViolation EMPTY_CODING = new HttpViolation(400, "empty Transfer-Encoding");
    private static final HttpViolation UNKNOWN_CODING =
            new HttpViolation(400, "Transfer-Encoding must be exactly \"chunked\" (unknown transfer coding)");
    private static final HttpViolation TWO_HOSTS = new HttpViolation(400, "more than one Host header");
    private static final HttpViolation NO_HOST = new HttpViolation(400, "missing Host header");
    private static final HttpViolation HIXIE =
            new HttpViolation(400, "obsolete hixie-76 WebSocket handshake is not supported");

    private static final byte[] CHUNKED = HttpChars.ascii("chunked");
    private static final byte[][] KNOWN_CODINGS = {HttpChars.ascii("gzip"), HttpChars.ascii("x-gzip"),
            HttpChars.ascii("deflate"), HttpChars.ascii("compress"), HttpChars.ascii("x-compress"),
            HttpChars.ascii("identity")};

    // Per message.
    private int hosts;
    private boolean contentLengthSeen;
    private long contentLength;
    private boolean chunked;

    // Per field line.
    private int kind;
    private int digits;
    private long number;
    private boolean afterNumber;   // OWS seen after the Content-Length digits
    private final byte[] coding = new byte[MAX_TRANSFER_ENCODING];
    private int codingLength;
    private int codingEnd;         // length without trailing OWS

    /** A new field line of {@code kind} starts its value. */
    void startValue(int fieldKind) {
        kind = fieldKind;
        digits = 0;
        number = 0;
        afterNumber = false;
        codingLength = 0;
        codingEnd = 0;
    }

    /** One byte of the value (already known to be a field-vchar, SP or HTAB); a violation or null. */
    HttpViolation valueByte(int b) {
        if (kind == CONTENT_LENGTH) {
            return contentLengthByte(b);
        }
        if (kind == TRANSFER_ENCODING) {
            boolean ws = HttpChars.is(b, HttpChars.WS);
            if (codingLength == 0 && ws) {
                return null; // leading OWS
            }
            if (codingLength == MAX_TRANSFER_ENCODING) {
                return NOT_CHUNKED;
            }
            coding[codingLength++] = (byte) HttpChars.lower(b);
            if (!ws) {
                codingEnd = codingLength;
            }
        }
        return null;
    }

    /** 1*DIGIT surrounded by OWS: no sign, no list, no inner space, at most 18 digits. */
    private HttpViolation contentLengthByte(int b) {
        if (b == ' ' || b == '\t') {
            afterNumber = digits > 0;
            return null;
        }
        if (b >= '0' && b <= '9' && !afterNumber) {
            if (++digits > MAX_CONTENT_LENGTH_DIGITS) {
                return TOO_MANY_DIGITS;
            }
            number = number * 10 + (b - '0');
            return null;
        }
        return NOT_A_NUMBER;
    }

    /** The field line ended; a violation or null. */
    HttpViolation endField(boolean http10) {
        switch (kind) {
            case CONTENT_LENGTH:
                if (digits == 0) {
                    return EMPTY_LENGTH;
                }
                if (contentLengthSeen) {
                    return TWO_LENGTHS; // even with the same value: be strict
                }
                if (chunked) {
                    return LENGTH_AND_CODING;
                }
                contentLengthSeen = true;
                contentLength = number;
                return null;
            case TRANSFER_ENCODING:
                if (http10) {
                    return CODING_ON_HTTP10;
                }
                if (chunked) {
                    return TWO_CODINGS;
                }
                if (contentLengthSeen) {
                    return LENGTH_AND_CODING;
                }
                HttpViolation bad = classifyCoding();
                chunked = bad == null;
                return bad;
            case HOST:
                return ++hosts > 1 ? TWO_HOSTS : null;
            case HIXIE_KEY:
                return HIXIE;
            default:
                return null;
        }
    }

    /** "chunked" alone passes; anything else is a 400 (CONTRACT §3), a list, a known or an unknown coding. */
    private HttpViolation classifyCoding() {
        int n = codingEnd;
        if (equalsAscii(coding, n, CHUNKED)) {
            return null;
        }
        for (int i = 0; i < n; i++) {
            if (!HttpChars.is(coding[i] & 0xFF, HttpChars.TCHAR)) {
                return NOT_CHUNKED; // a list, a parameter, inner whitespace
            }
        }
        if (n == 0) {
            return EMPTY_CODING;
        }
        for (byte[] known : KNOWN_CODINGS) {
            if (equalsAscii(coding, n, known)) {
                return NOT_CHUNKED;
            }
        }
        return UNKNOWN_CODING;
    }

    /** The header section ended; a violation or null. */
    HttpViolation endHead(boolean http10) {
        return !http10 && hosts == 0 ? NO_HOST : null;
    }

    boolean chunked() {
        return chunked;
    }

    long contentLength() {
        return contentLength;
    }

    /** Forgets the message (it ended). */
    void reset() {
        hosts = 0;
        contentLengthSeen = false;
        contentLength = 0;
        chunked = false;
    }

    private static boolean equalsAscii(byte[] value, int length, byte[] expected) {
        if (length != expected.length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (value[i] != expected[i]) {
                return false;
            }
        }
        return true;
    }
}
