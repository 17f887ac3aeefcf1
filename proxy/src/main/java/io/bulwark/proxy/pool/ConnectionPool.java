package io.bulwark.proxy.pool;

import io.bulwark.config.ClusterConfig;
import io.bulwark.routing.Upstream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.ssl.SslHandler;

import io.netty.handler.ssl.ApplicationProtocolNames;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The upstream connections of one event loop (as Zuul's {@code PerServerConnectionPool}): only
 * ever touched from that loop, so it needs no locks. Idle connections are reused most recently
 * used first, so surplus ones age out; the open-connection cap per upstream is shared by all
 * loops through {@link ConnectionPools}.
 */
public final class ConnectionPool {

    /** Told when a connection is ready, or why there is none. Called on the pool's event loop. */
    public interface AcquireCallback {
        void onAcquired(UpstreamConnection connection);

        /** @param connectFailure true when the connection attempt itself failed (nothing was sent) */
        void onAcquireFailed(Throwable cause, boolean connectFailure);
    }

    /** Upstream response limits: generous, since upstreams are trusted more than clients. */
    private static final HttpDecoderConfig UPSTREAM_DECODER = new HttpDecoderConfig()
            .setMaxInitialLineLength(16 * 1024)
            .setMaxHeaderSize(64 * 1024)
            .setMaxChunkSize(64 * 1024);

    private final EventLoop loop;
    private final ConnectionPools pools;
    private final Map<Upstream, ArrayDeque<UpstreamConnection>> idle = new IdentityHashMap<>();
    private final Map<Upstream, ArrayDeque<Waiter>> waiters = new IdentityHashMap<>();
    /** HTTP/2 connections (clusters with {@code protocol = http2}), busy or not; their streams are leased. */
    private final Map<Upstream, ArrayList<Http2Connection>> multiplexed = new IdentityHashMap<>();
    /** The stream limit each HTTP/2 upstream announced last (SETTINGS_MAX_CONCURRENT_STREAMS). */
    private final Map<Upstream, Integer> streamLimits = new IdentityHashMap<>();

    private record Waiter(ClusterConfig cluster, AcquireCallback callback) {
    }

    ConnectionPool(EventLoop loop, ConnectionPools pools) {
        this.loop = loop;
        this.pools = pools;
    }

    public EventLoop eventLoop() {
        return loop;
    }

    /**
     * Hands {@code callback} an idle pooled connection to {@code upstream}, or a new one when the
     * cap allows, or queues it until a connection frees up.
     *
     * @return true when the request was queued (it waits for a connection: a pending request);
     *     false when the callback was called already or a connection is being made for it
     */
    public boolean acquire(Upstream upstream, ClusterConfig cluster, AcquireCallback callback) {
        return acquire(upstream, cluster, false, callback);
    }

    /**
     * @param fresh skip idle pooled connections (after the keep-alive race: the others idle as long
     *     may be stale too) and use a new one
     */
    public boolean acquire(Upstream upstream, ClusterConfig cluster, boolean fresh, AcquireCallback callback) {
        assert loop.inEventLoop();
        if (cluster.protocol().http2()) {
            return acquireStream(upstream, cluster, callback);
        }
        if (fresh) {
            closeIdle(upstream); // frees their slots under the cap for the new connection
        }
        UpstreamConnection connection = fresh ? null : pollIdle(upstream);
        if (connection != null) {
            callback.onAcquired(connection);
            return false;
        }
        if (pools.tryReserve(upstream, cluster.pool().maxConnectionsPerUpstream())) {
            connect(upstream, cluster, callback);
            return false;
        }
        waiters.computeIfAbsent(upstream, u -> new ArrayDeque<>()).add(new Waiter(cluster, callback));
        pools.waiterAdded(upstream);
        return true;
    }

    /**
     * A stream on an HTTP/2 connection to {@code upstream} with room for one more (the first such,
     * so streams gather on few connections), or on a new connection when the cap allows, or queued.
     */
    private boolean acquireStream(Upstream upstream, ClusterConfig cluster, AcquireCallback callback) {
        Http2Connection connection = withRoom(upstream);
        if (connection == null && pools.tryReserve(upstream, cluster.pool().maxConnectionsPerUpstream())) {
            connection = connectHttp2(upstream, cluster);
        }
        if (connection != null) {
            connection.lease(callback);
            return false;
        }
        waiters.computeIfAbsent(upstream, u -> new ArrayDeque<>()).add(new Waiter(cluster, callback));
        pools.waiterAdded(upstream);
        return true;
    }

    private Http2Connection withRoom(Upstream upstream) {
        ArrayList<Http2Connection> list = multiplexed.get(upstream);
        if (list != null) {
            for (Http2Connection c : list) {
                if (c.hasRoom()) {
                    return c;
                }
            }
        }
        return null;
    }

    /** HTTP/2 connections to {@code upstream} on this loop (open or being made). */
    public int http2Connections(Upstream upstream) {
        ArrayList<Http2Connection> list = multiplexed.get(upstream);
        return list == null ? 0 : list.size();
    }

    /** Streams in use on the HTTP/2 connections to {@code upstream} on this loop. */
    public int http2Streams(Upstream upstream) {
        ArrayList<Http2Connection> list = multiplexed.get(upstream);
        return list == null ? 0 : list.stream().mapToInt(Http2Connection::streams).sum();
    }

    /** A stream slot freed up on {@code connection} (or its upstream allows more): a waiter takes it. */
    /** The stream limit {@code upstream} announced on its latest connection; unlimited before any. */
    int knownStreamLimit(Upstream upstream) {
        return streamLimits.getOrDefault(upstream, Integer.MAX_VALUE);
    }

    void rememberStreamLimit(Upstream upstream, long limit) {
        streamLimits.put(upstream, (int) Math.max(1, Math.min(Integer.MAX_VALUE, limit)));
    }

    void streamFreed(Http2Connection connection) {
        ArrayDeque<Waiter> queue = waiters.get(connection.upstream());
        while (queue != null && !queue.isEmpty() && connection.hasRoom()) {
            Waiter w = queue.poll();
            pools.waiterRemoved(connection.upstream());
            connection.lease(w.callback());
        }
    }

    /** An HTTP/2 connection closed: it takes no more streams (its slot under the cap is freed by its close future). */
    void connectionClosed(Http2Connection connection) {
        ArrayList<Http2Connection> list = multiplexed.get(connection.upstream());
        if (list != null) {
            list.remove(connection);
            if (list.isEmpty()) {
                multiplexed.remove(connection.upstream());
                streamLimits.remove(connection.upstream()); // learnt again by the next connection
            }
        }
    }

    long idleTimeoutNanos(Upstream upstream) {
        return pools.idleTimeout(upstream).toNanos();
    }

    private Http2Connection connectHttp2(Upstream upstream, ClusterConfig cluster) {
        Http2Connection connection = new Http2Connection(this, upstream, cluster.protocol().maxConcurrentStreams());
        multiplexed.computeIfAbsent(upstream, u -> new ArrayList<>(2)).add(connection);
        boolean tls = cluster.tls();
        ChannelFuture future = pools.connector().connect(loop, upstream.socketAddress(), cluster.connectTimeout(),
                connection.initializer(p -> {
                    if (tls) {
                        // ALPN offers h2 alone: an upstream that does not speak it fails the connect.
                        p.addLast("tls", pools.tls().clientHandler(p.channel().alloc(), upstream, cluster, true));
                    }
                }, tls));
        connection.attach(future.channel());
        future.channel().closeFuture().addListener(f -> {
            connectionClosed(connection);
            onClosed(upstream);
        });
        future.addListener(f -> {
            if (!f.isSuccess()) {
                connection.connectFailed(f.cause());
            } else if (tls) {
                SslHandler ssl = future.channel().pipeline().get(SslHandler.class);
                ssl.handshakeFuture().addListener(h -> {
                    if (!h.isSuccess()) {
                        connection.connectFailed(h.cause());
                    } else if (!ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol())) {
                        connection.connectFailed(new javax.net.ssl.SSLHandshakeException("the upstream did not"
                                + " choose h2 by ALPN (it answered " + ssl.applicationProtocol() + ")"));
                    } else {
                        connection.ready();
                    }
                });
            } else {
                connection.ready();
            }
        });
        return connection;
    }

    /** Number of idle pooled connections to {@code upstream} on this loop. */
    public int idleCount(Upstream upstream) {
        ArrayDeque<UpstreamConnection> q = idle.get(upstream);
        return q == null ? 0 : q.size();
    }

    /** Closes every idle connection to {@code upstream} on this loop (drain, removal). */
    public void closeIdle(Upstream upstream) {
        ArrayDeque<UpstreamConnection> q = idle.remove(upstream);
        if (q != null) {
            q.forEach(c -> c.channel().close());
        }
        retireIdleHttp2(multiplexed.get(upstream));
    }

    /** HTTP/2 connections without streams close; busy ones stay, taking streams as before. */
    private static void retireIdleHttp2(ArrayList<Http2Connection> list) {
        if (list != null) {
            for (Http2Connection c : new ArrayList<>(list)) {
                if (c.streams() == 0 && c.channel() != null && c.channel().isActive()) {
                    c.retire();
                }
            }
        }
    }

    /** Closes every idle connection on this loop (shutdown). */
    public void closeAllIdle() {
        // Detach first: closing runs onClosed, which edits the idle queues.
        java.util.List<UpstreamConnection> all = new ArrayList<>();
        idle.values().forEach(all::addAll);
        idle.clear();
        all.forEach(c -> c.channel().close());
        new ArrayList<>(multiplexed.values()).forEach(ConnectionPool::retireIdleHttp2);
    }

    private UpstreamConnection pollIdle(Upstream upstream) {
        ArrayDeque<UpstreamConnection> q = idle.get(upstream);
        while (q != null && !q.isEmpty()) {
            UpstreamConnection c = q.pollFirst();
            c.idleTimer(null);
            if (c.channel().isActive()) {
                return c;
            }
        }
        return null;
    }

    void release(UpstreamConnection connection) {
        assert loop.inEventLoop();
        Channel channel = connection.channel();
        if (!channel.isActive()) {
            return;
        }
        Upstream upstream = connection.upstream();
        if (upstream.admin() != Upstream.AdminState.ACTIVE) {
            channel.close(); // draining: no new requests, so no idle connections either
            return;
        }
        // A waiter for this upstream takes the connection at once.
        ArrayDeque<Waiter> queue = waiters.get(upstream);
        if (queue != null && !queue.isEmpty()) {
            Waiter w = queue.poll();
            pools.waiterRemoved(upstream);
            w.callback().onAcquired(connection);
            return;
        }
        if (pools.waitingFor(upstream) > 0) {
            // A request on another event loop waits for a slot under the cap; an idle connection here
            // would hold that slot for nothing. Closing it frees the slot for that loop.
            channel.close();
            return;
        }
        idle.computeIfAbsent(upstream, u -> new ArrayDeque<>()).addFirst(connection);
        long idleNanos = pools.idleTimeout(upstream).toNanos();
        connection.idleTimer(loop.schedule(() -> {
            ArrayDeque<UpstreamConnection> q = idle.get(upstream);
            if (q != null && q.remove(connection)) {
                channel.close();
            }
        }, idleNanos, TimeUnit.NANOSECONDS));
    }

    private void connect(Upstream upstream, ClusterConfig cluster, AcquireCallback callback) {
        UpstreamConnection connection = new UpstreamConnection(this, upstream);
        boolean tls = cluster.tls();
        ChannelFuture future = pools.connector().connect(loop, upstream.socketAddress(), cluster.connectTimeout(),
                new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ChannelPipeline p = ch.pipeline();
                        if (tls) {
                            p.addLast("tls", pools.tls().clientHandler(ch.alloc(), upstream, cluster));
                        }
                        p.addLast("codec", new HttpClientCodec(UPSTREAM_DECODER, false, false));
                        p.addLast("upstream", connection);
                    }
                });
        future.channel().closeFuture().addListener(f -> onClosed(upstream));
        future.addListener(f -> {
            if (!f.isSuccess()) {
                callback.onAcquireFailed(f.cause(), true);
            } else if (tls) {
                // A connection is only usable once the handshake is done; a failed handshake (untrusted
                // certificate, wrong name) is a connect failure: nothing of the request was sent.
                future.channel().pipeline().get(SslHandler.class).handshakeFuture().addListener(h -> {
                    if (h.isSuccess()) {
                        callback.onAcquired(connection);
                    } else {
                        future.channel().close();
                        callback.onAcquireFailed(h.cause(), true);
                    }
                });
            } else {
                callback.onAcquired(connection);
            }
        });
    }

    /** A connection to {@code upstream} closed: its slot under the cap is free again. */
    private void onClosed(Upstream upstream) {
        ArrayDeque<UpstreamConnection> q = idle.get(upstream);
        if (q != null) {
            q.removeIf(c -> !c.channel().isActive());
        }
        pools.unreserve(upstream);
    }

    /** Gives freed connection slots to this loop's waiters for {@code upstream}. */
    void serveWaiters(Upstream upstream) {
        ArrayDeque<Waiter> queue = waiters.get(upstream);
        while (queue != null && !queue.isEmpty()) {
            Waiter w = queue.peek();
            if (w.cluster().protocol().http2()) {
                Http2Connection c = withRoom(upstream);
                if (c == null && pools.tryReserve(upstream, w.cluster().pool().maxConnectionsPerUpstream())) {
                    c = connectHttp2(upstream, w.cluster());
                }
                if (c == null) {
                    return;
                }
                queue.poll();
                pools.waiterRemoved(upstream);
                c.lease(w.callback());
                continue;
            }
            if (!pools.tryReserve(upstream, w.cluster().pool().maxConnectionsPerUpstream())) {
                return;
            }
            queue.poll();
            pools.waiterRemoved(upstream);
            connect(upstream, w.cluster(), w.callback());
        }
    }

    boolean hasWaiters(Upstream upstream) {
        ArrayDeque<Waiter> queue = waiters.get(upstream);
        return queue != null && !queue.isEmpty();
    }

    /** Removes a waiter that gave up (its request timed out or its client left). */
    public boolean cancelWait(Upstream upstream, AcquireCallback callback) {
        ArrayDeque<Waiter> queue = waiters.get(upstream);
        if (queue != null && queue.removeIf(w -> w.callback() == callback)) {
            pools.waiterRemoved(upstream);
            return true;
        }
        return false;
    }
}
