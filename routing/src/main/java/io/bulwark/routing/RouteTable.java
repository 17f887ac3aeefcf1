package io.bulwark.routing;

import io.bulwark.config.RouteConfig;

import java.util.List;
import java.util.Map;

/**
 * The routes of one config, compiled once at load (regexes compiled, hosts split into exact and
 * wildcard suffix) and matched in order: the first route whose every condition holds wins.
 */
public final class RouteTable {

    private RouteTable() {
    }

    /** Compiles {@code routes} against the run-time clusters they name. */
    public static RouteTable compile(List<RouteConfig> routes, Map<String, Cluster> clusters) {
        throw new UnsupportedOperationException("being written");
    }

    /** The first matching route, or null (the proxy answers 404 no_route). */
    public Route match(RequestView request) {
        throw new UnsupportedOperationException("being written");
    }

    public List<Route> routes() {
        throw new UnsupportedOperationException("being written");
    }
}
