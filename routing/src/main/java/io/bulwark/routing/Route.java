package io.bulwark.routing;

import io.bulwark.config.RouteConfig;

/**
 * A compiled route: its config and the clusters it splits traffic over. Immutable; a reload
 * builds new ones while in-flight requests keep the one they started with.
 */
public interface Route {

    String name();

    RouteConfig config();

    /** Chooses the cluster for a new request (by weight when the route splits traffic). */
    Cluster pickCluster();

    /**
     * The path (and query) to send upstream: {@code pathAndQuery} with the matched prefix replaced
     * by {@code prefix-rewrite} when the route has one; unchanged otherwise.
     */
    String rewrite(String pathAndQuery);

    /** The route's rate limit, retry budget and backoff, carried over by a reload. */
    RoutePolicies policies();
}
