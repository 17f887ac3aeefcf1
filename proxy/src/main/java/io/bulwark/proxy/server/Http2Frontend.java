package io.bulwark.proxy.server;

import io.bulwark.config.Http2Config;
import io.bulwark.config.ListenerConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * One downstream HTTP/2 connection (h2 by ALPN or h2c with prior knowledge), at the end of its
 * pipeline: {@link GuardedHttp2FrameCodec} (Netty's limits: streams, header list, resets,
 * CONTINUATION frames, queued control frames, empty DATA frames) → {@link Http2MultiplexHandler}
 * (a child channel per stream, each with an {@link Http2StreamHandler}) → this handler, which sees
 * the connection-level frames: it refuses SETTINGS and PING floods, widens the connection's
 * receive window to its bound, closes the idle connection and, at shutdown, sends GOAWAY and lets
 * the open streams finish.
 */
public final class Http2Frontend extends ChannelInboundHandlerAdapter {

    /** Frames of one kind a client may send per {@link #FLOOD_WINDOW_NANOS}; well above any real client's need. */
    static final int MAX_SETTINGS_PER_WINDOW = 100;
    static final int MAX_PINGS_PER_WINDOW = 200;
    static final long FLOOD_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** The connection's receive window is this many stream windows (Netty starts it at 64KiB - 1). */
    static final int CONNECTION_WINDOW_STREAMS = 4;

    private final ProxyContext proxy;
    private final ListenerConfig listener;
    private final GuardedHttp2FrameCodec codec;
    private ChannelHandlerContext ctx;
    private boolean windowWidened;
    private long windowStart;
    private int settingsInWindow;
    private int pingsInWindow;
    private boolean refused;

    private Http2Frontend(ProxyContext proxy, ListenerConfig listener, GuardedHttp2FrameCodec codec) {
        this.proxy = proxy;
        this.listener = listener;
        this.codec = codec;
    }

    /**
     * Adds the HTTP/2 handlers to {@code p} after the handler named {@code after} (the TLS or
     * protocol-detection step), in their order: idle timer, frame codec, stream multiplexer, this.
     */
    static void install(ChannelPipeline p, String after, ProxyContext proxy, ListenerConfig listener) {
        Http2Config config = listener.http2();
        Http2Settings settings = new Http2Settings()
                .maxConcurrentStreams(config.maxConcurrentStreams())
                .initialWindowSize(config.initialWindowSize())
                .maxHeaderListSize(config.maxHeaderListSize())
                .headerTableSize(Http2CodecUtil.DEFAULT_HEADER_TABLE_SIZE); // the HPACK table: 4KiB, no more
        GuardedHttp2FrameCodec codec = (GuardedHttp2FrameCodec) new GuardedHttp2FrameCodec.Builder(proxy)
                .initialSettings(settings)
                .validateHeaders(true)
                // rapid reset (CVE-2023-44487), and resets a client provokes us into (CVE-2025-8671)
                .decoderEnforceMaxRstFramesPerWindow(config.maxResetsPerMinute(), 60)
                .encoderEnforceMaxRstFramesPerWindow(config.maxResetsPerMinute(), 60)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(2)
                .decoderEnforceMaxSmallContinuationFrames(16)
                .encoderEnforceMaxQueuedControlFrames(1_000)
                .gracefulShutdownTimeoutMillis(proxy.snapshot().config().shutdown().drainTimeout().toMillis())
                .build();
        String peerIp = peerIp(p.channel());
        Http2MultiplexHandler multiplex = new Http2MultiplexHandler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel stream) {
                stream.pipeline().addLast("stream", new Http2StreamHandler(proxy, listener, peerIp));
            }
        });
        long idle = listener.idleTimeout().toMillis();
        String last = after;
        if (idle > 0) {
            p.addAfter(last, "h2-idle", new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS));
            last = "h2-idle";
        }
        p.addAfter(last, "h2-codec", codec);
        p.addAfter("h2-codec", "h2-streams", multiplex);
        p.addAfter("h2-streams", "h2-connection", new Http2Frontend(proxy, listener, codec));
    }

    private static String peerIp(Channel ch) {
        if (ch.remoteAddress() instanceof InetSocketAddress remote) {
            return remote.getAddress() == null ? remote.getHostString() : remote.getAddress().getHostAddress();
        }
        return "";
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        windowStart = System.nanoTime();
        if (ctx.channel().isActive()) {
            widenConnectionWindow();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        widenConnectionWindow();
        ctx.fireChannelActive();
    }

    /**
     * The connection window bounds what all streams of the connection together may have in flight
     * towards us: a few streams' worth, so one upload is not starved by the 64KiB default, and
     * many are still bounded in memory (a paused stream's unread DATA stays within its window).
     */
    private void widenConnectionWindow() {
        if (windowWidened) {
            return;
        }
        windowWidened = true;
        long target = (long) listener.http2().initialWindowSize() * CONNECTION_WINDOW_STREAMS;
        int delta = (int) Math.min(Integer.MAX_VALUE - Http2CodecUtil.DEFAULT_WINDOW_SIZE,
                target - Http2CodecUtil.DEFAULT_WINDOW_SIZE);
        if (delta > 0) {
            ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(delta));
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2SettingsFrame) {
                countFlood(true);
            } else if (msg instanceof Http2PingFrame ping && !ping.ack()) {
                countFlood(false);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void countFlood(boolean settings) {
        long now = System.nanoTime();
        if (now - windowStart >= FLOOD_WINDOW_NANOS) {
            windowStart = now;
            settingsInWindow = 0;
            pingsInWindow = 0;
        }
        boolean flood = settings ? ++settingsInWindow > MAX_SETTINGS_PER_WINDOW
                : ++pingsInWindow > MAX_PINGS_PER_WINDOW;
        if (flood && !refused && ctx.channel().isActive()) {
            refuse(settings ? Http2Refusal.SETTINGS_FLOOD : Http2Refusal.PING_FLOOD);
        }
    }

    /** GOAWAY ENHANCE_YOUR_CALM, then close: streams already open are cut short. */
    private void refuse(Http2Refusal refusal) {
        refused = true; // counted once per connection
        proxy.metrics().http2Refusal(refusal.tag());
        ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.ENHANCE_YOUR_CALM))
                .addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (codec.connection().numActiveStreams() == 0) {
                ctx.close(); // the codec sends GOAWAY first
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** Shutdown: GOAWAY now; the codec closes the connection once its open streams are done. */
    public void closeIfIdle() {
        if (ctx.channel().isActive()) {
            ctx.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Protocol errors were answered (and counted) by the codec; I/O errors are the client's business.
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
            ctx.close();
        }
    }
}
