package io.bulwark.proxy.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Sits in front of the HTTP decoder and tells the {@link FrontendHandler} when raw bytes arrive,
 * so the request-header timeout runs from a request's first byte (as NGINX's
 * {@code client_header_timeout}) rather than from when the connection went idle.
 */
final class RequestStartDetector extends ChannelInboundHandlerAdapter {

    private final FrontendHandler frontend;

    RequestStartDetector(FrontendHandler frontend) {
        this.frontend = frontend;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        frontend.onRequestBytes();
        ctx.fireChannelRead(msg);
    }
}
