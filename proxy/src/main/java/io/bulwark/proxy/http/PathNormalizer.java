package io.bulwark.proxy.http;

/**
 * Puts a request path into one canonical form, so that route matching (and anything else that
 * looks at the path) sees what the upstream will resolve, not a spelling chosen to slip past a
 * rule: {@code /public/..%2F..//admin} and {@code /%61dmin} must not dodge a rule on {@code /admin}.
 *
 * <p>In order: percent-encoded unreserved characters ({@code ALPHA DIGIT - . _ ~}) are decoded
 * once (so {@code %2E%2E} becomes a dot segment, and {@code %252F} stays {@code %252F}); the hex
 * of every other escape is upper-cased; runs of {@code /} are merged; dot segments are removed
 * (RFC 3986 §5.2.4). Slashes are merged before dots are resolved because upstreams that collapse
 * slashes read {@code /a//../b} as {@code /b}.
 *
 * <p>An escaped {@code /} ({@code %2F}), {@code \} ({@code %5C}) or NUL ({@code %00}), and a
 * malformed escape, are refused: upstreams disagree on what they mean. With
 * {@link #passingUnsafeEscapes()} they are kept as they are instead (escapes with upper-case hex,
 * a malformed {@code %} unchanged) and never decoded.
 *
 * <p>Pure and thread-safe. Input is the path of a request target (no query), starting with
 * {@code /}.
 */
public final class PathNormalizer {

    private static final PathNormalizer STRICT = new PathNormalizer(false);
    private static final PathNormalizer PASSING = new PathNormalizer(true);
    private static final char[] HEX_DIGITS = "0123456789ABCDEF".toCharArray();

    private final boolean passUnsafeEscapes;

    private PathNormalizer(boolean passUnsafeEscapes) {
        this.passUnsafeEscapes = passUnsafeEscapes;
    }

    /** Refuses escaped {@code /}, {@code \}, NUL and malformed escapes. */
    public static PathNormalizer strict() {
        return STRICT;
    }

    /** Keeps escaped {@code /}, {@code \}, NUL and malformed escapes as they are, undecoded. */
    public static PathNormalizer passingUnsafeEscapes() {
        return PASSING;
    }

    /** A normalized path, or why the path is refused. */
    public record Result(String path, String failure) {

        static Result of(String path) {
            return new Result(path, null);
        }

        static Result refused(String failure) {
            return new Result(null, failure);
        }

        public boolean ok() {
            return failure == null;
        }
    }

    public Result normalize(String path) {
        if (path.isEmpty() || path.charAt(0) != '/') {
            return Result.refused("path must start with /");
        }
        if (path.indexOf('%') < 0 && path.indexOf("//") < 0 && path.indexOf("/.") < 0) {
            return Result.of(path); // nothing to do, the common case: no copy
        }
        StringBuilder decoded = new StringBuilder(path.length());
        String failure = decodeUnreserved(path, decoded);
        if (failure != null) {
            return Result.refused(failure);
        }
        return Result.of(removeDotSegments(mergeSlashes(decoded)));
    }

    /** Decodes escaped unreserved characters once, upper-cases the rest; returns a failure or null. */
    private String decodeUnreserved(String path, StringBuilder out) {
        int n = path.length();
        for (int i = 0; i < n; i++) {
            char c = path.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            int hi = i + 2 < n ? hexValue(path.charAt(i + 1)) : -1;
            int lo = hi >= 0 ? hexValue(path.charAt(i + 2)) : -1;
            if (hi < 0 || lo < 0) {
                if (!passUnsafeEscapes) {
                    return "malformed percent-encoding in path";
                }
                out.append('%'); // kept as is; the next characters are copied as they come
                continue;
            }
            int value = hi << 4 | lo;
            if (value == '/' || value == '\\' || value == 0) {
                if (!passUnsafeEscapes) {
                    return value == '/' ? "encoded / (%2F) in path"
                            : value == '\\' ? "encoded \\ (%5C) in path" : "encoded NUL (%00) in path";
                }
                appendEscape(out, value);
            } else if (isUnreserved(value)) {
                out.append((char) value);
            } else {
                appendEscape(out, value);
            }
            i += 2;
        }
        return null;
    }

    /** ASCII hex only: Character.digit would also take full-width and other Unicode digits. */
    private static int hexValue(char c) {
        return c < 128 ? HttpChars.hex(c) : -1;
    }

    private static void appendEscape(StringBuilder out, int value) {
        out.append('%').append(HEX_DIGITS[value >> 4]).append(HEX_DIGITS[value & 0xF]);
    }

    private static boolean isUnreserved(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '.' || c == '_' || c == '~';
    }

    private static String mergeSlashes(CharSequence path) {
        StringBuilder out = new StringBuilder(path.length());
        char previous = 0;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c != '/' || previous != '/') {
                out.append(c);
            }
            previous = c;
        }
        return out.toString();
    }

    /**
     * RFC 3986 §5.2.4 for an absolute path without empty segments: "." segments go, ".." takes
     * the segment before it along (never above the root), and a trailing "." or ".." leaves a
     * trailing "/".
     */
    static String removeDotSegments(String path) {
        StringBuilder out = new StringBuilder(path.length());
        int n = path.length();
        int i = 0;
        while (i < n) {
            int next = path.indexOf('/', i + 1);
            if (next < 0) {
                next = n;
            }
            int length = next - i - 1; // the segment after the '/' at i
            boolean dot = length == 1 && path.charAt(i + 1) == '.';
            boolean dotDot = length == 2 && path.charAt(i + 1) == '.' && path.charAt(i + 2) == '.';
            if (dot || dotDot) {
                if (dotDot) {
                    int lastSlash = out.lastIndexOf("/");
                    out.setLength(Math.max(lastSlash, 0));
                }
                if (next == n) {
                    out.append('/');
                }
            } else {
                out.append(path, i, next);
            }
            i = next;
        }
        return out.length() == 0 ? "/" : out.toString();
    }
}
