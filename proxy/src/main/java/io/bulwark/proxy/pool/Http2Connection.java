package io.bulwark.proxy.pool;

import io.bulwark.routing.Upstream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/2 connection to an upstream, shared by many requests, each on a stream of its own, and
 * the last handler of its pipeline: {@code [tls] → Http2FrameCodec → Http2MultiplexHandler → this}.
 * A request leases a stream (an {@link Http2StreamChannel} whose pipeline converts HTTP/1-style
 * messages to frames and back, ending in an {@link UpstreamConnection}), so the request path writes
 * and reads the same {@code HttpObject}s as over HTTP/1.1.
 *
 * <p>It carries at most {@code min(http2.max-concurrent-streams, the upstream's
 * SETTINGS_MAX_CONCURRENT_STREAMS)} streams. A GOAWAY makes it draining: no new streams, the open
 * ones below the upstream's last stream id finish (those above it fail as refused, never
 * processed), then it closes. When the connection itself fails, its streams share one
 * {@link UpstreamConnection.ConnectionFailure}, so the upstream's outlier detection counts the
 * failure once, not once per stream. Confined to its event loop.
 */
final class Http2Connection extends ChannelInboundHandlerAdapter {

    /** Upstream response header lists up to this size (as HTTP/1.1 responses' header limit). */
    private static final int MAX_HEADER_LIST_SIZE = 64 * 1024;
    /** Per-stream receive window: an upstream streams this much of a response before the client must read. */
    static final int STREAM_WINDOW = 256 * 1024;
    /** The connection's receive window: four streams' worth. */
    static final int CONNECTION_WINDOW = 4 * STREAM_WINDOW;
    private static final String HANDLER_NAME = "h2-connection";

    private final ConnectionPool pool;
    private final Upstream upstream;
    private final int maxStreams;
    /** Requests waiting for this connection to be ready (connected, TLS and ALPN done). */
    private final ArrayDeque<ConnectionPool.AcquireCallback> pending = new ArrayDeque<>(2);

    private Channel channel;
    private Http2FrameCodec codec;
    private boolean ready;
    /** The upstream's SETTINGS arrived: its own stream limit is known on this connection. */
    private boolean settled;
    private boolean draining;
    /** Streams leased (open, being opened, or pending until the connection is ready). */
    private int streams;
    private Throwable cause;
    private UpstreamConnection.ConnectionFailure failure;
    private ScheduledFuture<?> idleTimer;

    Http2Connection(ConnectionPool pool, Upstream upstream, int maxStreams) {
        this.pool = pool;
        this.upstream = upstream;
        this.maxStreams = maxStreams;
    }

