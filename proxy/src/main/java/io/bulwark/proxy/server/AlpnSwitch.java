package io.bulwark.proxy.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;

/**
 * Right after TLS on a listener with HTTP/2 on: once the handshake has settled the protocol by
 * ALPN, an {@code h2} connection has its HTTP/1 handlers replaced with the HTTP/2 ones; anything
 * else (ALPN {@code http/1.1}, or a client without ALPN) keeps HTTP/1.1. Bytes that arrive before
 * the decision are held and then passed on.
 */
final class AlpnSwitch extends ApplicationProtocolNegotiationHandler {

    private final Runnable switchToHttp2;

    AlpnSwitch(Runnable switchToHttp2) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.switchToHttp2 = switchToHttp2;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            switchToHttp2.run();
        }
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // as without ALPN: a failed handshake just ends the connection, no log line per client
    }
}
