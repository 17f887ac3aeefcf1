package io.bulwark.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

/**
 * An incremental RFC 9112 request-stream parser that keeps only a few dozen bytes of state: it
 * reads request line, header section, body and trailer section byte by byte, remembers just what
 * it needs to find where each request ends ({@link FramingFields}, {@link ChunkLineParser}), and
 * reports the first byte that breaks the grammar or makes the framing ambiguous. It never buffers
 * a line, so a line of any length costs constant memory; bodies are skipped in bulk, not read.
 *
 * <p>Not thread-safe: one instance per connection, driven by {@link StrictHttpScanner}.
 */
final class StrictRequestParser implements ByteProcessor {

    /** Empty lines (CRLF) tolerated before a request line (RFC 9112 §2.2 asks for at least one). */
    static final int MAX_EMPTY_LINES = 4;

    private static final int CR = '\r';
    private static final int LF = '\n';
    private static final int SP = ' ';

    // States. BODY and CHUNK_DATA are skipped in bulk by scan(), never seen by process().
    private static final int REQUEST_START = 0;
    private static final int EMPTY_LINE_LF = 1;
    private static final int METHOD = 2;
    private static final int TARGET_START = 3;
    private static final int TARGET_SCHEME = 4;
    private static final int TARGET_AUTHORITY = 5;
    private static final int TARGET_REST = 6;
    private static final int TARGET_ASTERISK = 7;
    private static final int VERSION = 8;
    private static final int REQUEST_LINE_LF = 9;
    private static final int FIELD_START = 10;
    private static final int FIELD_NAME = 11;
    private static final int FIELD_VALUE = 12;
    private static final int FIELD_LF = 13;
    private static final int SECTION_END_LF = 14;
    private static final int BODY = 15;
    private static final int CHUNK_LINE = 16;
    private static final int CHUNK_DATA = 17;
    private static final int CHUNK_DATA_CR = 18;
    private static final int CHUNK_DATA_LF = 19;
    private static final int FAILED = 20;

    private static final HttpViolation TOO_MANY_EMPTY_LINES =
            new HttpViolation(400, "too many empty lines before the request line");
    private static final HttpViolation BARE_CR_BEFORE = new HttpViolation(400, "bare CR before the request line");
    private static final HttpViolation BARE_LF_BEFORE = new HttpViolation(400, "bare LF before the request line");
    private static final HttpViolation BAD_METHOD = new HttpViolation(400, "invalid character in the method");
    private static final HttpViolation CONNECT_REFUSED =
            new HttpViolation(400, "CONNECT is not supported (Bulwark is a reverse proxy, not a forward one)");
    private static final HttpViolation BAD_TARGET_FORM =
            new HttpViolation(400, "request target must be origin-form, absolute-form or *");
    private static final HttpViolation ASTERISK_NOT_OPTIONS =
            new HttpViolation(400, "asterisk-form request target is only allowed with OPTIONS");
    private static final HttpViolation EMPTY_TARGET =
            new HttpViolation(400, "empty request target or more than one space after the method");
    private static final HttpViolation NO_AUTHORITY =
            new HttpViolation(400, "absolute-form request target without a host");
    private static final HttpViolation CTL_IN_TARGET =
            new HttpViolation(400, "control character in the request target");
    private static final HttpViolation NO_VERSION = new HttpViolation(400, "request line without an HTTP version");
    private static final HttpViolation BAD_VERSION = new HttpViolation(400, "malformed HTTP version");
    private static final HttpViolation BARE_CR_REQUEST_LINE = new HttpViolation(400, "bare CR in the request line");
    private static final HttpViolation OBS_FOLD =
            new HttpViolation(400, "obsolete line folding or whitespace at the start of a header line");
    private static final HttpViolation EMPTY_NAME = new HttpViolation(400, "empty header field name");
    private static final HttpViolation BARE_LF_HEADERS = new HttpViolation(400, "bare LF in the header section");
    private static final HttpViolation BAD_NAME = new HttpViolation(400, "invalid character in a header field name");
    private static final HttpViolation SPACE_BEFORE_COLON =
            new HttpViolation(400, "whitespace between a header field name and the colon");
    private static final HttpViolation NO_COLON = new HttpViolation(400, "header line without a colon");
    private static final HttpViolation BARE_LF_FIELD = new HttpViolation(400, "bare LF in a header field");
    private static final HttpViolation CTL_IN_VALUE =
            new HttpViolation(400, "control character in a header field value");
    private static final HttpViolation BARE_CR_FIELD = new HttpViolation(400, "bare CR in a header field");
    private static final HttpViolation BARE_CR_SECTION_END =
            new HttpViolation(400, "bare CR at the end of the header section");
    private static final HttpViolation NO_CRLF_AFTER_CHUNK = new HttpViolation(400, "chunk data not followed by CRLF");

