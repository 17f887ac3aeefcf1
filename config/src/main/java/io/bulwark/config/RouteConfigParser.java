package io.bulwark.config;

import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads {@code bulwark.routes}: each route's name, target cluster(s), rewrites and timeout,
 * and checks what spans routes and clusters (every named cluster exists, route names are
 * unique). The match block is read by {@link RouteMatchParser}, retry, rate limit and fault by
 * {@link RoutePolicyParser}.
 */
final class RouteConfigParser {

    static final List<String> ROUTE_KEYS = List.of(
            "name", "match", "cluster", "clusters", "prefix-rewrite", "request-headers", "timeout", "retry",
            "rate-limit", "fault", "hedge", "fallback");
    private static final List<String> WEIGHTED_CLUSTER_KEYS = List.of("name", "weight");
    private static final List<String> HEADER_REWRITE_KEYS = List.of("add", "remove");

    private static final String TARGET_EXPECTED = "cluster = NAME, or clusters = [ { name = NAME, weight = N }, ... ]";

    private RouteConfigParser() {
    }

    static List<RouteConfig> parseAll(ConfigReader bulwark, List<String> clusterNames, ReferenceDefaults defaults) {
        ConfigReader.Slot slot = bulwark.slot("routes");
        if (!slot.isPresent()) {
            bulwark.problemAt(slot, "missing (expected: a list of at least one route, like routes = [ { cluster = users } ])");
            return List.of();
        }
        List<ConfigReader.Slot> items = bulwark.list("routes", "route objects");
        if (items.isEmpty() && slot.value().valueType() == ConfigValueType.LIST) {
            bulwark.problemAt(slot, "empty list (expected: at least one route)");
        }
        List<RouteConfig> routes = new ArrayList<>();
        Map<String, String> namesSeen = new HashMap<>();
        FromDefaults fromDefaults = new FromDefaults(defaults);
        for (int i = 0; i < items.size(); i++) {
            ConfigReader.Slot item = items.get(i);
            if (!item.isPresent() || item.value().valueType() != ConfigValueType.OBJECT) {
                bulwark.problemAt(item, ConfigReader.render(item.value()) + " (expected: a route object { cluster = ..., ... })");
                continue;
            }
            ConfigReader route = bulwark.asObject(item).withDefaults(defaults.route());
            routes.add(parse(i, route, clusterNames, namesSeen, defaults, fromDefaults));
        }
        return routes;
    }

    private static RouteConfig parse(int index, ConfigReader r, List<String> clusterNames, Map<String, String> namesSeen,
                                     ReferenceDefaults defaults, FromDefaults fromDefaults) {
        r.rejectUnknownKeys(ROUTE_KEYS);
        String name = name(index, r, namesSeen);
        RouteMatch match = RouteMatchParser.parse(r.optionalObject("match"));
        List<RouteConfig.WeightedCluster> targets = targets(r, clusterNames, defaults);
        Optional<String> prefixRewrite = prefixRewrite(r, match);
        RouteConfig.HeaderRewrite requestHeaders = fromDefaults.requestHeaders(r);
        Duration timeout = r.positiveDuration("timeout");
        RetryConfig retry = fromDefaults.retry(r);
        Optional<RateLimitConfig> rateLimit = r.optionalObject("rate-limit")
                .map(rl -> RoutePolicyParser.rateLimit(rl.withDefaults(defaults.rateLimit())));
        FaultConfig fault = r.optionalObject("fault")
                .map(f -> RoutePolicyParser.fault(f.withDefaults(defaults.fault())))
                .orElse(FaultConfig.NONE);
        Optional<HedgeConfig> hedge = r.optionalObject("hedge").map(RoutePolicyParser::hedge);
        Optional<FallbackConfig> fallback = r.optionalObject("fallback").map(RoutePolicyParser::fallback);
        return new RouteConfig(name, match, targets, prefixRewrite, requestHeaders, timeout, retry, rateLimit, fault,
                hedge, fallback);
    }

    /**
     * The retry and request-headers blocks of the routes that leave them at their defaults: the
     * merged route then holds the very default object, which is read once, not once per route (a
     * config of thousands of routes mostly relies on the defaults).
     */
    private static final class FromDefaults {
        private final ConfigValue retryDefault;
        private final ConfigValue headersDefault;
        private RetryConfig retry;
        private RouteConfig.HeaderRewrite headers;

        FromDefaults(ReferenceDefaults defaults) {
            this.retryDefault = defaults.route().get("retry");
            this.headersDefault = defaults.route().get("request-headers");
        }

        RetryConfig retry(ConfigReader r) {
            if (r.slot("retry").value() != retryDefault) {
                return RoutePolicyParser.retry(r.object("retry"));
            }
            if (retry == null) {
                retry = RoutePolicyParser.retry(r.object("retry"));
            }
            return retry;
        }

        RouteConfig.HeaderRewrite requestHeaders(ConfigReader r) {
            if (r.slot("request-headers").value() != headersDefault) {
                return headerRewrite(r.object("request-headers"));
            }
            if (headers == null) {
                headers = headerRewrite(r.object("request-headers"));
            }
            return headers;
        }
    }

