package io.bulwark.proxy.server;

import io.bulwark.routing.Clock;

import io.bulwark.routing.Snapshot;
import io.bulwark.proxy.log.AccessLog;
import io.bulwark.proxy.metrics.ProxyMetrics;
import io.bulwark.proxy.pool.ConnectionPools;
import io.bulwark.proxy.tls.TlsContexts;
import io.netty.channel.group.ChannelGroup;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What every downstream connection of one proxy shares: the current routing snapshot, the
 * upstream pools, metrics, the access log, and the drain state used by graceful shutdown.
 */
public final class ProxyContext {

    private final AtomicReference<Snapshot> snapshot;
    private final ConnectionPools pools;
    private final ProxyMetrics metrics;
    private final AccessLog accessLog;
    private final ChannelGroup connections;
    private final AtomicInteger activeExchanges = new AtomicInteger();
    private final AtomicInteger tunnels = new AtomicInteger();
    private final FaultInjection faults = new FaultInjection();
    private final TlsContexts tls;
    private final Clock clock;
    private volatile boolean draining;

    public ProxyContext(AtomicReference<Snapshot> snapshot, ConnectionPools pools, ProxyMetrics metrics,
                        AccessLog accessLog, ChannelGroup connections, TlsContexts tls) {
        this(snapshot, pools, metrics, accessLog, connections, tls, Clock.SYSTEM);
    }

    /** @param clock the data plane's time: request durations and deadlines (timers run on the event loops) */
    public ProxyContext(AtomicReference<Snapshot> snapshot, ConnectionPools pools, ProxyMetrics metrics,
                        AccessLog accessLog, ChannelGroup connections, TlsContexts tls, Clock clock) {
        this.clock = clock;
        this.tls = tls;
        this.snapshot = snapshot;
        this.pools = pools;
        this.metrics = metrics;
        this.accessLog = accessLog;
        this.connections = connections;
    }

    /** The one clock the data plane reads (injected, so tests can drive it). */
    public Clock clock() {
        return clock;
    }

    /** The snapshot a new request routes with. */
    public Snapshot snapshot() {
        return snapshot.get();
    }

    public ConnectionPools pools() {
        return pools;
    }

    public ProxyMetrics metrics() {
        return metrics;
    }

    public AccessLog accessLog() {
        return accessLog;
    }

    /** The listener's and the upstreams' TLS contexts. */
    public TlsContexts tls() {
        return tls;
    }

    /** Per-route fault injection, switchable at run time. */
    public FaultInjection faults() {
        return faults;
    }

    /** Every open downstream connection. */
    public ChannelGroup connections() {
        return connections;
    }

    /** Requests between their headers arriving and their response being complete. */
    public int activeExchanges() {
        return activeExchanges.get();
    }

    /** Open WebSocket/upgrade tunnels. */
    public int tunnels() {
        return tunnels.get();
    }

    /** True once shutdown began: responses carry {@code Connection: close} and idle connections are closed. */
    public boolean draining() {
        return draining;
    }

    public void startDraining() {
        draining = true;
    }

    void exchangeStarted() {
        activeExchanges.incrementAndGet();
    }

    void exchangeEnded() {
        activeExchanges.decrementAndGet();
    }

    void tunnelOpened() {
        tunnels.incrementAndGet();
    }

    void tunnelClosed() {
        tunnels.decrementAndGet();
    }
}
