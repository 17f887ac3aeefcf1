package io.bulwark.routing.lb;

import io.bulwark.config.ClusterConfig;
import io.bulwark.config.HashKey;

/** Creates the balancer a cluster's config names. */
public final class LoadBalancers {

    /** What ring-hash hashes on when the config names no {@code hash-key}: the client's address. */
    static final HashKey DEFAULT_HASH_KEY = new HashKey(HashKey.Source.CLIENT_IP, "");

    private LoadBalancers() {
    }

    /** A new balancer instance for one event loop. */
    public static LoadBalancer create(ClusterConfig config) {
        return switch (config.loadBalancer()) {
            case ROUND_ROBIN -> new RoundRobinLoadBalancer();
            case LEAST_REQUEST -> new LeastRequestLoadBalancer();
            case RANDOM -> new RandomLoadBalancer();
            case EWMA -> new EwmaLoadBalancer();
            case RING_HASH -> new RingHashLoadBalancer(config.hashKey().orElse(DEFAULT_HASH_KEY));
        };
    }
}
