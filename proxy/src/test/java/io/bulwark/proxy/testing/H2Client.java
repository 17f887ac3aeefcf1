package io.bulwark.proxy.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real HTTP/2 client for tests: Netty's frame codec over one h2c connection with prior
 * knowledge (the JDK's client has no h2c without an upgrade), each request on a stream of its own.
 */
public final class H2Client implements AutoCloseable {

    /**
     * @param resetCode the RST_STREAM code the stream ended with instead of a response, or -1
     */
    public record Response(int status, Http2Headers headers, String body, Http2Headers trailers, long resetCode) {
        public String header(String name) {
            CharSequence v = headers == null ? null : headers.get(name);
            return v == null ? null : v.toString();
        }
    }

    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;

    private H2Client(int port) throws InterruptedException {
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
    }

    /** An h2c connection with prior knowledge to 127.0.0.1:{@code port}. */
    public static H2Client h2c(int port) throws InterruptedException {
        return new H2Client(port);
    }

    public boolean isOpen() {
        return channel.isActive();
    }

    public Response get(String path) throws Exception {
        return send("GET", path, Map.of(), null).get(10, TimeUnit.SECONDS);
    }

    /**
     * Sends one request on a new stream.
     *
     * @param body null for none (END_STREAM on HEADERS)
     */
    public CompletableFuture<Response> send(String method, String path, Map<String, String> headers, byte[] body) {
        CompletableFuture<Response> result = new CompletableFuture<>();
        Http2Headers h = new DefaultHttp2Headers(false).method(method).path(path).scheme("http")
                .authority("localhost");
        headers.forEach(h::add);
        new Http2StreamChannelBootstrap(channel).handler(new Collector(result)).open().addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(f.cause());
                return;
            }
            Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
            stream.write(new DefaultHttp2HeadersFrame(h, body == null));
            if (body != null) {
                stream.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
            }
            stream.flush();
        });
        return result;
    }

    /** Collects one stream's response: head, DATA, trailers, or the reset that ended it. */
    private static final class Collector extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<Response> result;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private Http2Headers head;
        private boolean noErrorReset;

        Collector(CompletableFuture<Response> result) {
            this.result = result;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame h) {
                    if (head == null || isInformational(head)) {
                        head = h.headers();
                        if (h.isEndStream()) {
                            done(null);
                        }
                    } else {
                        done(h.headers());
                    }
                } else if (msg instanceof Http2DataFrame d) {
                    ByteBuf c = d.content();
                    byte[] bytes = new byte[c.readableBytes()];
                    c.readBytes(bytes);
                    body.writeBytes(bytes);
                    if (d.isEndStream()) {
                        done(null);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private static boolean isInformational(Http2Headers h) {
            CharSequence s = h.status();
            return s != null && s.length() == 3 && s.charAt(0) == '1';
        }

        private void done(Http2Headers trailers) {
            result.complete(new Response(Integer.parseInt(head.status().toString()), head,
                    body.toString(StandardCharsets.UTF_8), trailers, -1));
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame reset && !result.isDone()) {
                if (reset.errorCode() == 0 && head != null) {
                    // NO_ERROR after a complete response (RFC 9113 §8.1): the DATA still queued for this
                    // stream is the response; the stream's close completes it
                    noErrorReset = true;
                } else {
                    result.complete(new Response(head == null ? 0 : Integer.parseInt(head.status().toString()), head,
                            body.toString(StandardCharsets.UTF_8), null, reset.errorCode()));
                }
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!result.isDone() && noErrorReset) {
                done(null);
            }
            if (!result.isDone()) {
                result.completeExceptionally(new IllegalStateException("stream closed without a response"));
            }
        }
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
