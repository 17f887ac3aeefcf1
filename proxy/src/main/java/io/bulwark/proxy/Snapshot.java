package io.bulwark.proxy;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ClusterConfig;
import io.bulwark.config.RouteConfig;
import io.bulwark.routing.Clock;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.RouteTable;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.health.DelayScheduler;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything the data plane routes with, built from one config: the run-time clusters and the
 * compiled route table. Immutable as a whole; a reload swaps in a new snapshot and every
 * in-flight request finishes on the one it started with.
 */
public record Snapshot(BulwarkConfig config, Map<String, Cluster> clusters, RouteTable routes,
                       Map<String, Policies.Cluster> clusterPolicies, Map<String, Policies.Route> routePolicies) {

    public Snapshot {
        clusters = Collections.unmodifiableMap(new LinkedHashMap<>(clusters));
        clusterPolicies = Map.copyOf(clusterPolicies);
        routePolicies = Map.copyOf(routePolicies);
    }

    public Policies.Cluster policies(Cluster cluster) {
        return clusterPolicies.get(cluster.name());
    }

    public Policies.Route policies(io.bulwark.routing.Route route) {
        return routePolicies.get(route.name());
    }

    /**
     * Builds a snapshot, resolving every endpoint now (blocking: call it off the event loops).
     *
     * <p>State carries over from {@code previous} (null at start): a cluster whose config did not
     * change is kept as it is, with every upstream's ejection, drain, override, health, counters and
     * pooled connections; for a changed cluster, each upstream that still exists keeps its operator
     * drain, health override, weight override, health verdict and outlier ejection (with its
     * deadline and backoff multiplier).
     *
     * @param timers readmits ejected upstreams at their deadline (null: at the next outlier tick)
     */
    public static Snapshot build(BulwarkConfig config, Clock clock, Cluster.Resolver resolver, EventSink events,
                                 DelayScheduler timers, Snapshot previous) {
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
            }
            clusters.put(clusterConfig.name(), cluster);
        }
        Map<String, Policies.Cluster> clusterPolicies = new LinkedHashMap<>();
        for (ClusterConfig clusterConfig : config.clusters().values()) {
            Policies.Cluster before = previous == null ? null : previous.clusterPolicies().get(clusterConfig.name());
            clusterPolicies.put(clusterConfig.name(), Policies.Cluster.build(clusterConfig, clock, events, before));
        }
        Map<String, Policies.Route> routePolicies = new LinkedHashMap<>();
        for (RouteConfig routeConfig : config.routes()) {
            Policies.Route before = previous == null ? null : previous.routePolicies().get(routeConfig.name());
            routePolicies.put(routeConfig.name(), Policies.Route.build(routeConfig, clock, before));
        }
        return new Snapshot(config, clusters, RouteTable.compile(config.routes(), clusters), clusterPolicies,
                routePolicies);
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
