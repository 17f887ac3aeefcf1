package io.bulwark.proxy.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.util.ReferenceCountUtil;

import java.util.Collection;

/**
 * A raw byte relay between a client and an upstream after a protocol switch (101), such as a
 * WebSocket. Each side's bytes go to the other unchanged, with back-pressure: a side stops
 * reading while the other cannot take more. Either side closing closes both. The bytes relayed
 * each way are counted for the access-log line written when the tunnel ends.
 */
final class Tunnel extends ChannelInboundHandlerAdapter {

    /**
     * Bytes relayed each way. Both channels live on one event loop (the upstream connection is made
     * on the client's), so plain fields do.
     */
    static final class Traffic {
        long fromClient;
        long toClient;
    }

    private final Channel peer;
    private final Traffic traffic;
    private final boolean clientSide;

    private Tunnel(Channel peer, Traffic traffic, boolean clientSide) {
        this.peer = peer;
        this.traffic = traffic;
        this.clientSide = clientSide;
    }

    /**
     * Strips the HTTP handlers from both pipelines and relays bytes between them. Bytes the HTTP
     * decoders had buffered past the 101 are passed on by the decoders as they are removed.
     */
    static void splice(Channel client, Channel upstream, Collection<Object> heldMessages, Traffic traffic) {
        for (Object held : heldMessages) {
            ReferenceCountUtil.release(held);
        }
        ChannelPipeline up = upstream.pipeline();
        up.replace("upstream", "tunnel", new Tunnel(client, traffic, false));
        up.remove("codec");
        upstream.config().setAutoRead(true);

        ChannelPipeline down = client.pipeline();
        if (down.get("request-start") != null) {
            down.remove("request-start");
        }
        down.replace("frontend", "tunnel", new Tunnel(upstream, traffic, true));
        if (down.get("strict-http") != null) down.remove("strict-http");
        down.remove("codec");
        client.config().setAutoRead(true);
        client.read();
        upstream.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            // Leftover HTTP objects from the removed decoder (an empty last part after the 101).
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!peer.isActive()) {
            buf.release();
            ctx.close();
            return;
        }
        if (clientSide) {
            traffic.fromClient += buf.readableBytes();
        } else {
            traffic.toClient += buf.readableBytes();
        }
        peer.write(buf);
        if (!peer.isWritable()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        peer.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            peer.config().setAutoRead(true);
            peer.read();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (peer.isActive()) {
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof io.netty.handler.timeout.IdleStateEvent) {
            ctx.close(); // an idle tunnel is closed like an idle connection
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
