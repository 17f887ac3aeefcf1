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
 * {@code *.suffix} (a short list of distinct suffixes). Each group has a path index: a
 * path-compressed character trie of its path-prefix routes (walking the request path down the trie
 * visits exactly the routes whose prefix the path starts with), a hash map of its path-exact routes, and the list of
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
            int i = 0;
            while (true) {
                best = first(node.routes, routes, request, best);
                if (i >= path.length()) {
                    break;
                }
                int edge = node.edge(path.charAt(i));
                if (edge < 0 || !path.startsWith(node.labels[edge], i)) {
                    break; // no longer prefix of this path (a label has no routes inside it)
                }
                i += node.labels[edge].length();
                node = node.children[edge];
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

        /**
         * One node of the prefix trie, path-compressed: the prefix routes ending here, and the edges
         * to the children, each labelled with the characters down to the next node that has routes
         * or branches ({@code keys} holds each label's first character, sorted).
         */
        private static final class Node {
            final int[] routes;
            final char[] keys;
            final String[] labels;
            final Node[] children;

            Node(int[] routes, char[] keys, String[] labels, Node[] children) {
                this.routes = routes;
                this.keys = keys;
                this.labels = labels;
                this.children = children;
            }

            /** The edge whose label starts with {@code c}, or -1. */
            int edge(char c) {
                char[] k = keys;
                if (k.length <= 8) {
                    for (int i = 0; i < k.length; i++) {
                        if (k[i] == c) {
                            return i;
                        }
                    }
                    return -1;
                }
                int at = Arrays.binarySearch(k, c);
                return at >= 0 ? at : -1;
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

            /**
             * Freezes the trie, children before parents and without recursion (a prefix may be
             * thousands of characters long), collapsing each chain of nodes that neither end a route
             * nor branch into one edge label.
             */
            private static Node freeze(MutableNode root) {
                List<MutableNode> order = new ArrayList<>();
                order.add(root);
                for (int i = 0; i < order.size(); i++) {
                    MutableNode m = order.get(i);
                    for (Map.Entry<Character, MutableNode> e : m.children.entrySet()) {
                        StringBuilder label = new StringBuilder().append(e.getKey().charValue());
                        MutableNode target = e.getValue();
                        while (target.routes.isEmpty() && target.children.size() == 1) {
                            Map.Entry<Character, MutableNode> only = target.children.firstEntry();
                            label.append(only.getKey().charValue());
                            target = only.getValue();
                        }
                        m.labels.add(label.toString());
                        m.targets.add(target);
                        order.add(target);
                    }
                }
                for (int i = order.size() - 1; i >= 0; i--) {
                    MutableNode m = order.get(i);
                    int n = m.labels.size();
                    char[] keys = new char[n];
                    Node[] children = new Node[n];
                    for (int k = 0; k < n; k++) {
                        keys[k] = m.labels.get(k).charAt(0);
                        children[k] = m.targets.get(k).frozen;
                    }
                    m.frozen = new Node(toArray(m.routes), keys, m.labels.toArray(new String[0]), children);
                }
                return root.frozen;
            }

            private static final class MutableNode {
                final List<Integer> routes = new ArrayList<>(1);
                final TreeMap<Character, MutableNode> children = new TreeMap<>();
                final List<String> labels = new ArrayList<>();
                final List<MutableNode> targets = new ArrayList<>();
                Node frozen;
            }
        }
    }
}
