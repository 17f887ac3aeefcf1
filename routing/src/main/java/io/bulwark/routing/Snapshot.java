package io.bulwark.routing;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ClusterConfig;
import io.bulwark.routing.health.DelayScheduler;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything the data plane routes with, built from one config: the run-time clusters (with
 * their circuit breakers and bulkheads) and the compiled route table (with each route's rate
 * limit and retry budget). Immutable as a whole; a reload swaps in a new snapshot and every
 * in-flight request finishes on the one it started with.
 */
public record Snapshot(BulwarkConfig config, Map<String, Cluster> clusters, RouteTable routes) {

    public Snapshot {
        clusters = Collections.unmodifiableMap(new LinkedHashMap<>(clusters));
    }

    /**
     * Builds a snapshot, resolving every endpoint now (blocking: call it off the event loops).
     *
     * <p>State carries over from {@code previous} (null at start): a cluster whose config did not
     * change is kept as it is, with every upstream's ejection, drain, override, health, counters and
     * pooled connections; for a changed cluster, each upstream that still exists keeps its operator
     * drain, health override, weight override, health verdict and outlier ejection (with its
     * deadline and backoff multiplier), and the cluster keeps its circuit breaker's state and its
     * bulkhead's requests in flight. Each route keeps its rate-limit buckets and retry budget.
     *
     * @param timers readmits ejected upstreams at their deadline (null: at the next outlier tick)
     */
    public static Snapshot build(BulwarkConfig config, Clock clock, Cluster.Resolver resolver, EventSink events,
                                 DelayScheduler timers, Snapshot previous) {
        return build(config, clock, resolver, events, timers, previous, io.bulwark.routing.ratelimit.QuotaSource.NONE);
    }

    /** As above, with the fleet's tokens for the routes' {@code scope = global} rate limits. */
    public static Snapshot build(BulwarkConfig config, Clock clock, Cluster.Resolver resolver, EventSink events,
                                 DelayScheduler timers, Snapshot previous,
                                 io.bulwark.routing.ratelimit.QuotaSource quota) {
        Map<String, Cluster> clusters = new LinkedHashMap<>();
        for (ClusterConfig clusterConfig : config.clusters().values()) {
            Cluster old = previous == null ? null : previous.clusters().get(clusterConfig.name());
            if (old != null && old.config().equals(clusterConfig)) {
                clusters.put(clusterConfig.name(), old);
                continue;
            }
            Cluster cluster = new Cluster(clusterConfig, clock, events, timers);
            cluster.resolve(resolver);
            if (old != null) {
                carryOver(old, cluster);
                cluster.adoptPolicies(old);
            }
            clusters.put(clusterConfig.name(), cluster);
        }
        return new Snapshot(config, clusters, RouteTable.compile(config.routes(), clusters, clock,
                previous == null ? null : previous.routes(), quota));
    }

    private static void carryOver(Cluster from, Cluster to) {
        for (Upstream next : to.upstreams()) {
            Upstream before = from.upstream(next.address());
            if (before == null) {
                continue;
            }
            if (before.admin() != Upstream.AdminState.ACTIVE) {
                next.setAdmin(Upstream.AdminState.DRAINING);
            }
            if (before.override() != Upstream.HealthOverride.NONE) {
                next.setOverride(before.override());
            }
            if (before.weight() != before.configuredWeight()) {
                next.setWeight(before.weight());
            }
            if (before.health() != Upstream.Health.UNKNOWN) {
                next.setHealth(before.health());
            }
            to.outlierDetector().adopt(from.outlierDetector(), before, next);
        }
    }

    /** Upstreams of this snapshot that {@code next} no longer uses (removed, or replaced by a changed cluster). */
    public List<Upstream> upstreamsGoneIn(Snapshot next) {
        Set<Upstream> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        next.clusters().values().forEach(c -> kept.addAll(c.upstreams()));
        return clusters.values().stream().flatMap(c -> c.upstreams().stream()).filter(u -> !kept.contains(u))
                .toList();
    }
}
