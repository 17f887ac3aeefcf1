package io.bulwark.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A named group of upstream endpoints and every per-cluster policy.
 *
 * @param dnsRefresh how often hostname endpoints are re-resolved
 * @param tls whether connections to the upstreams use TLS
 * @param hashKey what ring-hash hashes on; present when {@code loadBalancer} is ring-hash
 * @param healthCheck active health checking; empty when not configured
 * @param panicThreshold percent (0..100) of usable upstreams below which traffic goes to all non-drained ones
 * @param slowStart ramp-up time of a returning upstream's share of traffic; zero = none
 */
public record ClusterConfig(
        String name,
        List<EndpointConfig> endpoints,
        Duration dnsRefresh,
        boolean tls,
        LoadBalancerKind loadBalancer,
        Optional<HashKey> hashKey,
        Duration connectTimeout,
        PoolConfig pool,
        LimitsConfig limits,
        Optional<HealthCheckConfig> healthCheck,
        OutlierDetectionConfig outlierDetection,
        double panicThreshold,
        Duration slowStart,
        CircuitBreakerConfig circuitBreaker) {

    public ClusterConfig {
        endpoints = List.copyOf(endpoints);
    }
}
