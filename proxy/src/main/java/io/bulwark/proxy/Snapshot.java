package io.bulwark.proxy;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ClusterConfig;
import io.bulwark.routing.Clock;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.RouteTable;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything the data plane routes with, built from one config: the run-time clusters and the
 * compiled route table. Immutable as a whole; a reload swaps in a new snapshot and every
 * in-flight request finishes on the one it started with.
 */
public record Snapshot(BulwarkConfig config, Map<String, Cluster> clusters, RouteTable routes) {

    public Snapshot {
        clusters = Collections.unmodifiableMap(new LinkedHashMap<>(clusters));
    }

    /**
     * Builds a snapshot, resolving every endpoint now (blocking: call it off the event loops).
     *
     * @param previous the snapshot being replaced, whose upstream state carries over; null at start
     */
    public static Snapshot build(BulwarkConfig config, Clock clock, Cluster.Resolver resolver, Snapshot previous) {
        Map<String, Cluster> clusters = new LinkedHashMap<>();
        for (ClusterConfig clusterConfig : config.clusters().values()) {
            Cluster cluster = new Cluster(clusterConfig, clock);
            cluster.resolve(resolver);
            clusters.put(clusterConfig.name(), cluster);
        }
        return new Snapshot(config, clusters, RouteTable.compile(config.routes(), clusters));
    }
}
