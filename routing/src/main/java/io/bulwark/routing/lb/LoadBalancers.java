package io.bulwark.routing.lb;

import io.bulwark.config.ClusterConfig;
import io.bulwark.config.HashKey;

/** Creates the balancer a cluster's config names. */
public final class LoadBalancers {

    /** What ring-hash hashes on when the config names no {@code hash-key}: the client's address. */
    static final HashKey DEFAULT_HASH_KEY = new HashKey(HashKey.Source.CLIENT_IP, "");

    private LoadBalancers() {
    }

    /** A new balancer instance for one event loop; a round robin starts at a random place. */
    public static LoadBalancer create(ClusterConfig config) {
        return create(config, -1);
    }

    /**
     * A new balancer instance for one event loop.
     *
     * @param instance this balancer's number among the cluster's (0, 1, 2...): a round robin starts its
     *     rotation that many hosts on, so each event loop's first requests go to different hosts; -1 for
     *     a random start
     */
    public static LoadBalancer create(ClusterConfig config, int instance) {
        return switch (config.loadBalancer()) {
            case ROUND_ROBIN -> instance >= 0 ? new RoundRobinLoadBalancer(instance) : new RoundRobinLoadBalancer();
            case LEAST_REQUEST -> new LeastRequestLoadBalancer();
            case RANDOM -> new RandomLoadBalancer();
            case EWMA -> new EwmaLoadBalancer();
            case RING_HASH -> new RingHashLoadBalancer(config.hashKey().orElse(DEFAULT_HASH_KEY));
        };
    }
}