    // Field names the parser must recognise, matched case-insensitively while the name streams by.
    private static final byte[][] FIELD_NAMES = {HttpChars.ascii("content-length"),
            HttpChars.ascii("transfer-encoding"), HttpChars.ascii("host"), HttpChars.ascii("sec-websocket-key1"),
            HttpChars.ascii("sec-websocket-key2")};
    private static final int[] FIELD_KINDS = {FramingFields.CONTENT_LENGTH, FramingFields.TRANSFER_ENCODING,
            FramingFields.HOST, FramingFields.HIXIE_KEY, FramingFields.HIXIE_KEY};
    private static final int ALL_FIELDS = (1 << FIELD_NAMES.length) - 1;

    private static final byte[][] METHOD_NAMES = {HttpChars.ascii("CONNECT"), HttpChars.ascii("OPTIONS")};
    private static final int CONNECT = 1;
    private static final int OPTIONS = 2;
    private static final byte[] HTTP_SCHEME = HttpChars.ascii("http");
    private static final byte[] VERSION_PREFIX = HttpChars.ascii("HTTP/");

    private final FramingFields framing = new FramingFields();
    private final ChunkLineParser chunkLine = new ChunkLineParser();
    private int state = REQUEST_START;
    private long messages;
    private HttpViolation violation;

    // Per message.
    private int emptyLines;
    private int methodMatch;
    private int methodLength;
    private int position;          // within the scheme of an absolute-form target, or the version
    private boolean secureScheme;
    private int major;
    private int minor;
    private boolean http10;
    private boolean trailers;
    private long remaining;        // body or chunk-data bytes still to skip

    // Per field line.
    private int nameLength;
    private int nameMatch;

    /**
     * Scans {@code buf[from, to)} and returns the index of the first byte that is not allowed, or
     * -1 when every byte is fine. Once a violation is found, further calls return {@code from}.
     */
    int scan(ByteBuf buf, int from, int to) {
        int i = from;
        while (i < to) {
            if (state == FAILED) {
                return i;
            }
            if (state == BODY || state == CHUNK_DATA) {
                int n = (int) Math.min(remaining, to - i);
                i += n;
                remaining -= n;
                if (remaining == 0) {
                    if (state == BODY) {
                        endMessage();
                    } else {
                        state = CHUNK_DATA_CR;
                    }
                }
                continue;
            }
            int stop = buf.forEachByte(i, to - i, this);
            if (stop < 0) {
                return -1;
            }
            if (state == FAILED) {
                return stop;
            }
            i = stop + 1; // process() paused after the last byte before a body or chunk data
        }
        return -1;
    }

    /** The first violation, or null. */
    HttpViolation violation() {
        return violation;
    }

    /** Requests read completely so far. */
    long messagesCompleted() {
        return messages;
    }

    /** True between messages: everything seen so far forms complete requests. */
    boolean betweenMessages() {
        return state == REQUEST_START;
    }

    /**
     * One byte. Returns false to stop the scan: at a violation, or after the byte that starts a body
     * or chunk data so that {@link #scan} can skip it in bulk.
     */
    @Override
    public boolean process(byte value) {
        int b = value & 0xFF;
        switch (state) {
            case REQUEST_START:
                return requestStart(b);
            case EMPTY_LINE_LF:
                return expect(b == LF, REQUEST_START, BARE_CR_BEFORE);
            case METHOD:
                return method(b);
            case TARGET_START:
                return targetStart(b);
            case TARGET_SCHEME:
                return targetScheme(b);
            case TARGET_AUTHORITY:
                return expect(b != '/' && HttpChars.is(b, HttpChars.TARGET), TARGET_REST, NO_AUTHORITY);
            case TARGET_REST:
                return target(b);
            case TARGET_ASTERISK:
                position = 0;
                return expect(b == SP, VERSION, BAD_TARGET_FORM);
            case VERSION:
                return version(b);
            case REQUEST_LINE_LF:
                trailers = false;
                return expect(b == LF, FIELD_START, BARE_CR_REQUEST_LINE);
            case FIELD_START:
                return fieldStart(b);
            case FIELD_NAME:
                return fieldName(b);
            case FIELD_VALUE:
                return fieldValue(b);
            case FIELD_LF:
                if (b != LF) {
                    return fail(BARE_CR_FIELD);
                }
                HttpViolation bad = framing.endField(http10);
                return bad != null ? fail(bad) : expect(true, FIELD_START, null);
            case SECTION_END_LF:
                if (b != LF) {
                    return fail(BARE_CR_SECTION_END);
                }
                return trailers ? endMessage() : endHead();
            case CHUNK_LINE:
                return chunkLineByte(b);
            case CHUNK_DATA_CR:
                return expect(b == CR, CHUNK_DATA_LF, NO_CRLF_AFTER_CHUNK);
            case CHUNK_DATA_LF:
                chunkLine.reset();
                return expect(b == LF, CHUNK_LINE, NO_CRLF_AFTER_CHUNK);
            default:
                return false; // FAILED
        }
    }

