package io.bulwark.proxy.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * An HTTP/1.1 upstream that answers as a gRPC server does (until upstream HTTP/2 exists, the
 * proxy reaches upstreams over HTTP/1.1 only): 200, {@code content-type: application/grpc}, and the
 * call's status either in the head with no body (a trailers-only response) or in the trailers
 * after a streamed body. Counts the calls and keeps their request headers.
 */
public final class GrpcLikeUpstream implements AutoCloseable {

    /**
     * How one call is answered.
     *
     * @param grpcStatus the {@code grpc-status}
     * @param body null: trailers-only (status in the head, no body); else this body, then the
     *     status in the trailers
     * @param delayMillis wait this long before answering
     */
    public record Answer(int grpcStatus, String body, long delayMillis) {
        public static Answer trailersOnly(int grpcStatus) {
            return new Answer(grpcStatus, null, 0);
        }

        public static Answer streamed(String body, int trailerStatus) {
            return new Answer(trailerStatus, body, 0);
        }

        public Answer delayed(long millis) {
            return new Answer(grpcStatus, body, millis);
        }
    }

    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final AtomicInteger calls = new AtomicInteger();
    private final List<HttpHeaders> received = new CopyOnWriteArrayList<>();
    private final String name;
    /** Gets the call's number (1 for the first) and answers it. */
    private volatile IntFunction<Answer> answers;
    private Channel server;

    private GrpcLikeUpstream(String name, IntFunction<Answer> answers) {
        this.name = name;
        this.answers = answers;
    }

    public static GrpcLikeUpstream start(String name, IntFunction<Answer> answers) throws InterruptedException {
        GrpcLikeUpstream u = new GrpcLikeUpstream(name, answers);
        u.server = new ServerBootstrap()
                .group(u.group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec()).addLast(u.new Responder());
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
        return u;
    }

    /** Answers every call with {@code answer}. */
    public static GrpcLikeUpstream always(String name, Answer answer) throws InterruptedException {
        return start(name, n -> answer);
    }

    public String address() {
        return "127.0.0.1:" + ((java.net.InetSocketAddress) server.localAddress()).getPort();
    }

    public void answers(IntFunction<Answer> answers) {
        this.answers = answers;
    }

    public int calls() {
        return calls.get();
    }

    public List<HttpHeaders> received() {
        return received;
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    private final class Responder extends ChannelInboundHandlerAdapter {
        private int call;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest r) {
                    call = calls.incrementAndGet();
                    received.add(r.headers().copy());
                }
                if (msg instanceof LastHttpContent) {
                    Answer answer = answers.apply(call);
                    if (answer.delayMillis() > 0) {
                        ctx.executor().schedule(() -> answer(ctx, answer), answer.delayMillis(), TimeUnit.MILLISECONDS);
                    } else {
                        answer(ctx, answer);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void answer(ChannelHandlerContext ctx, Answer answer) {
            if (!ctx.channel().isActive()) {
                return;
            }
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set("content-type", "application/grpc").set("x-upstream", name);
            if (answer.body() == null) {
                head.headers().set("grpc-status", answer.grpcStatus()).set("grpc-message", "from " + name)
                        .set("content-length", 0);
                ctx.write(head);
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                return;
            }
            head.headers().set("transfer-encoding", "chunked");
            ctx.write(head);
            ctx.writeAndFlush(new DefaultHttpContent(
                    Unpooled.copiedBuffer(answer.body(), StandardCharsets.UTF_8)));
            LastHttpContent last = new DefaultLastHttpContent();
            last.trailingHeaders().set("grpc-status", answer.grpcStatus()).set("grpc-message", "from " + name);
            ctx.writeAndFlush(last);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
