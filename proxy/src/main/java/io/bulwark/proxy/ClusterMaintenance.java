package io.bulwark.proxy;

import io.bulwark.routing.Snapshot;

import io.bulwark.routing.Cluster;
import io.bulwark.routing.Clock;
import io.bulwark.routing.outlier.OutlierDetector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Supplier;

/**
 * The periodic work of the clusters in force, run on the background thread: re-resolving
 * hostname endpoints every {@code dns-refresh}, ticking each cluster's outlier detector every
 * {@code outlier-detection.interval} (interval-based detectors, readmission), and running its latency
 * detector every second when {@code outlier-detection.latency} is set. It reads the
 * current snapshot on every run, so clusters added or changed by a reload are picked up.
 */
final class ClusterMaintenance implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterMaintenance.class);

    private static final long LATENCY_CHECK = OutlierDetector.LATENCY_CHECK_INTERVAL.toNanos();

    private final Supplier<Snapshot> snapshot;
    private final Cluster.Resolver resolver;
    private final Clock clock;
    /** Next due times per cluster object; weak so replaced clusters drop out. */
    private final Map<Cluster, long[]> due = new WeakHashMap<>();

    ClusterMaintenance(Supplier<Snapshot> snapshot, Cluster.Resolver resolver, Clock clock) {
        this.snapshot = snapshot;
        this.resolver = resolver;
        this.clock = clock;
    }

    @Override
    public void run() {
        long now = clock.nanoTime();
        for (Cluster cluster : snapshot.get().clusters().values()) {
            long[] next = due.computeIfAbsent(cluster, c -> new long[] {
                now + c.config().dnsRefresh().toNanos(), now + c.tickInterval().toNanos(), now + LATENCY_CHECK});
            try {
                if (now - next[0] >= 0) {
                    next[0] = now + cluster.config().dnsRefresh().toNanos();
                    if (cluster.hasHostnameEndpoints()) {
                        cluster.resolve(resolver);
                    }
                }
                if (now - next[1] >= 0) {
                    next[1] = now + cluster.tickInterval().toNanos();
                    cluster.tick();
                }
                if (now - next[2] >= 0 && cluster.config().outlierDetection().latency().isPresent()) {
                    next[2] = now + LATENCY_CHECK;
                    cluster.checkLatency();
                }
            } catch (RuntimeException e) {
                LOG.warn("maintenance of cluster {} failed: {}", cluster.name(), e.toString());
            }
        }
    }
}