    // ------------------------------------------------------------------ request line

    private boolean requestStart(int b) {
        if (b == CR) {
            return expect(++emptyLines <= MAX_EMPTY_LINES, EMPTY_LINE_LF, TOO_MANY_EMPTY_LINES);
        }
        if (!HttpChars.is(b, HttpChars.TCHAR)) {
            return fail(b == LF ? BARE_LF_BEFORE : BAD_METHOD);
        }
        methodMatch = CONNECT | OPTIONS;
        methodLength = 0;
        state = METHOD;
        return method(b);
    }

    private boolean method(int b) {
        if (HttpChars.is(b, HttpChars.TCHAR)) {
            if (methodMatch != 0) {
                methodMatch = narrow(METHOD_NAMES, methodMatch, methodLength++, b);
            }
            return true;
        }
        if (b != SP) {
            return fail(BAD_METHOD);
        }
        methodMatch = whole(METHOD_NAMES, methodMatch, methodLength);
        return expect(methodMatch != CONNECT, TARGET_START, CONNECT_REFUSED);
    }

    private boolean targetStart(int b) {
        if (b == '/') {
            state = TARGET_REST;
            return true;
        }
        if (b == '*') {
            return expect(methodMatch == OPTIONS, TARGET_ASTERISK, ASTERISK_NOT_OPTIONS);
        }
        if (b == 'h' || b == 'H') {
            position = 1;
            secureScheme = false;
            state = TARGET_SCHEME;
            return true;
        }
        if (b == SP) {
            return fail(EMPTY_TARGET);
        }
        return fail(HttpChars.is(b, HttpChars.TARGET) ? BAD_TARGET_FORM : CTL_IN_TARGET);
    }

    /** Matches "http://" or "https://" (scheme case-insensitive) at the start of an absolute-form target. */
    private boolean targetScheme(int b) {
        int lower = HttpChars.lower(b);
        if (position < HTTP_SCHEME.length) {
            if (lower != HTTP_SCHEME[position]) {
                return fail(BAD_TARGET_FORM);
            }
        } else if (position == HTTP_SCHEME.length && lower == 's' && !secureScheme) {
            secureScheme = true;
            return true;
        } else if (b != (position == HTTP_SCHEME.length ? ':' : '/')) {
            return fail(BAD_TARGET_FORM);
        }
        if (++position == "http://".length()) {
            state = TARGET_AUTHORITY;
        }
        return true;
    }

    private boolean target(int b) {
        if (HttpChars.is(b, HttpChars.TARGET)) {
            return true;
        }
        if (b == SP) {
            position = 0;
            state = VERSION;
            return true;
        }
        return fail(b == CR || b == LF ? NO_VERSION : CTL_IN_TARGET);
    }

    /** Exactly "HTTP/" DIGIT "." DIGIT then CR; only 1.0 and 1.1 are served. */
    private boolean version(int b) {
        int at = position++;
        if (at < VERSION_PREFIX.length) {
            return b == VERSION_PREFIX[at] || fail(BAD_VERSION);
        }
        if (at == 5 || at == 7) {
            if (b < '0' || b > '9') {
                return fail(BAD_VERSION);
            }
            if (at == 5) {
                major = b - '0';
            } else {
                minor = b - '0';
            }
            return true;
        }
        if (at == 6) {
            return b == '.' || fail(BAD_VERSION);
        }
        if (b != CR) {
            return fail(BAD_VERSION);
        }
        if (major != 1 || minor > 1) {
            return fail(new HttpViolation(400, "HTTP/" + major + "." + minor + " is not supported (HTTP/1.0 and HTTP/1.1 are)"));
        }
        http10 = minor == 0;
        state = REQUEST_LINE_LF;
        return true;
    }

