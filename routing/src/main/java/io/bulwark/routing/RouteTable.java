package io.bulwark.routing;

import io.bulwark.config.RouteConfig;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The routes of one config, compiled once at load (regexes compiled, hosts split into exact and
 * wildcard suffix) and matched in order: the first route whose every condition holds wins.
 * Immutable; a reload compiles a new table. See {@link CompiledRoute} for the match and rewrite rules.
 *
 * <p>Matching does not scan the table: a {@link RouteIndex} built at compile time finds the routes
 * the request's host and path can match, so the cost does not grow with the number of routes.
 */
public final class RouteTable {

    private final CompiledRoute[] routes;
    private final List<Route> view;
    private final Map<String, CompiledRoute> byName;
    private final RouteIndex index;

    private RouteTable(CompiledRoute[] routes) {
        this.routes = routes;
        this.view = List.of(routes);
        this.byName = new HashMap<>(routes.length * 2);
        for (CompiledRoute route : routes) {
            byName.putIfAbsent(route.name(), route); // the first of a name, as a scan would find
        }
        this.index = new RouteIndex(routes);
    }

    /**
     * Compiles {@code routes} against the run-time clusters they name.
     *
     * @throws IllegalArgumentException if a route names a cluster not in {@code clusters} or has an
     *     invalid regex (config validation reports both earlier, with the config path)
     */
    public static RouteTable compile(List<RouteConfig> routes, Map<String, Cluster> clusters) {
        return compile(routes, clusters, Clock.SYSTEM, null);
    }

    /**
     * Compiles {@code routes}; each route's policies (rate limit, retry budget) carry over from the
     * route of the same name in {@code previous} (null at start).
     */
    public static RouteTable compile(List<RouteConfig> routes, Map<String, Cluster> clusters, Clock clock,
                                     RouteTable previous) {
        return compile(routes, clusters, clock, previous, io.bulwark.routing.ratelimit.QuotaSource.NONE);
    }

    /** As {@link #compile(List, Map, Clock, RouteTable)}, with the fleet's tokens for global rate limits. */
    public static RouteTable compile(List<RouteConfig> routes, Map<String, Cluster> clusters, Clock clock,
                                     RouteTable previous, io.bulwark.routing.ratelimit.QuotaSource quota) {
        CompiledRoute[] compiled = new CompiledRoute[routes.size()];
        for (int i = 0; i < compiled.length; i++) {
            RouteConfig config = routes.get(i);
            Route before = previous == null ? null : previous.route(config.name());
            compiled[i] = new CompiledRoute(config, clusters,
                    RoutePolicies.build(config, clock, before == null ? null : before.policies(), quota));
        }
        return new RouteTable(compiled);
    }

    /** The route named {@code name}, or null. */
    public Route route(String name) {
        return byName.get(name);
    }

    /** The first matching route, or null (the proxy answers 404 no_route). Allocation-free. */
    public Route match(RequestView request) {
        int position = index.match(request);
        return position < 0 ? null : routes[position];
    }

    /** Every route, in match order. */
    public List<Route> routes() {
        return view;
    }
}
