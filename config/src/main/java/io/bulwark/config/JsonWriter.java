package io.bulwark.config;

import io.bulwark.config.json.Json;

import java.util.List;
import java.util.Map;

/**
 * Writes a tree of {@code Map<String, ?>}, {@code List<?>}, strings, numbers, booleans and
 * nulls as compact JSON, keeping map order; strings are quoted by {@link Json#quote}. Small on
 * purpose: the config module has no JSON library, and this is all {@link ConfigJson} needs.
 */
final class JsonWriter {

    private JsonWriter() {
    }

    static String write(Object tree) {
        StringBuilder out = new StringBuilder(1024);
        value(out, tree);
        return out.toString();
    }

    private static void value(StringBuilder out, Object v) {
        if (v == null) {
            out.append("null");
        } else if (v instanceof String s) {
            Json.appendQuoted(out, s);
        } else if (v instanceof Boolean b) {
            out.append(b.booleanValue());
        } else if (v instanceof Double d) {
            number(out, d);
        } else if (v instanceof Number n) {
            out.append(n.longValue());
        } else if (v instanceof Map<?, ?> map) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                Json.appendQuoted(out, (String) e.getKey());
                out.append(':');
                value(out, e.getValue());
            }
            out.append('}');
        } else if (v instanceof List<?> list) {
            out.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                value(out, list.get(i));
            }
            out.append(']');
        } else {
            throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
        }
    }

    private static void number(StringBuilder out, double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            // JSON has no NaN or Infinity; a validated config never holds one anyway.
            out.append("null");
        } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            out.append((long) d);
        } else {
            out.append(d);
        }
    }
}
