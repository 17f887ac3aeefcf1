package io.bulwark.admin;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/** JSON string quoting for hand-built JSON (admin errors, local replies, the demo), by Jackson's encoder. */
public final class Json {

    private Json() {
    }

    /** {@code s} as a JSON string literal, or {@code null}. */
    public static String quote(String s) {
        if (s == null) {
            return "null";
        }
        return '"' + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + '"';
    }
}
