package io.bulwark.proxy.server;

import io.bulwark.config.ListenerConfig;
import io.bulwark.routing.Snapshot;
import io.bulwark.proxy.http.HttpViolation;
import io.bulwark.proxy.http.PathNormalizer;
import io.bulwark.proxy.log.AccessLog;
import io.bulwark.routing.GrpcStatus;
import io.bulwark.routing.Route;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One downstream HTTP/1 connection: checks each request, answers what the proxy answers
 * itself before a request has a route (400, 404, 408, 413, 414, 431), and hands the rest
 * to an {@link Exchange} through an {@link Http1Downstream}. Requests are served one at a
 * time; pipelined ones wait in a backlog with reading paused, so a client cannot queue
 * unbounded work.
 */
public final class FrontendHandler extends ChannelInboundHandlerAdapter {

    /** Reasons reading from the client is paused; reading runs only when none holds. */
    static final int PAUSE_PIPELINE = Downstream.PAUSE_PIPELINE;
    static final int PAUSE_BACKPRESSURE = Downstream.PAUSE_BACKPRESSURE;
    static final int PAUSE_CONNECTING = Downstream.PAUSE_CONNECTING;

    private final ProxyContext proxy;
    private final ListenerConfig listener;
    private ChannelHandlerContext ctx;
    private Exchange current;
    private final ArrayDeque<Object> backlog = new ArrayDeque<>(2);
    private final ReadPauses pauses = new ReadPauses();
    /** Body parts of a request answered locally are read and dropped until its last part. */
    private boolean discardingBody;
    /** Bytes dropped of the current answered request's body. */
    private long discardedBytes;
    /** Close once the current response is written (the request or the proxy asked for it). */
    private boolean closeAfterResponse;
    /** A refusal was answered; the connection is half-closed and only drains input until it closes. */
    private boolean closing;
    private ScheduledFuture<?> headerTimer;
    private boolean awaitingRequest = true;
    private String clientIp = "";
    private String requestClientIp = "";

    public FrontendHandler(ProxyContext proxy, ListenerConfig listener) {
        this.proxy = proxy;
        this.listener = listener;
    }

    ProxyContext proxy() {
        return proxy;
    }

    ListenerConfig listener() {
        return listener;
    }

    ChannelHandlerContext ctx() {
        return ctx;
    }

    /** The TCP peer's address (what X-Forwarded-For gets appended). */
    String clientIp() {
        return clientIp;
    }

    /** The current request's client address: the peer, or from X-Forwarded-For behind a trusted proxy. */
    String requestClientIp() {
        return requestClientIp;
    }

    /** True when the client connection is TLS (for X-Forwarded-Proto). */
    boolean secure() {
        return listener.tls().isPresent();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (ctx.channel().remoteAddress() instanceof InetSocketAddress remote) {
            clientIp = remote.getAddress() == null ? remote.getHostString() : remote.getAddress().getHostAddress();
        }
        armHeaderTimer();
        ctx.fireChannelActive();
    }

    /** Called by {@link RequestStartDetector} when bytes arrive while no request is being read. */
    void onRequestBytes() {
        if (awaitingRequest && headerTimer == null) {
            armHeaderTimer();
        }
    }

    private void armHeaderTimer() {
        long nanos = listener.requestHeaderTimeout().toNanos();
        if (nanos > 0 && headerTimer == null) {
            headerTimer = ctx.executor().schedule(this::onHeaderTimeout, nanos, TimeUnit.NANOSECONDS);
        }
    }

    private void disarmHeaderTimer() {
        if (headerTimer != null) {
            headerTimer.cancel(false);
            headerTimer = null;
        }
    }

