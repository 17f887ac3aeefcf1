package io.bulwark.proxy.health;

import io.bulwark.config.HealthCheckConfig;
import io.bulwark.proxy.transport.Transport;
import io.bulwark.routing.Clock;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.health.DelayScheduler;
import io.bulwark.routing.health.HealthCheckScheduler;
import io.bulwark.routing.health.Prober;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.bulwark.proxy.tls.TlsContexts;

import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Runs the active health checks of every cluster in force that has a {@code health-check}
 * block (HTTP by {@link NettyProber}, gRPC by {@link GrpcHealthProber} when it names a
 * {@code grpc-service}): one scheduler per cluster on one of the worker event loops, fed the cluster's current
 * upstreams on every {@link #sync} (after DNS refreshes and reloads). Each check result goes to
 * the cluster's outlier detector too, which readmits probe-mode ejections on a pass.
 */
public final class HealthChecks implements AutoCloseable {

    private final EventLoopGroup group;
    private final Transport transport;
    private final Clock clock;
    private final EventSink events;
    private final TlsContexts tls;
    private final Map<Cluster, HealthCheckScheduler> schedulers = new IdentityHashMap<>();

    public HealthChecks(EventLoopGroup group, Transport transport, Clock clock, EventSink events, TlsContexts tls) {
        this.group = group;
        this.transport = transport;
        this.clock = clock;
        this.events = events;
        this.tls = tls;
    }

    /** Starts checks for new clusters, updates the upstream lists, stops those of replaced clusters. */
    public synchronized void sync(Collection<Cluster> clusters) {
        Map<Cluster, Boolean> current = new IdentityHashMap<>();
        for (Cluster c : clusters) {
            if (c.config().healthCheck().isEmpty()) {
                continue;
            }
            current.put(c, Boolean.TRUE);
            HealthCheckScheduler scheduler = schedulers.computeIfAbsent(c, this::start);
            scheduler.update(c.upstreams());
        }
        for (Cluster gone : new ArrayList<>(schedulers.keySet())) {
            if (!current.containsKey(gone)) {
                schedulers.remove(gone).close();
            }
        }
    }

    private HealthCheckScheduler start(Cluster c) {
        EventLoop loop = group.next();
        HealthCheckConfig check = c.config().healthCheck().orElseThrow();
        Prober prober = check.grpcService().isPresent()
                ? new GrpcHealthProber(loop, transport, tls, c.config(), check.grpcService().get())
                : new NettyProber(loop, transport, tls, c.config());
        return new HealthCheckScheduler(check, prober, DelayScheduler.of(loop),
                clock, events, c.outlierDetector().healthCheckListener());
    }

    @Override
    public synchronized void close() {
        schedulers.values().forEach(HealthCheckScheduler::close);
        schedulers.clear();
    }
}
