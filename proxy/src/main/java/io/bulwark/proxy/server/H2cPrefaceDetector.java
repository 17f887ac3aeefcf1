package io.bulwark.proxy.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;

import java.util.List;

/**
 * First on a plaintext listener with HTTP/2 on: reads just enough of the connection's first bytes
 * to tell the HTTP/2 client preface ({@code PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n}, h2c with prior
 * knowledge, RFC 9113 §3.3) from an HTTP/1 request, which differs from it by the fourth byte at
 * the latest. On the preface it has the pipeline switched to HTTP/2; either way it steps aside and
 * hands the bytes it held, untouched, to what follows.
 */
final class H2cPrefaceDetector extends ByteToMessageDecoder {

    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

    private final Runnable switchToHttp2;

    /** @param switchToHttp2 replaces the HTTP/1 handlers after this one with the HTTP/2 ones */
    H2cPrefaceDetector(Runnable switchToHttp2) {
        this.switchToHttp2 = switchToHttp2;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int length = PREFACE.readableBytes();
        int seen = Math.min(in.readableBytes(), length);
        if (!ByteBufUtil.equals(PREFACE, PREFACE.readerIndex(), in, in.readerIndex(), seen)) {
            ctx.pipeline().remove(this); // HTTP/1: the held bytes go on to its handlers
            return;
        }
        if (seen == length) {
            switchToHttp2.run();
            ctx.pipeline().remove(this); // the held preface goes on to the HTTP/2 codec, which expects it
        }
    }
}
