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
 * @param tlsOptions trust and SNI for {@code tls = true}
 * @param protocol HTTP/1.1 or HTTP/2 to the upstreams ({@code protocol}, {@code http2})
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
        CircuitBreakerConfig circuitBreaker,
        UpstreamTls tlsOptions,
        UpstreamProtocol protocol) {

    public ClusterConfig {
        endpoints = List.copyOf(endpoints);
    }

    /** A cluster speaking HTTP/1.1 to its upstreams. */
    public ClusterConfig(String name, List<EndpointConfig> endpoints, Duration dnsRefresh, boolean tls,
                         LoadBalancerKind loadBalancer, Optional<HashKey> hashKey, Duration connectTimeout,
                         PoolConfig pool, LimitsConfig limits, Optional<HealthCheckConfig> healthCheck,
                         OutlierDetectionConfig outlierDetection, double panicThreshold, Duration slowStart,
                         CircuitBreakerConfig circuitBreaker, UpstreamTls tlsOptions) {
        this(name, endpoints, dnsRefresh, tls, loadBalancer, hashKey, connectTimeout, pool, limits, healthCheck,
                outlierDetection, panicThreshold, slowStart, circuitBreaker, tlsOptions, UpstreamProtocol.DEFAULT);
    }

    /** A cluster with the default TLS options (system trust store, SNI from the endpoint's host). */
    public ClusterConfig(String name, List<EndpointConfig> endpoints, Duration dnsRefresh, boolean tls,
                         LoadBalancerKind loadBalancer, Optional<HashKey> hashKey, Duration connectTimeout,
                         PoolConfig pool, LimitsConfig limits, Optional<HealthCheckConfig> healthCheck,
                         OutlierDetectionConfig outlierDetection, double panicThreshold, Duration slowStart,
                         CircuitBreakerConfig circuitBreaker) {
        this(name, endpoints, dnsRefresh, tls, loadBalancer, hashKey, connectTimeout, pool, limits, healthCheck,
                outlierDetection, panicThreshold, slowStart, circuitBreaker, UpstreamTls.DEFAULT);
    }
}
