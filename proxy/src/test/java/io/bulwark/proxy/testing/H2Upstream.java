package io.bulwark.proxy.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP/2 upstream for tests (Netty's frame codec and stream multiplexer): h2c with prior
 * knowledge, or h2 over TLS with ALPN. Each request is answered by its path:
 * <ul>
 * <li>{@code /trailers}: a body, then trailers {@code x-trailer: done};</li>
 * <li>{@code /trailers-only}: one HEADERS frame that ends the stream ({@code x-only: yes});</li>
 * <li>{@code /bad-length}: {@code content-length: 10} but 3 bytes of DATA;</li>
 * <li>{@code /slow}: the echo after 300ms;</li>
 * <li>anything else: a JSON echo (no content-length) of the method, path, authority, scheme, the
 *     header names and the body size.</li>
 * </ul>
 * {@link Mode#GOAWAY} answers every stream with a GOAWAY whose last stream id is below it (never
 * processed), {@link Mode#HOLD} never answers. It records every request's headers, the streams
 * open per connection at most, and its connections.
 */
public final class H2Upstream implements AutoCloseable {

    public enum Mode { ECHO, GOAWAY, HOLD }

    private static final AttributeKey<AtomicInteger> OPEN = AttributeKey.valueOf("h2upstream.open");

    private final String name;
    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final Channel server;
    private final Set<Channel> connections = ConcurrentHashMap.newKeySet();
    private final List<Http2Headers> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger answered = new AtomicInteger();
    private final AtomicInteger held = new AtomicInteger();
    private final AtomicInteger maxOpenPerConnection = new AtomicInteger();
    private final AtomicInteger connectionsAccepted = new AtomicInteger();
    private volatile Mode mode = Mode.ECHO;

    private H2Upstream(String name, SslContext tls, int maxConcurrentStreams) throws InterruptedException {
        this.name = name;
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        connectionsAccepted.incrementAndGet();
                        ch.closeFuture().addListener(f -> connections.remove(ch));
                        ch.attr(OPEN).set(new AtomicInteger());
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        Http2Settings settings = Http2Settings.defaultSettings();
                        if (maxConcurrentStreams > 0) {
                            settings.maxConcurrentStreams(maxConcurrentStreams);
                        }
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().initialSettings(settings).build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                            @Override
                            protected void initChannel(Http2StreamChannel stream) {
                                stream.pipeline().addLast(new StreamHandler());
                            }
                        }));
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    /** h2c with prior knowledge. */
    public static H2Upstream h2c(String name) throws InterruptedException {
        return new H2Upstream(name, null, 0);
    }

    /** h2c, announcing {@code SETTINGS_MAX_CONCURRENT_STREAMS = maxConcurrentStreams}. */
    public static H2Upstream h2c(String name, int maxConcurrentStreams) throws InterruptedException {
        return new H2Upstream(name, null, maxConcurrentStreams);
    }

    /** h2 over TLS; {@code tls} must select h2 by ALPN. */
    public static H2Upstream tls(String name, SslContext tls) throws InterruptedException {
        return new H2Upstream(name, tls, 0);
    }

    public String address() {
        return "127.0.0.1:" + ((java.net.InetSocketAddress) server.localAddress()).getPort();
    }

    public void mode(Mode mode) {
        this.mode = mode;
    }

    /** The header lists of every request, as they arrived. */
    public List<Http2Headers> received() {
        return received;
    }

    /** Requests answered (a GOAWAY'd or held stream is not). */
    public int answered() {
        return answered.get();
    }

    /** Streams held unanswered in {@link Mode#HOLD}. */
    public int held() {
        return held.get();
    }

    /** The most streams one connection had open at once. */
    public int maxOpenPerConnection() {
        return maxOpenPerConnection.get();
    }

    public int connectionsAccepted() {
        return connectionsAccepted.get();
    }

    /** Closes every client connection at once (a connection-level failure for the client). */
    public void killConnections() {
        connections.forEach(Channel::close);
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class StreamHandler extends ChannelInboundHandlerAdapter {
        private Http2Headers request;
        private long bodyBytes;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame headers && request == null) {
                    request = headers.headers();
                    received.add(request);
                    AtomicInteger open = ctx.channel().parent().attr(OPEN).get();
                    maxOpenPerConnection.accumulateAndGet(open.incrementAndGet(), Math::max);
                    ctx.channel().closeFuture().addListener(f -> open.decrementAndGet());
                    if (mode == Mode.GOAWAY) {
                        goAwayBelow(ctx);
                        return;
                    }
                    if (mode == Mode.HOLD) {
                        held.incrementAndGet();
                        return;
                    }
                    if (headers.isEndStream()) {
                        answer(ctx);
                    }
                } else if (msg instanceof Http2DataFrame data) {
                    bodyBytes += data.content().readableBytes();
                    if (data.isEndStream() && mode == Mode.ECHO) {
                        answer(ctx);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        /** GOAWAY with a last stream id below this stream's: the client must treat it as never processed. */
        private void goAwayBelow(ChannelHandlerContext ctx) {
            Channel parent = ctx.channel().parent();
            Http2FrameCodec codec = parent.pipeline().get(Http2FrameCodec.class);
            int last = Math.max(0, ((Http2StreamChannel) ctx.channel()).stream().id() - 2);
            codec.goAway(parent.pipeline().context(codec), last, Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER,
                    parent.newPromise());
            parent.flush();
        }

        private void answer(ChannelHandlerContext ctx) {
            String path = request.path().toString();
            answered.incrementAndGet();
            if (path.startsWith("/slow")) {
                ctx.executor().schedule(() -> echo(ctx), 300, TimeUnit.MILLISECONDS);
                return;
            }
            switch (path) {
                case "/trailers" -> {
                    ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                            .add("content-type", "text/plain"), false));
                    ctx.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("body", StandardCharsets.UTF_8), false));
                    ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("x-trailer", "done"),
                            true));
                }
                case "/trailers-only" -> ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers()
                        .status("200").add("content-type", "text/plain").add("x-only", "yes"), true));
                case "/bad-length" -> {
                    ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                            .add("content-length", "10"), false));
                    ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("abc", StandardCharsets.UTF_8),
                            true));
                }
                default -> echo(ctx);
            }
        }

        private void echo(ChannelHandlerContext ctx) {
            StringBuilder names = new StringBuilder();
            for (Map.Entry<CharSequence, CharSequence> e : request) {
                if (names.length() > 0) {
                    names.append(',');
                }
                names.append('"').append(e.getKey()).append('"');
            }
            String json = "{\"upstream\":\"" + name + "\",\"method\":\"" + request.method()
                    + "\",\"path\":\"" + request.path() + "\",\"authority\":\"" + request.authority()
                    + "\",\"scheme\":\"" + request.scheme() + "\",\"body_bytes\":" + bodyBytes
                    + ",\"names\":[" + names + "]}";
            ByteBuf body = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
            ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                    .add("content-type", "application/json").add("x-upstream", name), false));
            ctx.writeAndFlush(new DefaultHttp2DataFrame(body, true));
        }
    }
}