    /**
     * The handlers of a new connection's pipeline. Over TLS the TLS handler and this one only: the
     * HTTP/2 handlers go between them once the handshake chose h2 by ALPN ({@link #ready()}), so an
     * upstream that did not never gets the connection preface.
     */
    ChannelInitializer<Channel> initializer(java.util.function.Consumer<ChannelPipeline> tls, boolean deferCodec) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                tls.accept(ch.pipeline());
                ch.pipeline().addLast(HANDLER_NAME, Http2Connection.this);
                if (!deferCodec) {
                    addCodec(ch.pipeline());
                }
            }
        };
    }

    private void addCodec(ChannelPipeline p) {
        Http2Settings settings = new Http2Settings()
                .pushEnabled(false)
                .initialWindowSize(STREAM_WINDOW)
                .maxHeaderListSize(MAX_HEADER_LIST_SIZE);
        codec = Http2FrameCodecBuilder.forClient()
                .initialSettings(settings)
                .validateHeaders(true)
                // a stream over the upstream's limit (its SETTINGS can shrink it at any time) waits
                // for a free slot instead of failing
                .encoderEnforceMaxConcurrentStreams(true)
                .build();
        p.addBefore(HANDLER_NAME, "h2-codec", codec);
        p.addBefore(HANDLER_NAME, "h2-streams", new Http2MultiplexHandler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel pushed) {
                pushed.close(); // server push is off; anything else the upstream opens is refused
            }
        }));
    }

    /**
     * The connection's receive window, shared by its streams, is a few streams' windows (Netty starts
     * it at 64KiB): responses on many streams are not throttled by the connection, and what a
     * connection whose clients read slowly can make Bulwark hold stays bounded.
     */
    private void widenConnectionWindow() {
        int delta = CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE;
        channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(delta));
    }

    /** The connection's channel, as soon as the connect attempt has one (before it is registered). */
    void attach(Channel ch) {
        channel = ch;
    }

    Upstream upstream() {
        return upstream;
    }

    Channel channel() {
        return channel;
    }

    /** Whether one more stream may be leased now (or queued until the connection is ready). */
    boolean hasRoom() {
        if (draining || channel != null && ready && !channel.isActive()) {
            return false;
        }
        int cap = maxStreams;
        if (ready && settled) {
            cap = (int) Math.min(cap, codec.connection().local().maxActiveStreams());
        } else {
            // Until this connection hears the upstream's SETTINGS, assume the limit its earlier
            // connections announced: streams opened past it would be refused (and retried) at once.
            cap = Math.min(cap, pool.knownStreamLimit(upstream));
        }
        return streams < cap;
    }

    /** Streams in use on this connection. */
    int streams() {
        return streams;
    }

    /** Leases a stream to {@code callback}: at once when the connection is ready, else when it is. */
    void lease(ConnectionPool.AcquireCallback callback) {
        streams++;
        cancelIdleTimer();
        if (ready) {
            openStream(callback);
        } else {
            pending.add(callback);
        }
    }

    /** The connection is usable (TLS and ALPN done): the waiting leases get their streams. */
    void ready() {
        if (codec == null) {
            addCodec(channel.pipeline()); // sends the connection preface
        }
        widenConnectionWindow();
        ready = true;
        ConnectionPool.AcquireCallback next;
        while ((next = pending.poll()) != null) {
            openStream(next);
        }
        if (streams == 0) {
            startIdleTimer();
        }
    }

    /** The connection could not be made: every waiting lease fails with the same (once counted) failure. */
    void connectFailed(Throwable why) {
        cause = why;
        draining = true;
        UpstreamConnection.ConnectionFailure shared = failure();
        ConnectionPool.AcquireCallback next;
        while ((next = pending.poll()) != null) {
            streams--;
            next.onAcquireFailed(shared, true);
        }
        if (channel != null) {
            channel.close();
        }
    }

    private void openStream(ConnectionPool.AcquireCallback callback) {
        UpstreamConnection stream = new UpstreamConnection(pool, upstream, this);
        Future<Http2StreamChannel> opened = new Http2StreamChannelBootstrap(channel)
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel ch) {
                        ch.pipeline().addLast("codec", new Http2StreamFrameToHttpObjectCodec(false, true));
                        ch.pipeline().addLast("upstream", stream);
                    }
                })
                .open();
        opened.addListener(f -> {
            if (f.isSuccess()) {
                Http2StreamChannel ch = opened.getNow();
                ch.closeFuture().addListener(c -> streamEnded());
                callback.onAcquired(stream);
            } else {
                streamEnded();
                callback.onAcquireFailed(channel.isActive() ? new UpstreamConnection.RefusedStreamException(
                        "no stream could be opened: " + f.cause()) : failure(), channel.isActive());
            }
        });
    }

    /** A stream of this connection closed (or a lease ended before it got one): its slot is free. */
    private void streamEnded() {
        streams--;
        if (channel == null || !channel.isActive()) {
            return;
        }
        if (draining) {
            if (streams == 0) {
                channel.close();
            }
            return;
        }
        pool.streamFreed(this);
        if (streams == 0) {
            startIdleTimer();
        }
    }

    /** The connection failed ({@code why}): its streams share one failure, and it takes no more. */
    UpstreamConnection.ConnectionFailure failure(Throwable why) {
        if (cause == null) {
            cause = why;
        }
        draining = true;
        return failure();
    }

    /** What the streams that failed because this connection failed report: one shared failure. */
    UpstreamConnection.ConnectionFailure failure() {
        if (failure == null) {
            failure = new UpstreamConnection.ConnectionFailure(upstream.address(), cause);
        }
        return failure;
    }

    /** Whether the connection is still open (a stream closing while it is not failed with it). */
    boolean isActive() {
        return channel != null && channel.isActive();
    }

    /** No new streams; closes once the open ones are done (drain, shutdown, pool retirement). */
    void retire() {
        draining = true;
        if (streams == 0 && channel != null) {
            channel.close();
        }
    }

    private void startIdleTimer() {
        cancelIdleTimer();
        long nanos = pool.idleTimeoutNanos(upstream);
        idleTimer = channel.eventLoop().schedule(() -> {
            idleTimer = null;
            if (streams == 0) {
                retire();
            }
        }, nanos, TimeUnit.NANOSECONDS);
    }

    private void cancelIdleTimer() {
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
    }

    // ------------------------------------------------------------------ the connection's own frames and events

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2GoAwayFrame) {
                // Streams above its last stream id were told apart by the multiplexer (refused, safe to retry);
                // the rest finish. No new streams here.
                draining = true;
                if (streams == 0) {
                    ctx.close();
                }
            } else if (msg instanceof Http2SettingsFrame) {
                settled = true;
                if (codec != null) {
                    pool.rememberStreamLimit(upstream, codec.connection().local().maxActiveStreams());
                }
                if (ready && !draining) {
                    pool.streamFreed(this); // the upstream may allow more streams now
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable why) {
        if (cause == null) {
            cause = why;
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        draining = true;
        cancelIdleTimer();
        pool.connectionClosed(this);
        ctx.fireChannelInactive();
    }
}
