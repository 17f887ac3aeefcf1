package io.bulwark.proxy;

import io.bulwark.config.ClusterConfig;
import io.bulwark.config.RouteConfig;
import io.bulwark.routing.Clock;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.circuit.ClusterCircuitBreaker;
import io.bulwark.routing.limits.ClusterLimits;
import io.bulwark.routing.ratelimit.RouteRateLimiter;
import io.bulwark.routing.retry.Backoff;
import io.bulwark.routing.retry.RetryBudget;
import io.bulwark.routing.Upstream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stateful resilience layers of one snapshot, in the order a request meets them: per route a
 * rate limit and a retry budget (above load balancing, so a retry can go elsewhere), per cluster
 * a circuit breaker and bulkhead limits. Built with the snapshot; on reload their state carries
 * over to the new config where the route or cluster still exists.
 */
public final class Policies {

    private static final Logger LOG = LoggerFactory.getLogger(Policies.class);

    private Policies() {
    }

    /** @param rateLimiter null when the route has no rate limit */
    public record Route(RouteRateLimiter rateLimiter, RetryBudget budget, Backoff backoff) {

        static Route build(RouteConfig config, Clock clock, Route previous) {
            RouteRateLimiter limiter = config.rateLimit()
                    .map(rl -> previous != null && previous.rateLimiter() != null
                            && previous.rateLimiter().config().equals(rl)
                            ? previous.rateLimiter()
                            : new RouteRateLimiter(config.name(), rl, clock))
                    .orElse(null);
            RetryBudget budget;
            if (previous != null) {
                budget = previous.budget();
                budget.reconfigure(config.retry()); // requests in flight keep counting
            } else {
                budget = new RetryBudget(config.retry());
            }
            return new Route(limiter, budget, new Backoff(config.retry().backoff(), clock));
        }
    }

    public record Cluster(ClusterCircuitBreaker breaker, ClusterLimits limits) {

        /**
         * @param owner the routing cluster these policies protect in the new snapshot: the breaker
         *     reads its eligible upstreams, to say when it opens while some are still serving
         */
        static Cluster build(ClusterConfig config, Clock clock, EventSink events, Cluster previous,
                             io.bulwark.routing.Cluster owner) {
            ClusterCircuitBreaker breaker;
            ClusterLimits limits;
            if (previous != null) {
                breaker = previous.breaker().config().equals(config.circuitBreaker())
                        ? previous.breaker() : previous.breaker().reconfigured(config.circuitBreaker());
                previous.limits().reconfigure(config.limits());
                limits = previous.limits();
            } else {
                breaker = new ClusterCircuitBreaker(config.name(), config.circuitBreaker(), clock);
                breaker.onTransition(t -> {
                    events.publish(t.toEvent());
                    if (t.openedWithEligibleUpstreams()) {
                        LOG.warn("circuit breaker of cluster {} opened while {} upstream(s) were eligible: "
                                        + "{} of {} requests in the window failed ({}%), {} slow ({}%); "
                                        + "every request of the cluster is refused for {}ms",
                                t.cluster(), t.eligibleUpstreams(), t.failedCalls(), t.calls(),
                                Math.round(t.failureRate()), t.slowCalls(), Math.round(t.slowCallRate()),
                                config.circuitBreaker().waitInOpen().toMillis());
                        events.publish(t.toOpenWithEligibleEvent());
                    }
                });
                limits = new ClusterLimits(config.limits());
            }
            if (owner != null) {
                breaker.watchEligible(() -> (int) owner.hostSet().all().stream().filter(Upstream::eligible).count());
            }
            return new Cluster(breaker, limits);
        }
    }
}
