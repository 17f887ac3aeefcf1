package io.bulwark.proxy.server;

import io.bulwark.config.ListenerConfig;
import io.bulwark.routing.GrpcStatus;
import io.bulwark.routing.Route;
import io.bulwark.routing.Snapshot;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;

import java.util.Map;

/**
 * One HTTP/2 stream (a child channel of {@link Http2Frontend}'s connection): its HEADERS become
 * the HTTP/1.1 request the rest of the proxy knows ({@link Http2RequestHead}), checked and routed
 * as {@link FrontendHandler} does for HTTP/1; what the proxy answers itself before a route (400,
 * 404, 413) goes out here; everything else is an {@link Exchange} with an {@link Http2Downstream}.
 * DATA frames are the body parts, a trailing HEADERS frame its trailers. A stream the client resets
 * ends its exchange as a closed HTTP/1 connection would.
 */
final class Http2StreamHandler extends ChannelInboundHandlerAdapter {

    private final ProxyContext proxy;
    private final ListenerConfig listener;
    private final String peerIp;
    private ChannelHandlerContext ctx;
    private Exchange exchange;
    private boolean headersSeen;
    /** The client ended its side of the stream (END_STREAM received). */
    private boolean requestEnded;
    private String requestClientIp = "";
    private final ReadPauses pauses = new ReadPauses();
    /** The write of the frame that ends our side of the stream, once one was written. */
    private ChannelFuture endWrite;
    private boolean resetSent;

    Http2StreamHandler(ProxyContext proxy, ListenerConfig listener, String peerIp) {
        this.proxy = proxy;
        this.listener = listener;
        this.peerIp = peerIp;
    }

    ListenerConfig listener() {
        return listener;
    }

    String peerIp() {
        return peerIp;
    }

