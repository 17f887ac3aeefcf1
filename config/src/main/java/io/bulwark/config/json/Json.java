package io.bulwark.config.json;

/**
 * JSON string quoting for JSON built by hand: the config dump, admin errors, the proxy's own
 * replies and the demo upstreams. It lives in the lowest module so that the data plane need not
 * depend on the admin API (or on a JSON library) to write a string.
 *
 * <p>Escapes {@code "}, {@code \}, every control character (the usual short forms where JSON has
 * one, {@code \}{@code u00XX} otherwise) and U+2028/U+2029, so the text is also valid JavaScript.
 * Everything else, non-ASCII included, is written as is.
 */
public final class Json {

    private Json() {
    }

    /** {@code s} as a JSON string literal, quotes included; the JSON literal {@code null} for null. */
    public static String quote(String s) {
        if (s == null) {
            return "null";
        }
        if (!needsEscaping(s)) {
            return '"' + s + '"';
        }
        StringBuilder out = new StringBuilder(s.length() + 16);
        appendQuoted(out, s);
        return out.toString();
    }

    /** Appends {@code s} as a JSON string literal, quotes included ({@code null} for null). */
    public static void appendQuoted(StringBuilder out, String s) {
        if (s == null) {
            out.append("null");
            return;
        }
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (escapedAsUnicode(c)) {
                        out.append("\\u");
                        String hex = Integer.toHexString(c);
                        out.append("0000", hex.length(), 4).append(hex);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static boolean needsEscaping(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\' || escapedAsUnicode(c)) {
                return true;
            }
        }
        return false;
    }

    /** Control characters (those without a short form too) and the JavaScript line separators. */
    private static boolean escapedAsUnicode(char c) {
        return c < 0x20 || c == '\u2028' || c == '\u2029';
    }
}