    private void onHeaderTimeout() {
        headerTimer = null;
        if (awaitingRequest && ctx.channel().isActive()) {
            awaitingRequest = false;
            replyAndClose(LocalReply.REQUEST_TIMEOUT, "request headers not received within "
                    + listener.requestHeaderTimeout().toMillis() + "ms", null, HttpVersion.HTTP_1_1, null);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg); // lingering after a refusal: read and drop
            return;
        }
        if (!backlog.isEmpty() || (current != null && current.requestComplete() && msg instanceof HttpRequest)) {
            // A pipelined request: hold it until the current response is done.
            backlog.add(msg);
            pause(PAUSE_PIPELINE);
            return;
        }
        dispatch(msg);
    }

    private void dispatch(Object msg) {
        if (msg instanceof HttpRequest request) {
            onRequest(request);
        } else if (msg instanceof HttpContent content) {
            if (content.decoderResult().isFailure()) {
                // A framing error Netty reports late (inside a chunked body): never pass it on as an end.
                content.release();
                onViolation(new HttpViolation(400, "bad chunked body: " + describe(content.decoderResult().cause())));
                return;
            }
            if (current != null && !current.requestComplete()) {
                current.onRequestContent(content);
            } else {
                boolean last = content instanceof LastHttpContent;
                discardedBytes += content.content().readableBytes();
                content.release();
                if (last && discardingBody) {
                    discardingBody = false;
                    requestFinished();
                } else if (discardingBody && discardedBytes > RequestBody.MAX_DRAIN_BYTES) {
                    // Dropping an answered request's body is bounded: past it, closing is cheaper than reading.
                    discardingBody = false;
                    closeAfterResponse = true;
                    ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                }
            }
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onRequest(HttpRequest request) {
        disarmHeaderTimer();
        awaitingRequest = false;
        DecoderResult result = request.decoderResult();
        if (result.isFailure()) {
            Throwable cause = result.cause();
            if (cause instanceof TooLongHttpLineException) {
                replyAndClose(LocalReply.URI_TOO_LONG, "request line longer than "
                        + listener.maxInitialLineLength() + " bytes", request, HttpVersion.HTTP_1_1, null);
            } else if (cause instanceof TooLongHttpHeaderException) {
                replyAndClose(LocalReply.HEADERS_TOO_LARGE, "request headers larger than "
                        + listener.maxHeaderSize() + " bytes", request, HttpVersion.HTTP_1_1, null);
            } else {
                replyAndClose(LocalReply.BAD_REQUEST, "malformed request: " + describe(cause), request,
                        HttpVersion.HTTP_1_1, null);
            }
            ReferenceCountUtil.release(request);
            return;
        }
        RequestChecks.Problem problem = RequestChecks.problem(request);
        if (problem != null) {
            replyAndClose(problem.reply(), problem.message(), request, request.protocolVersion(), null);
            ReferenceCountUtil.release(request);
            return;
        }
        HttpHeaders headers = request.headers();
        String incomingId = headers.get(Headers.X_REQUEST_ID);
        String requestId = Headers.isAcceptableRequestId(incomingId) ? incomingId : Headers.newRequestId();
        boolean keepAlive = HttpUtil.isKeepAlive(request) && !proxy.draining();
        closeAfterResponse = !keepAlive;

        requestClientIp = TrustedProxies.of(listener.trustForwardedFrom())
                .clientAddress(clientIp, headers.getAll(Headers.X_FORWARDED_FOR));
        String problemTarget = normalizeTarget(request, listener.passUnsafePathEscapes() ? LENIENT : NORMALIZER);
        if (problemTarget != null) {
            replyAndClose(LocalReply.BAD_REQUEST, problemTarget, request, request.protocolVersion(), requestId);
            ReferenceCountUtil.release(request);
            return;
        }
        String target = request.uri();
        int query = target.indexOf('?');
        String path = query >= 0 ? target.substring(0, query) : target;
        if (path.equals("*")) {
            localReply(LocalReply.NO_ROUTE, "no route for " + request.method() + " *", request, requestId);
            return;
        }
        Snapshot snapshot = proxy.snapshot();
        Route route = snapshot.routes().match(new NettyRequestView(request, path, requestClientIp));
        if (route == null) {
            localReply(LocalReply.NO_ROUTE, "no route for " + request.method() + " " + path, request, requestId);
            return;
        }
        long maxBody = listener.maxBodySize();
        long declared = HttpUtil.getContentLength(request, -1L);
        if (maxBody > 0 && declared > maxBody) {
            // Counted and logged under the route it matched and the cluster it would have gone to.
            replyAndClose(LocalReply.BODY_TOO_LARGE, "request body of " + declared + " bytes exceeds the limit of "
                    + maxBody + " bytes", request, request.protocolVersion(), requestId, route);
            ReferenceCountUtil.release(request);
            return;
        }
        boolean expectContinue = HttpUtil.is100ContinueExpected(request);
        if (expectContinue) {
            // The proxy answers the expectation itself (once the request is admitted), not the upstream.
            headers.remove(HttpHeaderNames.EXPECT);
        } else if (headers.contains(HttpHeaderNames.EXPECT)) {
            replyAndClose(LocalReply.BAD_REQUEST, "unsupported expectation: " + headers.get(HttpHeaderNames.EXPECT),
                    request, request.protocolVersion(), requestId, route);
            ReferenceCountUtil.release(request);
            return;
        }
        current = new Exchange(new Http1Downstream(this, request.protocolVersion(), request.method()), proxy, route,
                request, requestId, path, keepAlive);
        proxy.exchangeStarted();
        current.start(expectContinue);
    }

    static final PathNormalizer NORMALIZER = PathNormalizer.strict();
    static final PathNormalizer LENIENT = PathNormalizer.passingUnsafeEscapes();

    /**
     * Puts the request target in the form routing and the upstream see: an absolute-form target
     * ({@code http://host/path}) becomes origin-form with its authority as the Host (400 if a Host
     * header disagrees), and the path is normalised (unreserved escapes decoded once, dot segments
     * removed, slashes merged; encoded '/', '\\', NUL or a bad escape refused). Routing and the
     * upstream see the same path.
     *
     * @return what is wrong, or null
     */
    static String normalizeTarget(HttpRequest request, PathNormalizer normalizer) {
        String target = request.uri();
        if (target.equals("*")) {
            return null;
        }
        if (target.regionMatches(true, 0, "http://", 0, 7) || target.regionMatches(true, 0, "https://", 0, 8)) {
            int start = target.indexOf("//") + 2;
            int slash = target.indexOf('/', start);
            int queryAt = target.indexOf('?', start);
            int end = slash >= 0 ? slash : (queryAt >= 0 ? queryAt : target.length());
            String authority = target.substring(start, end);
            if (authority.isEmpty() || authority.indexOf('@') >= 0 || !RequestChecks.validHost(authority)) {
                return "invalid authority in the request target";
            }
            String host = request.headers().get(HttpHeaderNames.HOST);
            if (host != null && !NettyRequestView.hostOf(host).equals(NettyRequestView.hostOf(authority))) {
                return "the request target's authority \"" + authority + "\" disagrees with Host \"" + host + "\"";
            }
            request.headers().set(HttpHeaderNames.HOST, authority);
            String rest = target.substring(end);
            target = rest.isEmpty() || rest.charAt(0) == '?' ? "/" + rest : rest;
        }
        int query = target.indexOf('?');
        String rawPath = query >= 0 ? target.substring(0, query) : target;
        PathNormalizer.Result normalized = normalizer.normalize(rawPath);
        if (!normalized.ok()) {
            return "bad path: " + normalized.failure();
        }
        request.setUri(query >= 0 ? normalized.path() + target.substring(query) : normalized.path());
        return null;
    }

    private static String describe(Throwable cause) {
        String m = cause == null ? null : cause.getMessage();
        return m == null ? "unparseable" : m;
    }

    /**
     * A local reply to a request that is otherwise well-formed: the connection stays open, and the
     * request's body (if any) is read and dropped.
     */
    private void localReply(LocalReply reply, String message, HttpRequest request, String requestId) {
        long start = System.nanoTime();
        long declared = HttpUtil.getContentLength(request, -1L);
        boolean chunked = HttpUtil.isTransferEncodingChunked(request);
        boolean hasBody = declared > 0 || chunked;
        discardingBody = !(request instanceof LastHttpContent) && hasBody;
        discardedBytes = 0;
        boolean grpc = GrpcStatus.isGrpc(request.headers().get(HttpHeaderNames.CONTENT_TYPE));
        FullHttpResponse response = reply.build(ctx.alloc(), request.protocolVersion(), message, requestId, 0, grpc);
        // The body is read and dropped to keep the connection, unless it is too large to be worth reading.
        boolean close = closeAfterResponse || proxy.draining()
                || discardingBody && !chunked && declared > RequestBody.MAX_DRAIN_BYTES;
        HttpUtil.setKeepAlive(response, !close);
        recordLocal(proxy, reply, response.status().code(), request, requestId, null, start,
                response.content().readableBytes());
        ReferenceCountUtil.release(request);
        if (close) {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.writeAndFlush(response);
        if (!discardingBody) {
            requestFinished();
        }
    }

    /**
     * A local reply after which the connection closes (malformed or refused input).
     *
     * @param requestId null when the request's headers could not be read: one is made up, so that
     *     the reply, its {@code X-Request-Id} and its access-log line still share an id
     */
    void replyAndClose(LocalReply reply, String message, HttpRequest request, HttpVersion version, String requestId) {
        replyAndClose(reply, message, request, version, requestId, null);
    }

    /** @param route the route the request matched, or null before routing */
    private void replyAndClose(LocalReply reply, String message, HttpRequest request, HttpVersion version,
                               String requestId, Route route) {
        long start = System.nanoTime();
        String id = requestId != null ? requestId : Headers.newRequestId();
        FullHttpResponse response = reply.build(ctx.alloc(), version, message, id, 0);
        HttpUtil.setKeepAlive(response, false);
        recordLocal(reply, request, id, route, start, response.content().readableBytes());
        closeAfterResponse = true;
        closing = true;
        releaseBacklog();
        // RFC 9112 §9.6: half-close and keep reading (and dropping) for a moment, so that unread request
        // bytes do not make the kernel reset the connection before the client has read the reply.
        resume(PAUSE_PIPELINE | PAUSE_BACKPRESSURE | PAUSE_CONNECTING);
        ctx.writeAndFlush(response).addListener(f -> {
            if (ctx.channel() instanceof io.netty.channel.socket.DuplexChannel duplex && duplex.isActive()) {
                duplex.shutdownOutput();
                ctx.executor().schedule(() -> {
                    ctx.close();
                }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
            } else {
                ctx.close();
            }
        });
    }

    /** Sends {@code 100 Continue}: the request was admitted, its body may come. */
    void sendContinue() {
        ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }

    /** How long a refused connection is read from (and ignored) after its reply, before it is closed. */
    private static final long LINGER_MILLIS = 1_000;

    /**
     * Metrics and the access-log line of a local reply.
     *
     * @param route the route the request matched (its cluster is the one it would have gone to), or null
     */
    private void recordLocal(LocalReply reply, HttpRequest request, String requestId, Route route,
                             long startNanos, long bytesOut) {
        recordLocal(proxy, reply, request, requestId, route, startNanos, bytesOut);
    }

    /** Metrics and the access-log line of a local reply made before an exchange (HTTP/1 or an HTTP/2 stream). */
    static void recordLocal(ProxyContext proxy, LocalReply reply, HttpRequest request, String requestId, Route route,
                            long startNanos, long bytesOut) {
        recordLocal(proxy, reply, reply.status(), request, requestId, route, startNanos, bytesOut);
    }

    /** @param code the status the reply went out with (200 for a gRPC error) */
    static void recordLocal(ProxyContext proxy, LocalReply reply, int code, HttpRequest request, String requestId,
                            Route route, long startNanos, long bytesOut) {
        String routeName = route == null ? null : route.name();
        String clusterName = route == null ? null : clusterOf(route);
        proxy.metrics().localReply(reply.code());
        proxy.metrics().request(routeName == null ? "none" : routeName, clusterName == null ? "none" : clusterName,
                code, System.nanoTime() - startNanos);
        AccessLog log = proxy.accessLog();
        if (log.enabled()) {
            String method = request == null ? "-" : request.method().name();
            String path = request == null ? "-" : request.uri();
            AccessLog.Entry entry = new AccessLog.Entry(System.currentTimeMillis(), requestId, method, path, code,
                    routeName, clusterName, null, 0, (System.nanoTime() - startNanos) / 1e6, 0, 0, bytesOut,
                    reply.code());
            if (route == null && reply != LocalReply.NO_ROUTE) {
                log.logRefusal(entry); // malformed input, before routing: rate-limited, a flood must not flood the log
            } else {
                log.log(entry);
            }
        }
    }

    /** The route's cluster; for a split, the one this request would have been sent to. */
    static String clusterOf(Route route) {
        var clusters = route.config().clusters();
        return clusters.size() == 1 ? clusters.get(0).name() : route.pickCluster().name();
    }

    /** The exchange has written its whole response (or failed); the connection may serve the next request. */
    void onExchangeComplete(Exchange exchange, boolean keepAlive) {
        if (exchange != current) {
            return;
        }
        current = null;
        proxy.exchangeEnded();
        if (!keepAlive || closeAfterResponse || proxy.draining()) {
            closeAfterResponse = true;
            ctx.channel().writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (exchange.requestComplete()) {
            requestFinished();
        } else {
            // The response finished first (a refusal, or an upstream that answered early): drop the rest of
            // the body, up to a bound.
            discardingBody = true;
            discardedBytes = 0;
        }
    }

    /** The previous request is fully read and answered: wait for (or take from the backlog) the next one. */
    private void requestFinished() {
        awaitingRequest = true;
        drainBacklog();
    }

    /**
     * Feeds held pipelined messages in order: everything up to the next request that cannot start
     * yet (one is still in flight). Reading resumes only once the backlog is empty.
     */
    private void drainBacklog() {
        while (!backlog.isEmpty() && ctx.channel().isActive()) {
            Object next = backlog.peek();
            if (next instanceof HttpRequest && (current != null || discardingBody)) {
                return;
            }
            backlog.poll();
            dispatch(next);
        }
        if (current != null) {
            current.onClientReadComplete(); // body parts fed from the backlog are written, not yet flushed
        }
        if (backlog.isEmpty()) {
            resume(PAUSE_PIPELINE);
        }
    }

    /**
     * Switches this connection to a raw byte tunnel (after an upstream answered 101).
     *
     * @param onEnd called with the bytes relayed each way once the tunnel is closed
     */
    void becomeTunnel(Channel upstreamChannel, java.util.function.Consumer<Tunnel.Traffic> onEnd) {
        disarmHeaderTimer();
        current = null;
        proxy.exchangeEnded();
        proxy.tunnelOpened();
        Channel client = ctx.channel();
        Tunnel.Traffic traffic = new Tunnel.Traffic();
        client.closeFuture().addListener(f -> {
            proxy.tunnelClosed();
            onEnd.accept(traffic);
        });
        Tunnel.splice(client, upstreamChannel, backlog, traffic);
        backlog.clear();
    }

    /** The strict scanner refused the bytes: answer and close; a request in flight is aborted. */
    private void onViolation(HttpViolation violation) {
        disarmHeaderTimer();
        awaitingRequest = false;
        LocalReply reply = LocalReply.BAD_REQUEST;
        releaseBacklog();
        Exchange ex = current;
        if (ex != null) {
            ex.abortRequest(reply, "malformed request: " + violation.reason());
            return;
        }
        if (ctx.channel().isActive() && !closeAfterResponse) {
            replyAndClose(reply, "malformed request: " + violation.reason(), null, HttpVersion.HTTP_1_1, null);
        }
    }

    void pause(int reason) {
        pauses.pause(ctx, reason);
    }

    void resume(int reason) {
        pauses.resume(ctx, reason);
    }

    /** Shutdown: close now if nothing is in flight, else after the current response. */
    public void closeIfIdle() {
        closeAfterResponse = true;
        if (current == null && ctx.channel().isActive()) {
            ctx.close();
        }
    }

    boolean closeAfterResponse() {
        return closeAfterResponse;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (current != null) {
            current.onClientReadComplete();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (current != null) {
            current.onClientWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof HttpViolation violation) {
            onViolation(violation);
            return;
        }
        if (evt instanceof IdleStateEvent) {
            if (current == null) {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        disarmHeaderTimer();
        Exchange ex = current;
        if (ex != null) {
            ex.onClientClosed();
        }
        releaseBacklog();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // Also when the connection turned out to speak HTTP/2: the HTTP/1 header timer must not fire on it.
        disarmHeaderTimer();
        releaseBacklog();
    }

    private void releaseBacklog() {
        Object msg;
        while ((msg = backlog.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Client I/O errors (reset by peer and the like) are the client's business; just close.
        ctx.close();
    }
}
