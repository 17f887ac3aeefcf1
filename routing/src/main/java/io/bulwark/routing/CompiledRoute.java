package io.bulwark.routing;

import io.bulwark.config.RouteConfig;
import io.bulwark.config.RouteMatch;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One route of a {@link RouteTable}, with every condition prepared at load so that
 * {@link #matches(RequestView)} does no parsing and no allocation per request.
 *
 * <h2>Matching</h2>
 * Every present condition must hold:
 * <ul>
 *   <li>{@code path-prefix}: plain string prefix, as Envoy's {@code prefix}: {@code /users} matches
 *       {@code /users}, {@code /users/42} and also {@code /usersx}. Write {@code /users/} to stop at a
 *       segment boundary. No path condition, {@code ""} and {@code "/"} match every path.</li>
 *   <li>{@code path-exact}: the whole path, exactly.</li>
 *   <li>{@code path-regex}: the whole path must match ({@link Matcher#matches()}, not {@code find});
 *       compiled once, with one reusable {@link Matcher} per thread.</li>
 *   <li>{@code host}: exact, or {@code *.suffix}, which matches any host ending in {@code .suffix}
 *       with at least one character before it ({@code *.example.com} takes {@code a.example.com} and
 *       {@code a.b.example.com}, not {@code example.com}); {@code *} alone matches any host. Hosts
 *       compare case-insensitively, without port.</li>
 *   <li>{@code methods}: the method is one of them.</li>
 *   <li>{@code headers}: each named header (name case-insensitive) is present with exactly that value.</li>
 * </ul>
 *
 * <h2>Rewriting</h2>
 * With {@code prefix-rewrite}, {@link #rewrite(String)} replaces the matched prefix of a
 * path-prefix route, or the whole path of a path-exact or path-regex route, and keeps the query
 * string. The prefix is replaced literally, as Envoy does (prefix {@code /}, rewrite {@code /api}:
 * {@code /users} becomes {@code /apiusers}; write {@code /api/}). A rewrite ending in {@code /}
 * followed by a remainder starting with {@code /} yields one slash, not two (prefix {@code /users}, rewrite {@code /}: {@code /users/42?x=1} becomes
 * {@code /42?x=1} and {@code /users} becomes {@code /}). A result not starting with {@code /} gets one.
 */
final class CompiledRoute implements Route {

    private final RouteConfig config;

    private final RouteMatch.PathMatch.Kind pathKind;
    private final String pathValue;
    private final ThreadLocal<Matcher> matchers;

    private final boolean anyHost;
    private final String exactHost;
    private final String hostSuffix;

    private final Set<String> methods;
    private final String[] headerNames;
    private final String[] headerValues;

    private final Cluster[] clusters;
    private final RoutePolicies policies;
    private final int[] cumulativeWeights;

    private final String prefixRewrite;
    /** The prefix {@link #rewrite} replaces: the configured path-prefix as written ("/" stays "/"). */
    private final String rewrittenPrefix;

    CompiledRoute(RouteConfig config, Map<String, Cluster> clustersByName, RoutePolicies policies) {
        this.config = config;
        this.policies = policies;
        RouteMatch match = config.match();

        RouteMatch.PathMatch path = match.path();
        if (path == null || (path.kind() == RouteMatch.PathMatch.Kind.PREFIX && path.value().equals("/"))) {
            this.pathKind = RouteMatch.PathMatch.Kind.PREFIX;
            this.pathValue = "";
        } else {
            this.pathKind = path.kind();
            this.pathValue = path.value();
        }
        if (pathKind == RouteMatch.PathMatch.Kind.REGEX) {
            Pattern pattern;
            try {
                pattern = Pattern.compile(pathValue);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("route " + config.name() + ": bad path-regex: " + e.getDescription(), e);
            }
            this.matchers = ThreadLocal.withInitial(() -> pattern.matcher(""));
        } else {
            this.matchers = null;
        }

        String host = match.host().map(h -> h.toLowerCase(Locale.ROOT)).orElse(null);
        this.anyHost = host == null || host.equals("*");
        this.hostSuffix = !anyHost && host.startsWith("*.") ? host.substring(1) : null;
        this.exactHost = anyHost || hostSuffix != null ? null : host;

        this.methods = Set.copyOf(match.methods());
        this.headerNames = new String[match.headers().size()];
        this.headerValues = new String[headerNames.length];
        int h = 0;
        for (Map.Entry<String, String> header : match.headers().entrySet()) {
            headerNames[h] = header.getKey().toLowerCase(Locale.ROOT);
            headerValues[h] = header.getValue();
            h++;
        }

        List<RouteConfig.WeightedCluster> targets = config.clusters();
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("route " + config.name() + ": no cluster");
        }
        this.clusters = new Cluster[targets.size()];
        this.cumulativeWeights = new int[targets.size()];
        boolean anyPositive = targets.stream().anyMatch(t -> t.weight() > 0);
        int sum = 0;
        for (int i = 0; i < targets.size(); i++) {
            RouteConfig.WeightedCluster target = targets.get(i);
            Cluster cluster = clustersByName.get(target.name());
            if (cluster == null) {
                throw new IllegalArgumentException("route " + config.name() + ": unknown cluster \"" + target.name() + "\"");
            }
            clusters[i] = cluster;
            sum = Math.addExact(sum, anyPositive ? Math.max(0, target.weight()) : 1);
            cumulativeWeights[i] = sum;
        }
        this.prefixRewrite = config.prefixRewrite().orElse(null);
        this.rewrittenPrefix = path == null ? "" : path.value();
    }

    @Override
    public String name() {
        return config.name();
    }

    @Override
    public RouteConfig config() {
        return config;
    }

    /** The clusters this route splits over, in config order. */
    List<Cluster> clusters() {
        return List.of(clusters);
    }

    /** How the path is compared; a route without a path condition is a {@code PREFIX} of {@code ""}. */
    RouteMatch.PathMatch.Kind pathKind() {
        return pathKind;
    }

    /** The prefix or exact path compared ({@code ""} for every path), or the regex. */
    String pathValue() {
        return pathValue;
    }

    /** True when the route takes any host ({@code host} absent or {@code "*"}). */
    boolean anyHost() {
        return anyHost;
    }

    /** The lower-case exact host the route takes, or null. */
    String exactHost() {
        return exactHost;
    }

    /** The lower-case {@code .suffix} of a {@code *.suffix} host, or null. */
    String hostSuffix() {
        return hostSuffix;
    }

    /** True when every condition of the route holds for {@code request}. */
    boolean matches(RequestView request) {
        return hostMatches(request.host())
                && (methods.isEmpty() || methods.contains(request.method()))
                && pathMatches(request.path())
                && headersMatch(request);
    }

    private boolean hostMatches(String host) {
        if (anyHost) {
            return true;
        }
        if (host == null) {
            return false;
        }
        if (hostSuffix != null) {
            return host.length() > hostSuffix.length() && host.regionMatches(true,
                    host.length() - hostSuffix.length(), hostSuffix, 0, hostSuffix.length());
        }
        return host.equalsIgnoreCase(exactHost);
    }

    private boolean pathMatches(String path) {
        return switch (pathKind) {
            case PREFIX -> path.startsWith(pathValue);
            case EXACT -> path.equals(pathValue);
            case REGEX -> {
                Matcher matcher = matchers.get().reset(path);
                boolean matched = matcher.matches();
                matcher.reset(""); // do not keep the request's path reachable from the thread
                yield matched;
            }
        };
    }

    private boolean headersMatch(RequestView request) {
        for (int i = 0; i < headerNames.length; i++) {
            if (!headerValues[i].equals(request.header(headerNames[i]))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Cluster pickCluster() {
        if (clusters.length == 1) {
            return clusters[0];
        }
        int point = ThreadLocalRandom.current().nextInt(cumulativeWeights[cumulativeWeights.length - 1]);
        for (int i = 0; i < cumulativeWeights.length; i++) {
            if (point < cumulativeWeights[i]) {
                return clusters[i];
            }
        }
        return clusters[clusters.length - 1]; // unreachable: point < the last cumulative weight
    }

    @Override
    public String rewrite(String pathAndQuery) {
        if (prefixRewrite == null) {
            return pathAndQuery;
        }
        int q = pathAndQuery.indexOf('?');
        int pathEnd = q < 0 ? pathAndQuery.length() : q;
        int keep; // where the part of the path that survives the rewrite starts
        if (pathKind == RouteMatch.PathMatch.Kind.PREFIX) {
            if (!pathAndQuery.startsWith(rewrittenPrefix) || rewrittenPrefix.length() > pathEnd) {
                return pathAndQuery; // not the path this route matched; leave it alone
            }
            keep = rewrittenPrefix.length();
        } else {
            keep = pathEnd;
        }
        StringBuilder out = new StringBuilder(prefixRewrite.length() + pathAndQuery.length() - keep + 1);
        if (!prefixRewrite.startsWith("/")) {
            out.append('/');
        }
        out.append(prefixRewrite);
        if (keep < pathEnd && pathAndQuery.charAt(keep) == '/' && out.charAt(out.length() - 1) == '/') {
            keep++;
        }
        out.append(pathAndQuery, keep, pathAndQuery.length());
        return out.toString();
    }

    @Override
    public String toString() {
        return "Route[" + config.name() + "]";
    }

    @Override
    public RoutePolicies policies() {
        return policies;
    }
}
