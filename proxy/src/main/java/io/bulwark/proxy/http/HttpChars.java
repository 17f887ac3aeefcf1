package io.bulwark.proxy.http;

/**
 * Byte classes of HTTP/1.1's grammar (RFC 9110 §5.6, RFC 9112), as lookup tables indexed by the
 * unsigned byte, so the scanner classifies a byte with one array load and no branches on ranges.
 */
final class HttpChars {

    /** tchar: the characters of a token (method, field name, transfer coding, chunk extension). */
    static final int TCHAR = 1;
    /** field-vchar or SP/HTAB: what a field value may hold (VCHAR, obs-text, SP, HTAB). */
    static final int FIELD = 2;
    /** SP or HTAB (OWS/BWS). */
    static final int WS = 4;
    /** A request-target byte: anything but CTL, SP and DEL (obs-text is tolerated as NGINX does). */
    static final int TARGET = 8;
    /** qdtext of a quoted-string: HTAB, SP, VCHAR except DQUOTE and backslash, obs-text. */
    static final int QDTEXT = 16;

    private static final byte[] CLASSES = new byte[256];
    private static final byte[] HEX = new byte[256];

    static {
        String tcharSymbols = "!#$%&'*+-.^_`|~";
        for (int b = 0; b < 256; b++) {
            int c = 0;
            boolean alnum = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9');
            if (alnum || (b < 128 && tcharSymbols.indexOf(b) >= 0)) {
                c |= TCHAR;
            }
            boolean vchar = b >= 0x21 && b <= 0x7E;
            boolean obsText = b >= 0x80;
            if (vchar || obsText || b == ' ' || b == '\t') {
                c |= FIELD;
            }
            if (b == ' ' || b == '\t') {
                c |= WS;
            }
            if (vchar || obsText) {
                c |= TARGET;
            }
            if ((vchar && b != '"' && b != '\\') || obsText || b == ' ' || b == '\t') {
                c |= QDTEXT;
            }
            CLASSES[b] = (byte) c;
            HEX[b] = (byte) (b >= '0' && b <= '9' ? b - '0'
                    : b >= 'a' && b <= 'f' ? b - 'a' + 10
                    : b >= 'A' && b <= 'F' ? b - 'A' + 10 : -1);
        }
    }

    private HttpChars() {
    }

    /** True when unsigned byte {@code b} is in every class of {@code mask}. */
    static boolean is(int b, int mask) {
        return (CLASSES[b] & mask) == mask;
    }

    /** The value of hex digit {@code b}, or -1. */
    static int hex(int b) {
        return HEX[b];
    }

    static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** ASCII lower case; other bytes unchanged. */
    static int lower(int b) {
        return b >= 'A' && b <= 'Z' ? b + 32 : b;
    }
}
