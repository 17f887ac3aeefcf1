package io.bulwark.routing;

import io.bulwark.config.RouteConfig;

import java.util.List;
import java.util.Map;

/**
 * The routes of one config, compiled once at load (regexes compiled, hosts split into exact and
 * wildcard suffix) and matched in order: the first route whose every condition holds wins.
 * Immutable; a reload compiles a new table. See {@link CompiledRoute} for the match and rewrite rules.
 */
public final class RouteTable {

    private final CompiledRoute[] routes;
    private final List<Route> view;

    private RouteTable(CompiledRoute[] routes) {
        this.routes = routes;
        this.view = List.of(routes);
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
        CompiledRoute[] compiled = new CompiledRoute[routes.size()];
        for (int i = 0; i < compiled.length; i++) {
            RouteConfig config = routes.get(i);
            Route before = previous == null ? null : previous.route(config.name());
            compiled[i] = new CompiledRoute(config, clusters,
                    RoutePolicies.build(config, clock, before == null ? null : before.policies()));
        }
        return new RouteTable(compiled);
    }

    /** The route named {@code name}, or null. */
    public Route route(String name) {
        for (CompiledRoute route : routes) {
            if (route.name().equals(name)) {
                return route;
            }
        }
        return null;
    }

    /** The first matching route, or null (the proxy answers 404 no_route). Allocation-free. */
    public Route match(RequestView request) {
        for (CompiledRoute route : routes) {
            if (route.matches(request)) {
                return route;
            }
        }
        return null;
    }

    /** Every route, in match order. */
    public List<Route> routes() {
        return view;
    }
}
