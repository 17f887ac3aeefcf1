package io.bulwark.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads a route's {@code match} block. Normalizes what HTTP treats case-insensitively (host
 * lower case, methods upper case, header names lower case) so the router compares plainly,
 * and compiles a path regex once here so a bad one is a config error, not a runtime one.
 */
final class RouteMatchParser {

    static final List<String> MATCH_KEYS = List.of("path-prefix", "path-exact", "path-regex", "host", "methods", "headers");
    private static final List<String> PATH_KEYS = MATCH_KEYS.subList(0, 3);

    /** What a route without a match (or a match without a path condition) matches: every path. */
    private static final RouteMatch.PathMatch EVERY_PATH = new RouteMatch.PathMatch(RouteMatch.PathMatch.Kind.PREFIX, "/");

    static final String PATH_EXPECTED = "a path starting with \"/\", without spaces, '?' or '#'";

    private RouteMatchParser() {
    }

    static RouteMatch parse(Optional<ConfigReader> block) {
        if (block.isEmpty()) {
            return new RouteMatch(EVERY_PATH, Optional.empty(), Set.of(), Map.of());
        }
        ConfigReader m = block.get();
        m.rejectUnknownKeys(MATCH_KEYS);
        return new RouteMatch(path(m), host(m), methods(m), headers(m, "headers"));
    }

    /** A path as it may appear in a request line (a query is allowed, a fragment is not). */
    static boolean isRequestPath(String path) {
        if (!path.startsWith("/")) {
            return false;
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '#') {
                return false;
            }
        }
        return true;
    }

    /** A path to compare the request path with: like a request path, but never with a query. */
    static boolean isPathPattern(String path) {
        return isRequestPath(path) && path.indexOf('?') < 0;
    }

    private static RouteMatch.PathMatch path(ConfigReader m) {
        List<String> present = new ArrayList<>(1);
        for (String key : PATH_KEYS) {
            if (m.has(key)) {
                present.add(key);
            }
        }
        if (present.size() > 1) {
            m.problemHere(String.join(" and ", present) + " are both set (expected: at most one of "
                    + String.join(", ", PATH_KEYS) + ")");
        }
        // Every present condition is checked, so a conflict does not hide a broken value behind it.
        List<RouteMatch.PathMatch> paths = present.stream().map(key -> switch (key) {
            case "path-prefix" -> new RouteMatch.PathMatch(RouteMatch.PathMatch.Kind.PREFIX, pathPattern(m, key));
            case "path-exact" -> new RouteMatch.PathMatch(RouteMatch.PathMatch.Kind.EXACT, pathPattern(m, key));
            default -> new RouteMatch.PathMatch(RouteMatch.PathMatch.Kind.REGEX, regex(m, key));
        }).toList();
        return paths.isEmpty() ? EVERY_PATH : paths.get(0);
    }

    private static String regex(ConfigReader m, String key) {
        ConfigReader.Slot slot = m.slot(key);
        String regex = m.string(slot, "a regular expression").orElse("/");
        try {
            Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            m.problemAt(slot, "invalid regular expression " + ConfigReader.render(slot.value()) + ": "
                    + e.getDescription() + (e.getIndex() >= 0 ? " near index " + e.getIndex() : ""));
        }
        return regex;
    }

    private static String pathPattern(ConfigReader m, String key) {
        ConfigReader.Slot slot = m.slot(key);
        String path = m.string(slot, PATH_EXPECTED).orElse("/");
        if (!isPathPattern(path)) {
            m.problemAt(slot, ConfigReader.render(slot.value()) + " (expected: " + PATH_EXPECTED + ")");
        }
        return path;
    }

    private static Optional<String> host(ConfigReader m) {
        String expected = "a host name like api.example.com or a wildcard like *.example.com, without a port";
        ConfigReader.Slot slot = m.slot("host");
        if (!slot.isPresent()) {
            return Optional.empty();
        }
        return m.string(slot, expected).flatMap(h -> {
            Optional<String> host = HttpSyntax.normalizeHostPattern(h);
            if (host.isEmpty()) {
                m.problemAt(slot, ConfigReader.render(slot.value()) + " (expected: " + expected + ")");
            }
            return host;
        });
    }

    private static Set<String> methods(ConfigReader m) {
        String expected = "an HTTP method like GET";
        Set<String> methods = new LinkedHashSet<>();
        for (ConfigReader.Slot item : m.list("methods", "HTTP methods like [GET, POST]")) {
            m.string(item, expected).ifPresent(method -> {
                if (HttpSyntax.isToken(method)) {
                    methods.add(method.toUpperCase(Locale.ROOT));
                } else {
                    m.problemAt(item, ConfigReader.render(item.value()) + " (expected: " + expected + ")");
                }
            });
        }
        return methods;
    }

    /**
     * A {@code name = value} header object such as {@code match.headers} or {@code request-headers.add}:
     * names lower-cased and checked as tokens, values checked as header values.
     */
    static Map<String, String> headers(ConfigReader parent, String key) {
        Map<String, String> headers = new LinkedHashMap<>();
        Optional<ConfigReader> block = parent.optionalObject(key);
        if (block.isEmpty()) {
            return headers;
        }
        ConfigReader h = block.get();
        List<String> names = new ArrayList<>(h.keys());
        for (String name : names) {
            ConfigReader.Slot slot = h.slot(name);
            String lower = name.toLowerCase(Locale.ROOT);
            if (!HttpSyntax.isToken(name)) {
                h.problemAt(slot, "invalid header name \"" + name + "\" (expected: an HTTP token like x-canary)");
                continue;
            }
            Optional<String> value = h.string(slot, "a header value string");
            if (value.isPresent() && !HttpSyntax.isHeaderValue(value.get())) {
                h.problemAt(slot, ConfigReader.render(slot.value()) + " (expected: a header value without control characters)");
            }
            if (headers.containsKey(lower)) {
                h.problemAt(slot, "header \"" + lower + "\" is set twice (header names are case-insensitive)");
            }
            headers.put(lower, value.orElse(""));
        }
        return headers;
    }
}