    private static String name(int index, ConfigReader r, Map<String, String> namesSeen) {
        ConfigReader.Slot slot = r.slot("name");
        String name = r.optionalString("name", BulwarkConfigParser.NAME_EXPECTED).orElse("route-" + index);
        if (slot.isPresent() && !BulwarkConfigParser.isValidName(name)) {
            r.problemAt(slot, ConfigReader.render(slot.value()) + " (expected: " + BulwarkConfigParser.NAME_EXPECTED + ")");
        }
        String previous = namesSeen.putIfAbsent(name, r.path());
        if (previous != null) {
            // The admin API addresses a route by name (PUT /api/v1/routes/{route}/fault).
            r.problem("name", "duplicate route name \"" + name + "\" (already used by " + previous + ")");
        }
        return name;
    }

    private static List<RouteConfig.WeightedCluster> targets(
            ConfigReader r, List<String> clusterNames, ReferenceDefaults defaults) {
        boolean single = r.has("cluster");
        boolean weighted = r.has("clusters");
        if (single && weighted) {
            r.problemHere("both cluster and clusters are set (expected: exactly one of " + TARGET_EXPECTED + ")");
        } else if (!single && !weighted) {
            r.problem("cluster", "missing (expected: " + TARGET_EXPECTED + ")");
            return List.of();
        }
        if (single) {
            ConfigReader.Slot slot = r.slot("cluster");
            return r.string(slot, "a cluster name")
                    .map(name -> {
                        requireKnownCluster(r, slot, name, clusterNames);
                        return List.of(new RouteConfig.WeightedCluster(name, 1));
                    })
                    .orElse(List.of());
        }
        ConfigReader.Slot listSlot = r.slot("clusters");
        List<ConfigReader.Slot> items = r.list("clusters", "{ name = NAME, weight = N } objects");
        if (items.isEmpty() && listSlot.value().valueType() == ConfigValueType.LIST) {
            r.problemAt(listSlot, "empty list (expected: at least one { name = NAME, weight = N })");
        }
        List<RouteConfig.WeightedCluster> targets = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        for (ConfigReader.Slot item : items) {
            ConfigReader w = r.asObject(item).withDefaults(defaults.weightedCluster());
            w.rejectUnknownKeys(WEIGHTED_CLUSTER_KEYS);
            ConfigReader.Slot nameSlot = w.slot("name");
            Optional<String> name = w.string(nameSlot, "a cluster name");
            int weight = w.integer("weight", 1, Integer.MAX_VALUE);
            name.ifPresent(n -> {
                requireKnownCluster(w, nameSlot, n, clusterNames);
                String previous = seen.putIfAbsent(n, nameSlot.path());
                if (previous != null) {
                    w.problemAt(nameSlot, "cluster \"" + n + "\" is listed twice (already at " + previous + ")");
                }
                targets.add(new RouteConfig.WeightedCluster(n, weight));
            });
        }
        return targets;
    }

    private static void requireKnownCluster(ConfigReader r, ConfigReader.Slot slot, String name, List<String> clusterNames) {
        if (clusterNames.contains(name) || clusterNames.isEmpty()) {
            // With no clusters at all, the missing clusters block is the one problem worth reporting.
            return;
        }
        String hint = DidYouMean.hint(name, clusterNames);
        r.problemAt(slot, "unknown cluster \"" + name + "\""
                + (hint.isEmpty() ? " (defined clusters: " + String.join(", ", clusterNames) + ")" : hint));
    }

    private static Optional<String> prefixRewrite(ConfigReader r, RouteMatch match) {
        ConfigReader.Slot slot = r.slot("prefix-rewrite");
        Optional<String> rewrite = r.optionalString("prefix-rewrite", RouteMatchParser.PATH_EXPECTED);
        rewrite.ifPresent(p -> {
            if (!RouteMatchParser.isPathPattern(p)) {
                r.problemAt(slot, ConfigReader.render(slot.value()) + " (expected: " + RouteMatchParser.PATH_EXPECTED + ")");
            } else if (match.path().kind() == RouteMatch.PathMatch.Kind.REGEX) {
                // A regex has no matched prefix to replace.
                r.problemAt(slot, "cannot be used with path-regex (expected: a path-prefix or path-exact match)");
            }
        });
        return rewrite;
    }

    private static RouteConfig.HeaderRewrite headerRewrite(ConfigReader h) {
        h.rejectUnknownKeys(HEADER_REWRITE_KEYS);
        Map<String, String> add = RouteMatchParser.headers(h, "add");
        for (String name : add.keySet()) {
            if (HttpSyntax.NOT_ADDABLE_HEADERS.contains(name)) {
                h.problems().add(h.pathOf("add") + "." + ConfigReader.quoteKey(name), "cannot add \"" + name + "\" (expected: an end-to-end header; "
                        + "hop-by-hop and framing headers are the proxy's own)");
            }
        }
        List<String> remove = new ArrayList<>();
        for (ConfigReader.Slot item : h.list("remove", "header names")) {
            h.string(item, "a header name").ifPresent(name -> {
                if (HttpSyntax.isToken(name)) {
                    remove.add(name.toLowerCase(Locale.ROOT));
                } else {
                    h.problemAt(item, ConfigReader.render(item.value()) + " (expected: an HTTP header name like x-debug)");
                }
            });
        }
        return new RouteConfig.HeaderRewrite(add, remove);
    }
}
