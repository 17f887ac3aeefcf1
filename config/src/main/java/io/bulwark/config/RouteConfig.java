package io.bulwark.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One route: what it matches, where it sends traffic and the per-route policies.
 *
 * @param clusters one entry for {@code cluster = x} (weight 1), several for a weighted split
 * @param prefixRewrite replaces the matched path prefix when present
 * @param timeout covers the whole request, every try included
 * @param rateLimit empty when the route has no rate limit
 * @param hedge empty when the route does not hedge
 */
public record RouteConfig(
        String name,
        RouteMatch match,
        List<WeightedCluster> clusters,
        Optional<String> prefixRewrite,
        HeaderRewrite requestHeaders,
        Duration timeout,
        RetryConfig retry,
        Optional<RateLimitConfig> rateLimit,
        FaultConfig fault,
        Optional<HedgeConfig> hedge,
        Optional<FallbackConfig> fallback) {

    public RouteConfig {
        clusters = List.copyOf(clusters);
    }

    /** A route without a fallback. */
    public RouteConfig(String name, RouteMatch match, List<WeightedCluster> clusters, Optional<String> prefixRewrite,
                       HeaderRewrite requestHeaders, Duration timeout, RetryConfig retry,
                       Optional<RateLimitConfig> rateLimit, FaultConfig fault, Optional<HedgeConfig> hedge) {
        this(name, match, clusters, prefixRewrite, requestHeaders, timeout, retry, rateLimit, fault, hedge,
                Optional.empty());
    }

    public record WeightedCluster(String name, int weight) {
    }

    /** Headers added to (replacing any of the same name) or removed from the upstream request. */
    public record HeaderRewrite(java.util.Map<String, String> add, List<String> remove) {
        public static final HeaderRewrite NONE = new HeaderRewrite(java.util.Map.of(), List.of());

        public HeaderRewrite {
            add = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(add));
            remove = List.copyOf(remove);
        }
    }
}