    String requestClientIp() {
        return requestClientIp;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame headers) {
            if (!headersSeen) {
                headersSeen = true;
                onRequestHeaders(headers);
            } else {
                onTrailers(headers);
            }
        } else if (msg instanceof Http2DataFrame data) {
            boolean end = data.isEndStream();
            HttpContent part = end ? new DefaultLastHttpContent(data.content()) : new DefaultHttpContent(data.content());
            if (end) {
                requestEnded = true;
            }
            toExchange(part);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void toExchange(HttpContent part) {
        if (exchange != null) {
            exchange.onRequestContent(part);
        } else {
            part.release(); // answered already: the rest of the body is dropped
        }
    }

    private void onRequestHeaders(Http2HeadersFrame frame) {
        long start = System.nanoTime();
        requestEnded = frame.isEndStream();
        Http2RequestHead.Result head = Http2RequestHead.translate(frame.headers(), requestEnded);
        if (head.problem() != null) {
            refuse(LocalReply.BAD_REQUEST, "malformed request: " + head.problem(), null, null, null, start);
            return;
        }
        HttpRequest request = head.request();
        RequestChecks.Problem problem = RequestChecks.problem(request);
        if (problem != null) {
            refuse(problem.reply(), problem.message(), request, null, null, start);
            return;
        }
        HttpHeaders headers = request.headers();
        String incomingId = headers.get(Headers.X_REQUEST_ID);
        String requestId = Headers.isAcceptableRequestId(incomingId) ? incomingId : Headers.newRequestId();
        requestClientIp = TrustedProxies.of(listener.trustForwardedFrom())
                .clientAddress(peerIp, headers.getAll(Headers.X_FORWARDED_FOR));
        String problemTarget = FrontendHandler.normalizeTarget(request,
                listener.passUnsafePathEscapes() ? FrontendHandler.LENIENT : FrontendHandler.NORMALIZER);
        if (problemTarget != null) {
            refuse(LocalReply.BAD_REQUEST, problemTarget, request, requestId, null, start);
            return;
        }
        String target = request.uri();
        int query = target.indexOf('?');
        String path = query >= 0 ? target.substring(0, query) : target;
        Snapshot snapshot = proxy.snapshot();
        Route route = path.equals("*") ? null
                : snapshot.routes().match(new NettyRequestView(request, path, requestClientIp));
        if (route == null) {
            refuse(LocalReply.NO_ROUTE, "no route for " + request.method() + " " + path, request, requestId, null,
                    start);
            return;
        }
        long maxBody = listener.maxBodySize();
        long declared = HttpUtil.getContentLength(request, -1L);
        if (maxBody > 0 && declared > maxBody) {
            refuse(LocalReply.BODY_TOO_LARGE, "request body of " + declared + " bytes exceeds the limit of "
                    + maxBody + " bytes", request, requestId, route, start);
            return;
        }
        boolean expectContinue = HttpUtil.is100ContinueExpected(request);
        if (expectContinue) {
            headers.remove(HttpHeaderNames.EXPECT);
        } else if (headers.contains(HttpHeaderNames.EXPECT)) {
            refuse(LocalReply.BAD_REQUEST, "unsupported expectation: " + headers.get(HttpHeaderNames.EXPECT),
                    request, requestId, route, start);
            return;
        }
        exchange = new Exchange(new Http2Downstream(this, ctx.channel()), proxy, route, request, requestId, path,
                true);
        proxy.exchangeStarted();
        Exchange started = exchange;
        started.start(expectContinue && !requestEnded);
        if (requestEnded) {
            if (exchange == started) {
                started.onRequestContent(LastHttpContent.EMPTY_LAST_CONTENT);
            }
        }
    }

    private void onTrailers(Http2HeadersFrame frame) {
        if (!frame.isEndStream()) {
            reset(Http2Error.PROTOCOL_ERROR); // a second HEADERS frame that does not end the stream
            return;
        }
        requestEnded = true;
        LastHttpContent last = new DefaultLastHttpContent();
        for (Map.Entry<CharSequence, CharSequence> field : frame.headers()) {
            String name = field.getKey().toString();
            if (name.startsWith(":") || Http2RequestHead.badValue(field.getValue()) != null) {
                reset(Http2Error.PROTOCOL_ERROR);
                if (exchange != null) {
                    exchange.onClientClosed();
                }
                return;
            }
            last.trailingHeaders().add(name, field.getValue().toString());
        }
        toExchange(last);
    }

    /** A local reply before any exchange: counted, logged, and the rest of the request refused. */
    private void refuse(LocalReply reply, String message, HttpRequest request, String requestId, Route route,
                        long startNanos) {
        String id = requestId != null ? requestId : Headers.newRequestId();
        boolean grpc = request != null && GrpcStatus.isGrpc(request.headers().get(HttpHeaderNames.CONTENT_TYPE));
        FullHttpResponse response = reply.build(ctx.alloc(), HttpVersion.HTTP_1_1, message, id, 0, grpc);
        FrontendHandler.recordLocal(proxy, reply, response.status().code(), request, id, route, startNanos,
                response.content().readableBytes());
        writeFull(response);
        stopUnreadBody();
    }

    /**
     * RFC 9113 §8.1: after a complete response to a request whose body is still coming, RST_STREAM
     * NO_ERROR tells the client to stop sending it. Only once the response's last frame is out: a
     * reset drops DATA still waiting for the client's flow-control window.
     */
    private void stopUnreadBody() {
        if (requestEnded) {
            return;
        }
        ChannelFuture last = endWrite;
        if (last == null || last.isDone()) {
            reset(Http2Error.NO_ERROR);
        } else {
            last.addListener(f -> reset(Http2Error.NO_ERROR));
        }
    }

    /** The frame that ends the response went to {@code write}. */
    void endedBy(ChannelFuture write) {
        endWrite = write;
    }

    /** A whole response (a local reply): HEADERS, then its body in DATA that ends the stream. */
    void writeFull(FullHttpResponse response) {
        Http2Headers fields = HttpConversionUtil.toHttp2Headers(response, false);
        if (response.content().isReadable()) {
            ctx.write(new DefaultHttp2HeadersFrame(fields, false));
            endWrite = ctx.write(new DefaultHttp2DataFrame(response.content(), true));
        } else {
            response.release();
            endWrite = ctx.write(new DefaultHttp2HeadersFrame(fields, true));
        }
        ctx.flush();
    }

    /** Ends the stream with RST_STREAM {@code error}, unless it is over already. */
    void reset(Http2Error error) {
        if (ctx.channel().isActive() && !resetSent) {
            resetSent = true;
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(error));
        }
    }

    void onExchangeComplete(Exchange ended) {
        if (ended != exchange) {
            return;
        }
        exchange = null;
        proxy.exchangeEnded();
        stopUnreadBody(); // answered before the body ended: the client may stop sending it
    }

    void pause(int reason) {
        pauses.pause(ctx, reason);
    }

    void resume(int reason) {
        pauses.resume(ctx, reason);
        // Reading again returns the window of the DATA read while paused: Netty writes that WINDOW_UPDATE
        // but, when the stream's read state was left "in progress" by the pause, does not flush it. Unflushed,
        // a client that has used its window waits for it forever (a gRPC upload stalled at 128KiB).
        // A no-op when nothing was written.
        ctx.channel().flush();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (exchange != null) {
            exchange.onClientReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (exchange != null) {
            exchange.onClientWritabilityChanged(ctx.channel().isWritable());
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame) {
            clientGone(); // the client cancelled the stream
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        clientGone();
    }

    private void clientGone() {
        Exchange ex = exchange;
        if (ex != null) {
            ex.onClientClosed();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A stream error Netty found (DATA beyond the declared Content-Length, a bad header): never forwarded.
        Exchange ex = exchange;
        if (ex != null && cause instanceof Http2FrameStreamException) {
            ex.abortRequest(LocalReply.BAD_REQUEST, "malformed request: " + cause.getMessage());
        }
        reset(cause instanceof Http2FrameStreamException e ? e.error() : Http2Error.INTERNAL_ERROR);
    }
}
