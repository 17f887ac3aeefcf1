package io.bulwark.proxy.server;

import io.netty.channel.ChannelHandlerContext;

/**
 * Why a client connection (or HTTP/2 stream) is not being read: a set of reasons
 * ({@link Downstream#PAUSE_CONNECTING}, {@link Downstream#PAUSE_BACKPRESSURE}, ...), each
 * paused and resumed on its own. Reading stops with the first reason and starts again, with one
 * read asked for, when the last one is gone. Confined to the channel's event loop.
 */
final class ReadPauses {

    private int reasons;

    void pause(ChannelHandlerContext ctx, int reason) {
        boolean was = reasons == 0;
        reasons |= reason;
        if (was) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    void resume(ChannelHandlerContext ctx, int reason) {
        if (reasons == 0) {
            return;
        }
        reasons &= ~reason;
        if (reasons == 0) {
            ctx.channel().config().setAutoRead(true);
            ctx.read();
        }
    }
}
