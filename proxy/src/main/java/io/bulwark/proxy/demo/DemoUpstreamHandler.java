package io.bulwark.proxy.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The Netty end of one demo upstream connection: sits after {@code HttpServerCodec} and a 1 MiB
 * {@code HttpObjectAggregator}, asks {@link DemoUpstream} what to answer and writes it.
 *
 * <p>Delayed replies are scheduled on the channel's event loop, never slept on. Because a pipelined
 * request may be due before an earlier, slower one, replies wait in a per-connection queue and are
 * written strictly in request order. One instance per connection; every method runs on the
 * channel's event loop, so the queue needs no locking. The request is released by
 * {@link SimpleChannelInboundHandler} once {@link #channelRead0} returns, and a queued reply holds
 * only a String, so nothing reference-counted outlives a read.
 */
final class DemoUpstreamHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    static final String SERVER = "bulwark-demo";

    private final DemoUpstream upstream;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    /** Set once a reply closes (or resets) the connection; later pipelined requests are ignored. */
    private boolean closing;

    DemoUpstreamHandler(DemoUpstream upstream) {
        this.upstream = upstream;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (closing) {
            return;
        }
        Pending next;
        if (request.decoderResult().isFailure()) {
            // The codec cannot find the next request's start any more: answer and close.
            next = new Pending(upstream.badRequest("bad request"), HttpVersion.HTTP_1_1, false, false);
        } else {
            int port = ((InetSocketAddress) ctx.channel().localAddress()).getPort();
            DemoReply reply = upstream.answer(request, port);
            next = new Pending(reply, request.protocolVersion(), HttpUtil.isKeepAlive(request),
                    request.method().equals(HttpMethod.HEAD));
        }
        pending.add(next);
        if (next.reply.delayMillis() > 0) {
            next.timer = ctx.executor().schedule(() -> {
                next.ready = true;
                writeReady(ctx);
            }, next.reply.delayMillis(), TimeUnit.MILLISECONDS);
        } else {
            next.ready = true;
            writeReady(ctx);
        }
    }

    /** Writes every reply at the head of the queue that is due, in order. */
    private void writeReady(ChannelHandlerContext ctx) {
        boolean wrote = false;
        while (!pending.isEmpty() && pending.peek().ready) {
            Pending head = pending.poll();
            if (head.reply.reset()) {
                reset(ctx);
                return;
            }
            if (!head.keepAlive) {
                ctx.writeAndFlush(head.toResponse()).addListener(ChannelFutureListener.CLOSE);
                discardPending();
                return;
            }
            ctx.write(head.toResponse());
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
    }

    /** Drops the connection with a TCP RST (SO_LINGER 0), as a crashing upstream would. */
    private void reset(ChannelHandlerContext ctx) {
        discardPending();
        ctx.flush();
        ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
        ctx.close();
    }

    private void discardPending() {
        closing = true;
        for (Pending p : pending) {
            if (p.timer != null) {
                p.timer.cancel(false);
            }
        }
        pending.clear();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        discardPending();
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        discardPending();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A demo upstream has nobody to report to; a broken connection is simply dropped.
        ctx.close();
    }

    /** A reply waiting for its turn (and, when delayed, for its timer). */
    private static final class Pending {
        final DemoReply reply;
        final HttpVersion version;
        final boolean keepAlive;
        final boolean head;
        boolean ready;
        ScheduledFuture<?> timer;

        Pending(DemoReply reply, HttpVersion version, boolean keepAlive, boolean head) {
            this.reply = reply;
            this.version = version;
            this.keepAlive = keepAlive;
            this.head = head;
        }

        FullHttpResponse toResponse() {
            byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
            // A HEAD reply carries the GET reply's headers, Content-Length included, but no body.
            ByteBuf content = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body);
            FullHttpResponse response = new DefaultFullHttpResponse(version, reply.status(), content);
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                    .set(HttpHeaderNames.SERVER, SERVER);
            HttpUtil.setKeepAlive(response, keepAlive);
            return response;
        }
    }
}
