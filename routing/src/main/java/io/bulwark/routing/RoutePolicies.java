package io.bulwark.routing;

import io.bulwark.config.RouteConfig;
import io.bulwark.routing.fallback.StaleCache;
import io.bulwark.routing.ratelimit.QuotaSource;
import io.bulwark.routing.ratelimit.RouteRateLimiter;
import io.bulwark.routing.retry.Backoff;
import io.bulwark.routing.retry.RecentLatency;
import io.bulwark.routing.retry.RetryBudget;

/**
 * The stateful resilience layers a route carries: its rate limit (null without one), its retry
 * budget, its backoff, and the recent times to response head an adaptive hedge delay follows
 * ({@code headLatency}; null unless the route hedges with {@code delay = p95}). They sit above load balancing, so a retry can go to another host. A
 * reload carries their state over to the route of the same name: the same limiter while its
 * config is unchanged, and always the same budget, since requests in flight keep counting. With
 * {@code fallback.stale-if-error}, {@code staleCache} keeps copies of its responses (kept over a
 * reload that leaves the fallback block as it was); null otherwise.
 */
public record RoutePolicies(RouteRateLimiter rateLimiter, RetryBudget budget, Backoff backoff,
                            RecentLatency headLatency, StaleCache staleCache) {

    /** @param previous the policies of the route of the same name before a reload, or null */
    public static RoutePolicies build(RouteConfig config, Clock clock, RoutePolicies previous) {
        return build(config, clock, previous, QuotaSource.NONE);
    }

    /**
     * @param previous the policies of the route of the same name before a reload, or null
     * @param quota the fleet's tokens for a {@code scope = global} rate limit
     */
    public static RoutePolicies build(RouteConfig config, Clock clock, RoutePolicies previous, QuotaSource quota) {
        RouteRateLimiter limiter = config.rateLimit()
                .map(rl -> previous != null && previous.rateLimiter() != null
                        && previous.rateLimiter().config().equals(rl)
                        ? previous.rateLimiter()
                        : new RouteRateLimiter(config.name(), rl, clock, quota))
                .orElse(null);
        RetryBudget budget;
        if (previous != null) {
            budget = previous.budget();
            budget.reconfigure(config.retry());
        } else {
            budget = new RetryBudget(config.retry());
        }
        RecentLatency latency = config.hedge().filter(h -> h.adaptive())
                .map(h -> previous != null && previous.headLatency() != null ? previous.headLatency() : new RecentLatency())
                .orElse(null);
        StaleCache stale = config.fallback()
                .flatMap(f -> f.staleIfError().map(window ->
                        previous != null && previous.staleCache() != null && previous.staleCache().config().equals(f)
                                ? previous.staleCache()
                                : new StaleCache(f, window, clock)))
                .orElse(null);
        return new RoutePolicies(limiter, budget, new Backoff(config.retry().backoff(), clock), latency, stale);
    }
}