    // ------------------------------------------------------------------ header and trailer fields

    private boolean fieldStart(int b) {
        if (b == CR) {
            state = SECTION_END_LF;
            return true;
        }
        if (HttpChars.is(b, HttpChars.TCHAR)) {
            nameLength = 0;
            nameMatch = trailers ? 0 : ALL_FIELDS; // trailer fields never frame anything
            state = FIELD_NAME;
            return fieldName(b);
        }
        if (b == SP || b == '\t') {
            return fail(OBS_FOLD);
        }
        return fail(b == ':' ? EMPTY_NAME : b == LF ? BARE_LF_HEADERS : BAD_NAME);
    }

    private boolean fieldName(int b) {
        if (HttpChars.is(b, HttpChars.TCHAR)) {
            if (nameMatch != 0) {
                nameMatch = narrow(FIELD_NAMES, nameMatch, nameLength++, HttpChars.lower(b));
            }
            return true;
        }
        if (b == ':') {
            int matched = whole(FIELD_NAMES, nameMatch, nameLength);
            framing.startValue(matched == 0 ? FramingFields.OTHER
                    : FIELD_KINDS[Integer.numberOfTrailingZeros(matched)]);
            state = FIELD_VALUE;
            return true;
        }
        if (b == SP || b == '\t') {
            return fail(SPACE_BEFORE_COLON);
        }
        return fail(b == CR || b == LF ? NO_COLON : BAD_NAME);
    }

    private boolean fieldValue(int b) {
        if (b == CR) {
            state = FIELD_LF;
            return true;
        }
        if (!HttpChars.is(b, HttpChars.FIELD)) {
            return fail(b == LF ? BARE_LF_FIELD : CTL_IN_VALUE);
        }
        HttpViolation bad = framing.valueByte(b);
        return bad == null || fail(bad);
    }

    private boolean endHead() {
        HttpViolation bad = framing.endHead(http10);
        if (bad != null) {
            return fail(bad);
        }
        if (framing.chunked()) {
            chunkLine.reset();
            state = CHUNK_LINE;
            return true;
        }
        if (framing.contentLength() > 0) {
            remaining = framing.contentLength();
            state = BODY;
            return false; // let scan() skip the body
        }
        return endMessage();
    }

    private boolean endMessage() {
        messages++;
        framing.reset();
        emptyLines = 0;
        http10 = false;
        trailers = false;
        state = REQUEST_START;
        return true;
    }

    // ------------------------------------------------------------------ chunked body

    private boolean chunkLineByte(int b) {
        int result = chunkLine.accept(b);
        if (result == ChunkLineParser.MORE) {
            return true;
        }
        if (result == ChunkLineParser.FAILED) {
            return fail(chunkLine.violation());
        }
        if (chunkLine.size() == 0) {
            trailers = true; // last-chunk: the trailer section follows
            state = FIELD_START;
            return true;
        }
        remaining = chunkLine.size();
        state = CHUNK_DATA;
        return false; // let scan() skip the chunk data
    }

    // ------------------------------------------------------------------ helpers

    /** Moves to {@code next} if {@code ok}, else fails with {@code otherwise}. */
    private boolean expect(boolean ok, int next, HttpViolation otherwise) {
        if (!ok) {
            return fail(otherwise);
        }
        state = next;
        return true;
    }

    private boolean fail(HttpViolation v) {
        violation = v;
        state = FAILED;
        return false;
    }

    /** Narrows the candidate set {@code alive} (bit i = names[i]) by byte {@code b} at {@code index}. */
    private static int narrow(byte[][] names, int alive, int index, int b) {
        int left = alive;
        for (int i = 0; i < names.length; i++) {
            int bit = 1 << i;
            if ((left & bit) != 0 && (index >= names[i].length || names[i][index] != b)) {
                left &= ~bit;
            }
        }
        return left;
    }

    /** The candidate of {@code alive} whose whole name is {@code length} long, or 0. */
    private static int whole(byte[][] names, int alive, int length) {
        for (int i = 0; i < names.length; i++) {
            int bit = 1 << i;
            if ((alive & bit) != 0 && names[i].length == length) {
                return bit;
            }
        }
        return 0;
    }
}
