package io.bulwark.proxy.health;

import io.bulwark.routing.GrpcStatus;
import io.bulwark.routing.health.ProbeResult;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;

/**
 * One gRPC health check's stream (a child channel of {@link GrpcHealthProber}'s connection):
 * collects the response head, the HealthCheckResponse message and the trailers, and judges the
 * call — a pass only on {@code grpc-status 0} with SERVING. A reset, a closed stream or a malformed
 * answer is a failed check.
 */
final class GrpcHealthCall extends ChannelInboundHandlerAdapter {

    /** Where the call's result goes (once; later ones are ignored there). */
    interface Result {
        void complete(GrpcHealthCall call, ProbeResult result);
    }

    /** A HealthCheckResponse is a few bytes; anything much larger is not one. */
    private static final int MAX_RESPONSE_BYTES = 1024;

    private final Result sink;
    private Http2Headers head;
    private ByteBuf message;

    GrpcHealthCall(Result sink) {
        this.sink = sink;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2HeadersFrame frame) {
                if (head == null) {
                    head = frame.headers();
                    CharSequence status = head.status();
                    if (status == null || !AsciiString.contentEquals(status, "200")) {
                        finish(ctx, ProbeResult.response(parseStatus(status)));
                    } else if (frame.isEndStream() || head.contains(GrpcStatus.HEADER)) {
                        finish(ctx, judge(head)); // trailers-only
                    }
                } else {
                    finish(ctx, judge(frame.headers()));
                }
            } else if (msg instanceof Http2DataFrame data) {
                if (message == null) {
                    message = ctx.alloc().heapBuffer(GrpcHealthMessages.FRAME_HEADER + 2);
                }
                if (message.readableBytes() + data.content().readableBytes() > MAX_RESPONSE_BYTES) {
                    finish(ctx, ProbeResult.error("health check response larger than " + MAX_RESPONSE_BYTES
                            + " bytes"));
                    return;
                }
                message.writeBytes(data.content());
                if (data.isEndStream()) {
                    finish(ctx, ProbeResult.error("health check response without grpc-status"));
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private static int parseStatus(CharSequence status) {
        try {
            return status == null ? 0 : Integer.parseInt(status.toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The call's end: its {@code grpc-status}, then the serving status in its message. */
    private ProbeResult judge(Http2Headers trailers) {
        int grpcStatus = GrpcStatus.parse(trailers.get(GrpcStatus.HEADER));
        if (grpcStatus != GrpcStatus.OK) {
            CharSequence text = trailers.get(GrpcStatus.MESSAGE_HEADER);
            return ProbeResult.error("grpc-status " + (grpcStatus == GrpcStatus.NONE ? "missing" : grpcStatus)
                    + (text == null ? "" : " (" + text + ")"));
        }
        int serving = message == null ? GrpcHealthMessages.MALFORMED : GrpcHealthMessages.servingStatus(message);
        if (serving == GrpcHealthMessages.SERVING) {
            return ProbeResult.response(200);
        }
        return ProbeResult.error(serving == GrpcHealthMessages.MALFORMED ? "malformed HealthCheckResponse"
                : "serving status " + GrpcHealthMessages.name(serving));
    }

    private void finish(ChannelHandlerContext ctx, ProbeResult result) {
        release();
        sink.complete(this, result);
        ctx.close();
    }

    private void release() {
        if (message != null) {
            message.release();
            message = null;
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame reset) {
            release();
            sink.complete(this, ProbeResult.error("stream reset (" + reset.errorCode() + ")"));
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        sink.complete(this, ProbeResult.error("stream closed before the call ended"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        release();
        sink.complete(this, ProbeResult.error(String.valueOf(cause.getMessage())));
        ctx.close();
    }
}
