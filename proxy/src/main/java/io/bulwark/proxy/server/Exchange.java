package io.bulwark.proxy.server;

import io.bulwark.config.RouteConfig;
import io.bulwark.proxy.log.AccessLog;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.GrpcStatus;
import io.bulwark.routing.Route;
import io.bulwark.routing.Upstream;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * One downstream request, from its head to the last response byte (Envoy's router filter): its
 * route deadline, admission, the writes to the client, completion, the access log and the
 * metrics. Lives on the downstream connection's event loop, as do the upstream connections it
 * uses, so nothing here is shared or locked.
 *
 * <p>Order of work: {@link Admission} (rate limit, circuit breaker, bulkhead, fault), then the
 * {@link Tries}: each an {@link Attempt} on an upstream the cluster's balancer picks, retried or
 * hedged as the route allows while no response byte reached the client, until one answers (its
 * response relayed here) or none is left (a local reply). The client side is a {@link Downstream},
 * whatever its protocol.
 */
final class Exchange implements Tries.Owner, RequestBody.Owner {

    private final Downstream downstream;
    private final ProxyContext proxy;
    private final Route route;
    private final RouteConfig routeConfig;
    /** The cluster the route picked; the tries may follow a reload to its successor. */
    private final Cluster cluster;
    private final HttpRequest request;
    private final String requestId;
    private final String path;
    private final boolean clientKeepAlive;
    private final boolean upgradeRequested;
    /** The request is a gRPC call ({@code content-type: application/grpc*}): local replies are gRPC errors. */
    private final boolean grpc;
    /** The route timeout, capped by a gRPC call's {@code grpc-timeout}; 0 = none. */
    private final long timeoutNanos;
    private final Admission admission;
    private final NettyRequestView view;
    private final long startNanos;
    private final long startMillis;
    private final RequestBody body;
    /** Made once the request is admitted: a refusal costs neither a copy of the headers nor buffers. */
    private Tries tries;
    /** The route's fallback for this request (GET/HEAD on a route with one); null otherwise. */
    private final Fallback fallback;

    private long upstreamNanos;
    private ScheduledFuture<?> routeTimer;
    private boolean responseStarted;
    private boolean closeClientAfter;
    private int status;
    private long bytesOut;
    /** Bytes the client sent through a WebSocket tunnel, after the request. */
    private long tunnelBytesIn;
    private String error;
    /** The answer is a local reply (its code is logged whatever its status: a gRPC error is a 200). */
    private boolean localReply;
    private boolean done;

    Exchange(Downstream downstream, ProxyContext proxy, Route route, HttpRequest request, String requestId,
             String path, boolean clientKeepAlive) {
        this.downstream = downstream;
        this.proxy = proxy;
        this.route = route;
        this.routeConfig = route.config();
        this.cluster = route.pickCluster();
        this.request = request;
        this.requestId = requestId;
        this.path = path;
        this.clientKeepAlive = clientKeepAlive;
        this.upgradeRequested = Headers.isUpgradeRequest(request.headers());
        this.grpc = GrpcStatus.isGrpc(request.headers().get(HttpHeaderNames.CONTENT_TYPE));
        this.timeoutNanos = deadlineNanos(routeConfig.timeout().toNanos(), grpc
                ? GrpcStatus.parseTimeoutNanos(request.headers().get(GrpcStatus.TIMEOUT_HEADER)) : -1);
        this.startNanos = proxy.clock().nanoTime();
        this.startMillis = proxy.clock().currentTimeMillis();
        this.admission = new Admission(route.policies(), cluster);
        this.view = new NettyRequestView(request, path, downstream.clientIp());
        long declared = HttpUtil.getContentLength(request, -1L);
        this.body = new RequestBody(downstream, this, declared > 0 || HttpUtil.isTransferEncodingChunked(request),
                declared);
        this.fallback = Fallback.of(route, request);
    }

    boolean requestComplete() {
        return body.complete();
    }

    /**
     * The request's deadline: the route timeout, or a gRPC call's {@code grpc-timeout} when that is
     * shorter (a client that gives up sooner gains nothing from a longer wait). 0 = none. A
     * {@code grpc-timeout} of 0 has already run out: 1ns, so the timer fires at once.
     *
     * @param grpcTimeoutNanos the parsed {@code grpc-timeout}, or -1 (absent, malformed, not gRPC)
     */
    static long deadlineNanos(long routeTimeoutNanos, long grpcTimeoutNanos) {
        if (grpcTimeoutNanos < 0) {
            return routeTimeoutNanos;
        }
        long grpcNanos = Math.max(1, grpcTimeoutNanos);
        return routeTimeoutNanos <= 0 ? grpcNanos : Math.min(routeTimeoutNanos, grpcNanos);
    }

    // ------------------------------------------------------------------ admission

    /**
     * @param expectContinue the client sent {@code Expect: 100-continue}: it gets its final status at
     *     once if the request is refused at admission, else {@code 100 Continue}
     */
    void start(boolean expectContinue) {
        Admission.Verdict verdict = admission.admit(route, cluster.name(), view, proxy.faults(), proxy.metrics());
        if (!verdict.admitted()) {
            // A refused keep-alive client keeps its connection (reconnecting would cost it, and us, far more
            // than the refusal): its unread body is dropped, up to a bound. It closes when the operator asks
            // for it, when the body is too large to drop cheaply, or when the client waits for 100 Continue
            // (its body was never invited, and it may still come).
            closeClientAfter = downstream.listener().closeOnRefusal()
                    || !body.complete() && (expectContinue || !body.drainable());
            fail(verdict.refusal(), verdict.message(), verdict.statusOverride());
            return;
        }
        if (body.announced()) {
            // No body read until a try has somewhere to send it. A request without a body is not paused:
            // turning reading off and on costs two system calls per request, and its next request, if
            // pipelined, waits in the connection's backlog anyway.
            downstream.pause(Downstream.PAUSE_CONNECTING);
        }
        tries = new Tries(this, proxy, downstream, route, cluster, admission, view, body, request, requestId,
                upgradeRequested);
        body.expect();
        if (timeoutNanos > 0) {
            routeTimer = downstream.executor().schedule(this::onRouteTimeout, timeoutNanos, TimeUnit.NANOSECONDS);
        }
        if (expectContinue && !body.complete()) {
            downstream.sendContinue();
        }
        tries.start(verdict.faultDelayNanos());
    }

    // ------------------------------------------------------------------ what the tries report

    @Override
    public boolean ended() {
        return done;
    }

    @Override
    public boolean responseStarted() {
        return responseStarted;
    }

    @Override
    public long remainingNanos() {
        return timeoutNanos <= 0 ? Long.MAX_VALUE : timeoutNanos - (proxy.clock().nanoTime() - startNanos);
    }

    @Override
    public void onTryError(String tag) {
        error = tag;
    }

    @Override
    public void onTriesExhausted(LocalReply reply, String message) {
        fail(reply, message, 0);
    }

    // ------------------------------------------------------------------ request body

    void onRequestContent(HttpContent content) {
        if (body.take(content, done)) { // admitted: a refused request's parts are dropped by take()
            tries.send(content);
        }
    }

    void onClientReadComplete() {
        if (tries != null) {
            tries.flush();
        }
    }

    void onClientWritabilityChanged(boolean writable) {
        if (writable && tries != null) {
            tries.resumeUpstream();
        }
    }

    // ------------------------------------------------------------------ response

    @Override
    public void respond(Attempt a, HttpResponse response, int code) {
        if (fallback != null && code >= 500) {
            FullHttpResponse instead = fallback.reply(downstream.alloc(), request.protocolVersion(),
                    "upstream_status_" + code, proxy.clock().currentTimeMillis(), requestId);
            if (instead != null) { // the upstreams' 5xx after the retries: the fallback answers instead
                admission.breakerHead(code, response.headers(), breakerNanos());
                tries.endAll(); // the 5xx's body is not read: its connection is closed, never pooled
                error = "upstream_status_" + code;
                answer(instead, instead.status().code());
                return;
            }
        }
        status = code;
        admission.breakerHead(status, response.headers(), breakerNanos());
        if (fallback != null) {
            fallback.onResponseHead(response);
        }
        responseStarted = true;
        boolean keepAlive = clientKeepAlive && !closeClientAfter && !proxy.draining();
        if (!downstream.writeHead(response, requestId, admission.hasResponseHeaders() ? admission::addResponseHeaders
                : null, keepAlive)) {
            closeClientAfter = true;
        }
    }

    @Override
    public void relay(Attempt a, HttpContent part) {
        if (!tries.relaying(a) || done || !responseStarted) {
            part.release();
            return;
        }
        bytesOut += part.content().readableBytes();
        boolean last = part instanceof LastHttpContent;
        if (last) {
            admission.breakerTrailers(((LastHttpContent) part).trailingHeaders());
            // Free the bulkhead slot (and the rest) before the client can see the end of the response:
            // its next request, on another connection and event loop, must find the slot free.
            admission.releaseAll();
        }
        if (fallback != null) {
            fallback.onResponseBody(part, last);
        }
        downstream.writeBody(part);
        if (last) {
            downstream.flush();
            upstreamNanos = a.elapsedNanos();
            tries.completed(a);
            finish(!closeClientAfter);
            return;
        }
        if (!downstream.isWritable()) {
            a.pauseUpstream();
        }
    }

    @Override
    public void flushToClient() {
        if (responseStarted) {
            downstream.flush();
        }
    }

    @Override
    public void onResponseBroken(Attempt a) {
        if (!tries.relaying(a) || done) {
            return;
        }
        // Bytes already went to the client: all we can do is not pretend the response was complete.
        error = "upstream_reset_mid_response";
        if (fallback != null) {
            fallback.onResponseBroken();
        }
        admission.breakerBroken();
        tries.endAll();
        abortClient();
    }

    /** Nanoseconds from the first try (or from admission, if no try started) to now: what the breaker times. */
    private long breakerNanos() {
        return admission.sinceFirstTry(proxy.clock().nanoTime(), startNanos);
    }

    // ------------------------------------------------------------------ timers

    private void onRouteTimeout() {
        routeTimer = null;
        if (done) {
            return;
        }
        if (!grpc && !responseStarted && !body.complete() && tries.readyForMoreBody()) {
            // The upstream took every byte it was given and the client sent no more: the client's
            // slowness (408, CONTRACT §3: "body not received in time"), never the upstream's failure.
            // (A gRPC call still streaming its messages at its deadline is DEADLINE_EXCEEDED instead.)
            closeClientAfter = true;
            error = "body_timeout";
            fail(LocalReply.REQUEST_TIMEOUT, "request body not complete within the route timeout of "
                    + routeConfig.timeout().toMillis() + "ms", 0);
            return;
        }
        error = "route_timeout";
        if (responseStarted) {
            tries.endAll();
            abortClient();
            return;
        }
        tries.timedOutByRoute();
        boolean byGrpcTimeout = timeoutNanos != routeConfig.timeout().toNanos();
        fail(LocalReply.UPSTREAM_TIMEOUT, "no response within the " + (byGrpcTimeout ? "grpc-timeout" : "route timeout")
                + " of " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + "ms", 0);
    }

    @Override
    public void onBodyTooLarge(long maxBytes) {
        closeClientAfter = true;
        fail(LocalReply.BODY_TOO_LARGE, "request body exceeds the limit of " + maxBytes + " bytes", 0);
    }

    /** The body must keep coming: a stall of {@code listener.body-timeout} ends the request with 408. */
    @Override
    public void onBodyStalled(long timeoutMillis) {
        if (done) {
            return;
        }
        closeClientAfter = true;
        error = "body_timeout";
        fail(LocalReply.REQUEST_TIMEOUT, "request body stalled for " + timeoutMillis + "ms", 0);
    }

    // ------------------------------------------------------------------ local replies and the end

    /**
     * Answers with a local reply (if nothing was sent yet) and ends the exchange.
     *
     * @param statusOverride a different status for the same code (a fault abort's), or 0
     */
    private void fail(LocalReply reply, String message, int statusOverride) {
        if (done) {
            return;
        }
        if (tries != null) {
            tries.endAll();
        }
        if (reply.upstreamFailure()) {
            admission.breakerFailure(breakerNanos());
        } else {
            admission.breakerRelease(); // a refusal or a client problem: not for the breaker to judge
        }
        if (responseStarted) {
            abortClient();
            return;
        }
        error = reply.code();
        if (fallback != null && Fallback.covers(reply)) {
            FullHttpResponse instead = fallback.reply(downstream.alloc(), request.protocolVersion(), reply.code(),
                    proxy.clock().currentTimeMillis(), requestId);
            if (instead != null) {
                answer(instead, instead.status().code());
                return;
            }
        }
        proxy.metrics().localReply(reply.code());
        localReply = true;
        answer(reply.build(downstream.alloc(), request.protocolVersion(), message, requestId, statusOverride, grpc),
                reply.httpStatus(grpc, statusOverride));
    }

    /** Writes a whole reply made here (a local reply or a fallback) and ends the exchange. */
    private void answer(FullHttpResponse response, int code) {
        status = code;
        if (fallback != null && fallback.served() != null) {
            proxy.metrics().fallbackServed(route.name(), fallback.served());
        }
        // The rest of an unread body is dropped by the connection (up to a bound) so it can be kept.
        boolean keepAlive = clientKeepAlive && (body.complete() || body.drainable()) && !closeClientAfter
                && !downstream.closeAfterResponse() && !proxy.draining();
        if (!keepAlive) {
            closeClientAfter = true;
        }
        admission.addResponseHeaders(response.headers());
        bytesOut = response.content().readableBytes();
        responseStarted = true;
        downstream.writeLocalReply(response, keepAlive);
        finish(keepAlive);
    }

    /**
     * The request turned out malformed after it started (a framing error in its body): the
     * upstream connection is dropped, never pooled, and the client gets {@code reply} if no
     * response byte went out yet; either way its connection closes.
     */
    void abortRequest(LocalReply reply, String message) {
        closeClientAfter = true;
        body.broken();
        fail(reply, message, 0);
    }

    /** The client connection cannot carry a complete response any more: close it. */
    private void abortClient() {
        closeClientAfter = true;
        downstream.abort();
        finish(false);
    }

    void onClientClosed() {
        if (done) {
            return;
        }
        if (error == null) {
            error = "client_closed";
        }
        if (status == 0) {
            status = 499;
        }
        if (tries != null) {
            tries.endAll();
        }
        finish(false);
    }

    /** The upstream switched protocols (WebSocket): the connection becomes a byte tunnel. */
    @Override
    public void onUpgrade(Attempt a, HttpResponse response, Channel upstreamChannel) {
        status = 101;
        responseStarted = true;
        admission.breakerResponse(101, breakerNanos());
        upstreamNanos = a.elapsedNanos();
        end();
        // Logged (and timed) when the tunnel ends, with the bytes relayed both ways, not at the 101.
        downstream.upgrade(response, requestId, upstreamChannel, traffic -> {
            tunnelBytesIn = traffic.fromClient;
            bytesOut += traffic.toClient;
            log();
        });
    }

    private void finish(boolean keepAlive) {
        if (done) {
            return;
        }
        end();
        log();
        downstream.resume(Downstream.PAUSE_CONNECTING | Downstream.PAUSE_BACKPRESSURE);
        downstream.complete(this, keepAlive && !closeClientAfter);
    }

    /** Timers off, the tries and their buffers let go, every permit back. */
    private void end() {
        done = true;
        if (routeTimer != null) {
            routeTimer.cancel(false);
            routeTimer = null;
        }
        body.cancelTimer();
        if (tries != null) {
            tries.endAll();
            tries.release();
        }
        admission.releaseAll();
    }

    private void log() {
        long nanos = proxy.clock().nanoTime() - startNanos;
        int code = status == 0 ? 499 : status;
        Cluster last = tries == null ? cluster : tries.cluster();
        proxy.metrics().request(route.name(), last.name(), code, nanos);
        AccessLog accessLog = proxy.accessLog();
        if (accessLog.enabled()) {
            Upstream upstream = tries == null ? null : tries.lastUpstream();
            accessLog.log(new AccessLog.Entry(startMillis, requestId, request.method().name(), path, code,
                    route.name(), last.name(), upstream == null ? null : upstream.address(),
                    tries == null ? 0 : tries.attempts(), nanos / 1e6, upstreamNanos / 1e6,
                    body.bytes() + tunnelBytesIn, bytesOut, status >= 400 || status == 0 || localReply ? error : null,
                    tries != null && tries.hedged(), tries == null ? 0 : tries.wonAttempt(),
                    fallback == null ? null : fallback.served()));
        }
    }
}
