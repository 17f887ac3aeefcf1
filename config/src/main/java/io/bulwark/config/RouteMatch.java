package io.bulwark.config;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What a request must look like for a route to take it. Every present condition must hold.
 *
 * @param path how the path is matched; a route without one matches every path (prefix "/")
 * @param host exact host or {@code *.suffix} wildcard, lower case, without port
 * @param methods upper-case method names; empty = any
 * @param headers lower-case header names to exact values
 */
public record RouteMatch(PathMatch path, Optional<String> host, Set<String> methods, Map<String, String> headers) {

    public RouteMatch {
        methods = Set.copyOf(methods);
        headers = Map.copyOf(headers);
    }

    public record PathMatch(Kind kind, String value) {
        public enum Kind { PREFIX, EXACT, REGEX }
    }
}
