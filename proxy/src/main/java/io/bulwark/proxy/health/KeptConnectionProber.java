package io.bulwark.proxy.health;

import io.bulwark.routing.Upstream;
import io.bulwark.routing.health.ProbeResult;
import io.bulwark.routing.health.Prober;
import io.netty.channel.EventLoop;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * What the HTTP and gRPC probers share: one kept connection per upstream, touched only on the
 * prober's event loop (calls from other threads are handed to it). A check that timed out
 * abandons its connection, so the next check connects afresh; a released upstream's connection
 * is closed.
 */
abstract class KeptConnectionProber<C extends KeptConnectionProber.Kept> implements Prober {

    /** One upstream's connection and the check in flight on it. */
    interface Kept {
        /** Starts a check; {@code done} is called once, unless the check is abandoned first. */
        void start(Consumer<ProbeResult> done, int timeoutMillis);

        /** Drops the check in flight without reporting it, and the connection with it. */
        void abandon();

        /** The upstream is no longer checked: the connection goes. */
        void close();
    }

    protected final EventLoop loop;
    /** Only touched on {@link #loop}. */
    private final Map<Upstream, C> connections = new HashMap<>();

    KeptConnectionProber(EventLoop loop) {
        this.loop = loop;
    }

    /** A new connection for checks of {@code path} on {@code upstream} (not connected yet). */
    abstract C open(Upstream upstream, String path);

    /** Whether {@code c} can serve checks of {@code path}; otherwise it is closed and replaced. */
    abstract boolean serves(C c, String path);

    /** Number of upstreams with a kept connection or a check in flight; for tests. */
    final int kept() {
        return connections.size();
    }

    @Override
    public final void probe(Upstream upstream, String path, Duration timeout, Consumer<ProbeResult> done) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> probe(upstream, path, timeout, done));
            return;
        }
        C c = connections.get(upstream);
        if (c == null || !serves(c, path)) {
            if (c != null) {
                c.close();
            }
            c = open(upstream, path);
            connections.put(upstream, c);
        }
        c.start(done, (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis())));
    }

    @Override
    public final void timedOut(Upstream upstream) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> timedOut(upstream));
            return;
        }
        C c = connections.get(upstream);
        if (c != null) {
            c.abandon();
        }
    }

    @Override
    public final void release(Upstream upstream) {
        if (!loop.inEventLoop()) {
            try {
                loop.execute(() -> release(upstream));
            } catch (RejectedExecutionException e) {
                // the loop is shutting down, and its connections with it
            }
            return;
        }
        C c = connections.remove(upstream);
        if (c != null) {
            c.close();
        }
    }
}
