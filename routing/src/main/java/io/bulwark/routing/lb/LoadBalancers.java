package io.bulwark.routing.lb;

import io.bulwark.config.ClusterConfig;

/** Creates the balancer a cluster's config names. */
public final class LoadBalancers {

    private LoadBalancers() {
    }

    /** A new balancer instance for one event loop. */
    public static LoadBalancer create(ClusterConfig config) {
        throw new UnsupportedOperationException("being written");
    }
}
