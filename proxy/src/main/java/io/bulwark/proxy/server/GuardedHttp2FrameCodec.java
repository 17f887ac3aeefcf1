package io.bulwark.proxy.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.HttpConversionUtil;

/**
 * Netty's HTTP/2 frame codec for a client connection, with two additions: every stream or
 * connection it refuses (its limits raise an {@link Http2Exception}, answered with RST_STREAM or
 * GOAWAY) is counted in {@code bulwark_http2_refusals_total} by {@link Http2Refusal}, and a header
 * list over {@code max-header-list-size} gets the contract's 431 {@code headers_too_large} with its
 * JSON body instead of Netty's bare status.
 */
final class GuardedHttp2FrameCodec extends Http2FrameCodec {

    private final ProxyContext proxy;
    private final Long maxHeaderListSize;

    private GuardedHttp2FrameCodec(Http2ConnectionEncoder encoder, Http2ConnectionDecoder decoder,
                                   Http2Settings initialSettings, ProxyContext proxy) {
        super(encoder, decoder, initialSettings, false, true);
        this.proxy = proxy;
        this.maxHeaderListSize = initialSettings.maxHeaderListSize();
    }

    @Override
    public void onError(ChannelHandlerContext ctx, boolean outbound, Throwable cause) {
        Http2Exception e = Http2CodecUtil.getEmbeddedHttp2Exception(cause);
        if (e != null) {
            Http2Refusal refusal = Http2Refusal.of(e, outbound);
            if (refusal != null) {
                proxy.metrics().http2Refusal(refusal.tag());
            }
        }
        super.onError(ctx, outbound, cause);
    }

    @Override
    protected void handleServerHeaderDecodeSizeError(ChannelHandlerContext ctx, Http2Stream stream) {
        long start = System.nanoTime();
        LocalReply reply = LocalReply.HEADERS_TOO_LARGE;
        String requestId = Headers.newRequestId();
        FullHttpResponse response = reply.build(ctx.alloc(), HttpVersion.HTTP_1_1,
                "request header list larger than " + maxHeaderListSize + " bytes", requestId, 0);
        ByteBuf body = response.content();
        int bytes = body.readableBytes();
        encoder().writeHeaders(ctx, stream.id(), HttpConversionUtil.toHttp2Headers(response, false), 0, false,
                ctx.newPromise());
        encoder().writeData(ctx, stream.id(), body, 0, true, ctx.newPromise());
        try {
            // Out now: the RST_STREAM Netty sends next would otherwise drop the body still queued for the window.
            encoder().flowController().writePendingBytes();
        } catch (Http2Exception e) {
            onError(ctx, true, e);
        }
        FrontendHandler.recordLocal(proxy, reply, null, requestId, null, start, bytes);
    }

    /** Builds the codec with Netty's limits set by the caller; only the final step is ours. */
    static final class Builder extends Http2FrameCodecBuilder {

        private final ProxyContext proxy;

        Builder(ProxyContext proxy) {
            this.proxy = proxy;
            server(true);
        }

        @Override
        protected Http2FrameCodec build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                                        Http2Settings initialSettings) {
            GuardedHttp2FrameCodec codec = new GuardedHttp2FrameCodec(encoder, decoder, initialSettings, proxy);
            codec.gracefulShutdownTimeoutMillis(gracefulShutdownTimeoutMillis());
            return codec;
        }
    }
}
