package io.bulwark.proxy.pool;

import io.bulwark.proxy.transport.Transport;
import io.bulwark.routing.Upstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import java.net.InetSocketAddress;
import io.netty.channel.EventLoopGroup;
import io.bulwark.proxy.tls.TlsContexts;
import io.netty.util.concurrent.EventExecutor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * All per-event-loop {@link ConnectionPool}s of the proxy, and what they share: the cap on open
 * connections per upstream, counted across loops with one atomic per upstream.
 */
public final class ConnectionPools {

    private final Transport transport;
    private final Map<EventExecutor, ConnectionPool> byLoop = new IdentityHashMap<>();
    private final List<ConnectionPool> all = new ArrayList<>();
    private final ConcurrentHashMap<Upstream, AtomicInteger> open = new ConcurrentHashMap<>();
    private final AtomicInteger waiting = new AtomicInteger();
    private final ConcurrentHashMap<Upstream, AtomicInteger> waitingFor = new ConcurrentHashMap<>();
    private final Function<Upstream, Duration> idleTimeouts;
    private final TlsContexts tls;
    private final Connector connector;

    /** Opens one connection to an upstream on a loop; the pool adds the handlers through {@code initializer}. */
    @FunctionalInterface
    public interface Connector {
        ChannelFuture connect(EventLoop loop, InetSocketAddress address, Duration connectTimeout,
                              ChannelHandler initializer);
    }

    /**
     * @param idleTimeouts the pool idle timeout of an upstream's cluster
     */
    public ConnectionPools(EventLoopGroup group, Transport transport, Function<Upstream, Duration> idleTimeouts,
                           TlsContexts tls) {
        this(group, transport, idleTimeouts, tls, sockets(transport));
    }

    /** With another way to open connections (tests hand out embedded channels). */
    public ConnectionPools(EventLoopGroup group, Transport transport, Function<Upstream, Duration> idleTimeouts,
                           TlsContexts tls, Connector connector) {
        this.connector = connector;
        this.tls = tls;
        this.transport = transport;
        this.idleTimeouts = idleTimeouts;
        for (EventExecutor executor : group) {
            ConnectionPool pool = new ConnectionPool((EventLoop) executor, this);
            byLoop.put(executor, pool);
            all.add(pool);
        }
    }

    /** The pool of the given event loop (the one the downstream connection lives on). */
    /** TCP connections through {@code transport}, with the proxy's socket options. */
    static Connector sockets(Transport transport) {
        return (loop, address, connectTimeout, initializer) -> new Bootstrap()
                .group(loop)
                .channel(transport.socketChannelClass())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        Math.max(1, connectTimeout.toMillis())))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .handler(initializer)
                .connect(address);
    }

    Connector connector() {
        return connector;
    }

    public ConnectionPool forLoop(EventExecutor loop) {
        ConnectionPool pool = byLoop.get(loop);
        if (pool == null) {
            throw new IllegalStateException("not an event loop of the proxy: " + loop);
        }
        return pool;
    }

    /** Open connections (busy and idle, all loops) to {@code upstream}. */
    public int openConnections(Upstream upstream) {
        AtomicInteger n = open.get(upstream);
        return n == null ? 0 : n.get();
    }

    /** Closes the idle connections to {@code upstream} on every loop. */
    public void closeIdle(Upstream upstream) {
        for (ConnectionPool pool : all) {
            pool.eventLoop().execute(() -> pool.closeIdle(upstream));
        }
    }

    /** Closes every idle connection on every loop. */
    public void closeAllIdle() {
        for (ConnectionPool pool : all) {
            pool.eventLoop().execute(pool::closeAllIdle);
        }
    }

    Transport transport() {
        return transport;
    }

    Duration idleTimeout(Upstream upstream) {
        return idleTimeouts.apply(upstream);
    }

    boolean tryReserve(Upstream upstream, int max) {
        AtomicInteger n = open.computeIfAbsent(upstream, u -> new AtomicInteger());
        while (true) {
            int current = n.get();
            if (current >= max) {
                return false;
            }
            if (n.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    void unreserve(Upstream upstream) {
        AtomicInteger n = open.get(upstream);
        if (n != null) {
            n.decrementAndGet();
        }
        if (waiting.get() > 0) {
            // A slot freed up; any loop may have a request waiting for it.
            for (ConnectionPool pool : all) {
                pool.eventLoop().execute(() -> pool.serveWaiters(upstream));
            }
        }
    }

    void waiterAdded(Upstream upstream) {
        waiting.incrementAndGet();
        waitingFor.computeIfAbsent(upstream, u -> new AtomicInteger()).incrementAndGet();
    }

    void waiterRemoved(Upstream upstream) {
        waiting.decrementAndGet();
        AtomicInteger n = waitingFor.get(upstream);
        if (n != null) {
            n.decrementAndGet();
        }
    }

    /** Requests waiting for a connection to {@code upstream}, on every loop. */
    int waitingFor(Upstream upstream) {
        AtomicInteger n = waitingFor.get(upstream);
        return n == null ? 0 : n.get();
    }

    TlsContexts tls() {
        return tls;
    }
}
