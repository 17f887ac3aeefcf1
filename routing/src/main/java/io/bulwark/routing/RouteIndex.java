package io.bulwark.routing;

import io.bulwark.config.RouteMatch.PathMatch.Kind;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Finds the first matching route of a {@link RouteTable} without scanning the table: what a
 * request's host and path can match is looked up, and only those routes are checked in full.
 *
 * <h2>The structure</h2>
 * Routes are grouped by host condition: any host, each exact host (a hash map), each
 * {@code *.suffix} (a short list of distinct suffixes). Each group has a path index: a character
 * trie of its path-prefix routes (walking the request path down the trie visits exactly the
 * routes whose prefix the path starts with), a hash map of its path-exact routes, and the list of
 * its path-regex routes. Every list holds route positions in ascending order.
 *
 * <h2>First match wins, exactly</h2>
 * A lookup keeps the lowest position that fully matches so far ({@link CompiledRoute#matches},
 * methods, headers and regex included) and stops reading a list at the first position above it:
 * an earlier route wins over a longer prefix that comes later, just as the scan over the table
 * does. The cost is the path's length in trie steps plus the routes that share a matching host
 * and path condition (only those whose methods, headers or regex then have to be checked), never
 * the size of the table. Allocation-free.
 */
final class RouteIndex {

    private static final int NONE = Integer.MAX_VALUE;

    private final CompiledRoute[] routes;
    private final PathIndex anyHost;
    private final Map<String, PathIndex> exactHosts;
    private final String[] hostSuffixes;
    private final PathIndex[] bySuffix;

    RouteIndex(CompiledRoute[] routes) {
        this.routes = routes;
        PathIndex.Builder any = new PathIndex.Builder();
        Map<String, PathIndex.Builder> exact = new HashMap<>();
        Map<String, PathIndex.Builder> suffix = new LinkedHashMap<>();
        for (int i = 0; i < routes.length; i++) {
            CompiledRoute r = routes[i];
            PathIndex.Builder group = r.anyHost() ? any
                    : r.hostSuffix() != null ? suffix.computeIfAbsent(r.hostSuffix(), s -> new PathIndex.Builder())
                    : exact.computeIfAbsent(r.exactHost(), h -> new PathIndex.Builder());
            group.add(i, r);
        }
        this.anyHost = any.build();
        this.exactHosts = new HashMap<>();
        exact.forEach((host, b) -> exactHosts.put(host, b.build()));
        this.hostSuffixes = suffix.keySet().toArray(new String[0]);
        this.bySuffix = suffix.values().stream().map(PathIndex.Builder::build).toArray(PathIndex[]::new);
    }

    /** The position of the first route that matches {@code request}, or -1. */
    int match(RequestView request) {
        String path = request.path();
        int best = anyHost.best(routes, request, path, NONE);
        String host = request.host();
        if (host != null) {
            if (!exactHosts.isEmpty()) {
                best = matchExactHost(request, path, host, best);
            }
            for (int i = 0; i < hostSuffixes.length; i++) {
                String suffix = hostSuffixes[i];
                if (host.length() > suffix.length()
                        && host.regionMatches(true, host.length() - suffix.length(), suffix, 0, suffix.length())) {
                    best = bySuffix[i].best(routes, request, path, best);
                }
            }
        }
        return best == NONE ? -1 : best;
    }

    /** Routes with an exact host compare case-insensitively, as {@link String#equalsIgnoreCase} does. */
    private int matchExactHost(RequestView request, String path, String host, int best) {
        if (isLowerAscii(host)) {
            PathIndex group = exactHosts.get(host);
            return group == null ? best : group.best(routes, request, path, best);
        }
        // Upper case or beyond ASCII (rare: the proxy hands hosts over lower-cased): compare as the scan does.
        for (Map.Entry<String, PathIndex> e : exactHosts.entrySet()) {
            if (host.equalsIgnoreCase(e.getKey())) {
                best = e.getValue().best(routes, request, path, best);
            }
        }
        return best;
    }

    private static boolean isLowerAscii(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80 || (c >= 'A' && c <= 'Z')) {
                return false;
            }
        }
        return true;
    }

    /** The path conditions of the routes of one host group. */
    private static final class PathIndex {

        private static final int[] NO_ROUTES = new int[0];

        private final Node prefixes;
        private final Map<String, int[]> exact;
        private final int[] regex;

        private PathIndex(Node prefixes, Map<String, int[]> exact, int[] regex) {
            this.prefixes = prefixes;
            this.exact = exact;
            this.regex = regex;
        }

        /** The lowest position below {@code best} whose route matches, or {@code best}. */
        int best(CompiledRoute[] routes, RequestView request, String path, int best) {
            Node node = prefixes;
            for (int i = 0; node != null; i++) {
                best = first(node.routes, routes, request, best);
                node = i < path.length() ? node.child(path.charAt(i)) : null;
            }
            if (!exact.isEmpty()) {
                int[] exactRoutes = exact.get(path);
                if (exactRoutes != null) {
                    best = first(exactRoutes, routes, request, best);
                }
            }
            return first(regex, routes, request, best);
        }

        private static int first(int[] positions, CompiledRoute[] routes, RequestView request, int best) {
            for (int position : positions) {
                if (position >= best) {
                    return best;
                }
                if (routes[position].matches(request)) {
                    return position;
                }
            }
            return best;
        }

        /** One trie node: the prefix routes ending here, and the children by next character. */
        private static final class Node {
            final int[] routes;
            final char[] keys;
            final Node[] children;

            Node(int[] routes, char[] keys, Node[] children) {
                this.routes = routes;
                this.keys = keys;
                this.children = children;
            }

            Node child(char c) {
                char[] k = keys;
                if (k.length <= 8) {
                    for (int i = 0; i < k.length; i++) {
                        if (k[i] == c) {
                            return children[i];
                        }
                    }
                    return null;
                }
                int at = Arrays.binarySearch(k, c);
                return at >= 0 ? children[at] : null;
            }
        }

        private static final class Builder {
            private final MutableNode root = new MutableNode();
            private final Map<String, List<Integer>> exact = new HashMap<>();
            private final List<Integer> regex = new ArrayList<>();

            void add(int position, CompiledRoute route) {
                Kind kind = route.pathKind();
                String value = route.pathValue();
                if (kind == Kind.PREFIX) {
                    MutableNode node = root;
                    for (int i = 0; i < value.length(); i++) {
                        node = node.children.computeIfAbsent(value.charAt(i), c -> new MutableNode());
                    }
                    node.routes.add(position);
                } else if (kind == Kind.EXACT) {
                    exact.computeIfAbsent(value, v -> new ArrayList<>()).add(position);
                } else {
                    regex.add(position);
                }
            }

            PathIndex build() {
                Map<String, int[]> exactArrays = new HashMap<>();
                exact.forEach((path, positions) -> exactArrays.put(path, toArray(positions)));
                return new PathIndex(freeze(root), exactArrays, toArray(regex));
            }

            private static int[] toArray(List<Integer> positions) {
                return positions.isEmpty() ? NO_ROUTES : positions.stream().mapToInt(Integer::intValue).toArray();
            }

            /** Freezes children before parents, without recursion: a prefix may be thousands of characters long. */
            private static Node freeze(MutableNode root) {
                List<MutableNode> order = new ArrayList<>();
                order.add(root);
                for (int i = 0; i < order.size(); i++) {
                    order.addAll(order.get(i).children.values());
                }
                for (int i = order.size() - 1; i >= 0; i--) {
                    MutableNode m = order.get(i);
                    char[] keys = new char[m.children.size()];
                    Node[] children = new Node[keys.length];
                    int k = 0;
                    for (Map.Entry<Character, MutableNode> e : m.children.entrySet()) {
                        keys[k] = e.getKey();
                        children[k] = e.getValue().frozen;
                        k++;
                    }
                    m.frozen = new Node(toArray(m.routes), keys, children);
                }
                return root.frozen;
            }

            private static final class MutableNode {
                final List<Integer> routes = new ArrayList<>(1);
                final TreeMap<Character, MutableNode> children = new TreeMap<>();
                Node frozen;
            }
        }
    }
}
