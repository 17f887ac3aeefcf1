package io.bulwark.proxy.server;

import io.bulwark.config.RouteConfig;
import io.bulwark.proxy.log.AccessLog;
import io.bulwark.proxy.retry.RetryState;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.Route;
import io.bulwark.routing.TryOutcome;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.retry.RetryPolicy;
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
 * route deadline, admission, the tries, the writes to the client, completion, the access log and
 * the metrics. Each try is an {@link Attempt}; whether to try again is the {@link RetryState}'s
 * call; the client side is a {@link Downstream}, whatever its protocol. Lives on the downstream
 * connection's event loop, as do the upstream connections it uses, so nothing here is shared or
 * locked.
 *
 * <p>Order of work: {@link Admission} (rate limit, circuit breaker, bulkhead, fault), then a try:
 * a cluster (route split) and an upstream (the cluster's balancer, avoiding upstreams already
 * tried), a pooled connection, the request and its body streamed, the response relayed. A try
 * that fails before any response byte reached the client may be retried.
 */
final class Exchange implements Attempt.Owner, RequestBody.Owner {

    private final Downstream downstream;
    private final ProxyContext proxy;
    private final Route route;
    private final RouteConfig routeConfig;
    /** The cluster this request goes to; replaced by its successor if a reload retired it mid-request. */
    private Cluster cluster;
    private final HttpRequest request;
    private final String requestId;
    private final String path;
    private final boolean clientKeepAlive;
    private final boolean upgradeRequested;
    private final Admission admission;
    private final NettyRequestView view;
    /** Built once the request is admitted: a refusal costs neither a copy of the headers nor buffers. */
    private RetryState retry;
    private UpstreamRequest upstreamRequest;
    private final long startNanos;
    private final long startMillis;

    private final RequestBody body;

    /** The tries in flight: one, or several while hedged tries race. */
    private final TryRace race;
    /** The try whose response the client got (0 before one did). */
    private int wonAttempt;
    private Upstream lastUpstream;
    private long upstreamNanos;
    private ScheduledFuture<?> routeTimer;
    private ScheduledFuture<?> backoffTimer;

    private boolean responseStarted;
    private boolean closeClientAfter;
    private int status;
    private long bytesOut;
    /** Bytes the client sent through a WebSocket tunnel, after the request. */
    private long tunnelBytesIn;
    private String error;
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
        this.startNanos = proxy.clock().nanoTime();
        this.startMillis = proxy.clock().currentTimeMillis();
        this.admission = new Admission(route.policies(), cluster);
        this.race = new TryRace(routeConfig.hedge(), route.policies().headLatency(), downstream.executor());
        this.view = new NettyRequestView(request, path, downstream.clientIp());
        long declared = HttpUtil.getContentLength(request, -1L);
        this.body = new RequestBody(downstream, this, declared > 0 || HttpUtil.isTransferEncodingChunked(request),
                declared);
    }

    boolean requestComplete() {
        return body.complete();
    }

    // ------------------------------------------------------------------ admission and tries

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
        retry = new RetryState(routeConfig.retry(), route.policies().backoff(), request.method().name(),
                request.headers().contains("idempotency-key"), route.name(), cluster.name(), proxy.metrics(),
                admission);
        upstreamRequest = new UpstreamRequest(request, route.rewrite(request.uri()), upgradeRequested, downstream,
                requestId, routeConfig.requestHeaders(), cluster);
        body.expect();
        long timeoutNanos = routeConfig.timeout().toNanos();
        if (timeoutNanos > 0) {
            routeTimer = downstream.executor().schedule(this::onRouteTimeout, timeoutNanos, TimeUnit.NANOSECONDS);
        }
        if (expectContinue && !body.complete()) {
            downstream.sendContinue();
        }
        if (verdict.faultDelayNanos() > 0) {
            backoffTimer = downstream.executor().schedule(this::startTry, verdict.faultDelayNanos(), TimeUnit.NANOSECONDS);
            return;
        }
        startTry();
    }

    private void startTry() {
        beginTry(false);
    }

    /** @param hedge a hedged try beside the one in flight: it gets its own copy of the (whole) body */
    private void beginTry(boolean hedge) {
        if (done) {
            return;
        }
        int number = retry.nextAttempt();
        Attempt next = Attempt.choose(this, proxy, downstream, admission, retry, cluster, view, lastUpstream,
                upgradeRequested);
        if (next == null) {
            if (!hedge) { // no other upstream to hedge on: the try in flight goes on alone
                fail(LocalReply.NO_HEALTHY_UPSTREAM, "no healthy upstream in cluster " + cluster.name(), 0);
            }
            return;
        }
        cluster = next.cluster();
        lastUpstream = next.upstream();
        race.started(next, hedge);
        admission.tryStarted(proxy.clock().nanoTime());
        if (!next.start(routeConfig.retry().perTryTimeout().toNanos(), retry.takeFreshConnection(),
                upstreamRequest.head(number), number, hedge ? retry.replayCopy() : null)) {
            if (hedge) {
                race.drop(next); // no connection to hedge on: the earlier try goes on alone
            } else {
                fail(LocalReply.OVERLOADED, "cluster " + cluster.name() + " is at max-pending-requests ("
                        + cluster.config().limits().maxPendingRequests() + ")", 0);
            }
            return;
        }
        race.armHedge(!upgradeRequested && RetryPolicy.isIdempotent(request.method().name()), this::onHedgeDelay);
    }

    /** No response head within the hedge delay: one more try on another upstream, if the budget allows. */
    private void onHedgeDelay() {
        if (done || responseStarted || race.latest() == null || !body.complete() || !retry.replayable()) {
            return;
        }
        switch (admission.admitHedge()) {
            case BUDGET -> proxy.metrics().retryBudgetExhausted(route.name());
            case LIMIT -> proxy.metrics().retryLimitReached(cluster.name());
            case NONE -> {
                proxy.metrics().hedge(route.name(), "sent");
                beginTry(true);
            }
        }
    }

    @Override
    public void onRequestWritten(Attempt a, Channel channel) {
        if (channel.isWritable()) {
            // Back-pressure from an earlier try's connection no longer applies.
            downstream.resume(Downstream.PAUSE_CONNECTING | Downstream.PAUSE_BACKPRESSURE);
        } else {
            downstream.pause(Downstream.PAUSE_BACKPRESSURE);
            downstream.resume(Downstream.PAUSE_CONNECTING);
        }
    }

    /** Ends the current try's accounting (its connection, if still attached, is closed, never pooled). */
    private void endTry() {
        race.endAll();
        admission.retryEnded();
    }

    private void scheduleRetry(long delay, boolean sentAnything) {
        retry.rewind(sentAnything);
        if (!body.complete()) {
            downstream.pause(Downstream.PAUSE_CONNECTING);
        }
        if (delay == 0) {
            startTry();
        } else {
            backoffTimer = downstream.executor().schedule(this::startTry, delay, TimeUnit.NANOSECONDS);
        }
    }

    /** Nanoseconds left before the route timeout (effectively unbounded without one). */
    private long remainingNanos() {
        long timeout = routeConfig.timeout().toNanos();
        return timeout <= 0 ? Long.MAX_VALUE : timeout - (proxy.clock().nanoTime() - startNanos);
    }

    @Override
    public void onTryFailed(Attempt a, TryOutcome outcome, Throwable cause) {
        if (done || !race.inFlight(a)) {
            return;
        }
        error = outcome.failure().tag();
        if (race.othersInFlight(a)) {
            race.drop(a); // a hedged try is still racing: the request waits for it
            return;
        }
        endTry();
        long delay = responseStarted || upgradeRequested ? -1
                : retry.plan(outcome, a.sentAnything(), null, remainingNanos());
        if (delay >= 0) {
            scheduleRetry(delay, a.sentAnything());
            return;
        }
        fail(LocalReply.of(outcome.failure()), LocalReply.describe(outcome.failure(), a.upstream().address(), cause), 0);
    }

    @Override
    public void onKeepAliveRace(Attempt a) {
        if (done || !race.inFlight(a)) {
            return;
        }
        error = "keepalive_race";
        if (race.othersInFlight(a)) {
            race.drop(a);
            return;
        }
        endTry();
        scheduleRetry(0, a.sentAnything());
    }

    // ------------------------------------------------------------------ request body

    void onRequestContent(HttpContent content) {
        if (!body.take(content, done)) {
            return;
        }
        HttpContent toSend = retry.keep(content); // admitted: a refused request's parts are dropped by take()
        Channel ch = race.latest() == null ? null : race.latest().channel();
        if (ch != null) {
            ch.write(toSend);
            if (!ch.isWritable()) {
                downstream.pause(Downstream.PAUSE_BACKPRESSURE);
            }
        } else {
            retry.queue(toSend);
        }
    }

    void onClientReadComplete() {
        if (race.latest() != null) {
            race.latest().flush();
        }
    }

    void onClientWritabilityChanged(boolean writable) {
        if (writable && race.latest() != null) {
            race.latest().resumeUpstream();
        }
    }

    // ------------------------------------------------------------------ response

    @Override
    public void onResponseHead(Attempt a, HttpResponse response, TryOutcome outcome) {
        if (done || !race.inFlight(a)) {
            return;
        }
        race.recordHead(outcome.latencyNanos());
        int code = outcome.status();
        if (code >= 400 && race.othersInFlight(a)
                && RetryPolicy.condition(routeConfig.retry(), outcome) != null) {
            error = "upstream_status_" + code;
            race.drop(a); // a retriable answer while a hedged try still races: wait for that one
            return;
        }
        race.win(a);
        if (a.hedge()) {
            proxy.metrics().hedge(route.name(), "won");
        }
        wonAttempt = a.number();
        lastUpstream = a.upstream();
        if (code >= 400 && !responseStarted && !upgradeRequested) {
            long delay = retry.plan(outcome, a.sentAnything(), response.headers().get(HttpHeaderNames.RETRY_AFTER),
                    remainingNanos());
            if (delay >= 0) {
                error = "upstream_status_" + code;
                endTry();
                scheduleRetry(delay, a.sentAnything());
                return;
            }
        }
        status = code;
        admission.breakerHead(code, response.headers(), breakerNanos());
        responseStarted = true;
        boolean keepAlive = clientKeepAlive && !closeClientAfter && !proxy.draining();
        if (!downstream.writeHead(response, requestId, admission.hasResponseHeaders() ? admission::addResponseHeaders
                : null, keepAlive)) {
            closeClientAfter = true;
        }
    }

    @Override
    public void onResponseBody(Attempt a, HttpContent part) {
        if (a != race.latest() || done || !responseStarted) {
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
        downstream.writeBody(part);
        if (last) {
            downstream.flush();
            upstreamNanos = a.elapsedNanos();
            race.forget(); // the winner alone is left, and completes: its connection goes back to the pool
            a.completed(body.complete() && !retry.hasUnsent());
            admission.retryEnded();
            finish(!closeClientAfter);
            return;
        }
        if (!downstream.isWritable()) {
            a.pauseUpstream();
        }
    }

    @Override
    public void onUpstreamReadComplete(Attempt a) {
        if (responseStarted) {
            downstream.flush();
        }
    }

    @Override
    public void onResponseBroken(Attempt a) {
        if (a != race.latest() || done) {
            return;
        }
        // Bytes already went to the client: all we can do is not pretend the response was complete.
        error = "upstream_reset_mid_response";
        admission.breakerBroken();
        endTry();
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
        error = "route_timeout";
        if (responseStarted) {
            endTry();
            abortClient();
            return;
        }
        race.forEach(Attempt::timedOutByRoute);
        fail(LocalReply.UPSTREAM_TIMEOUT, "no response within the route timeout of "
                + routeConfig.timeout().toMillis() + "ms", 0);
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

    private void cancelRouteTimers() {
        if (routeTimer != null) {
            routeTimer.cancel(false);
            routeTimer = null;
        }
        if (backoffTimer != null) {
            backoffTimer.cancel(false);
            backoffTimer = null;
        }
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
        endTry();
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
        status = statusOverride > 0 ? statusOverride : reply.status();
        proxy.metrics().localReply(reply.code());
        FullHttpResponse response = reply.build(downstream.alloc(), request.protocolVersion(), message, requestId,
                statusOverride);
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
        endTry();
        finish(false);
    }

    /** The upstream switched protocols (WebSocket): the connection becomes a byte tunnel. */
    @Override
    public void onUpgrade(Attempt a, HttpResponse response, Channel upstreamChannel) {
        status = 101;
        cancelRouteTimers();
        admission.breakerResponse(101, breakerNanos());
        responseStarted = true;
        done = true;
        body.cancelTimer();
        retry.release();
        race.endAll();
        admission.releaseAll();
        upstreamNanos = a.elapsedNanos();
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
        done = true;
        cancelRouteTimers();
        body.cancelTimer();
        if (retry != null) {
            retry.release();
        }
        admission.releaseAll();
        log();
        downstream.resume(Downstream.PAUSE_CONNECTING | Downstream.PAUSE_BACKPRESSURE);
        downstream.complete(this, keepAlive && !closeClientAfter);
    }

    private void log() {
        long nanos = proxy.clock().nanoTime() - startNanos;
        int code = status == 0 ? 499 : status;
        proxy.metrics().request(route.name(), cluster.name(), code, nanos);
        AccessLog accessLog = proxy.accessLog();
        if (accessLog.enabled()) {
            accessLog.log(new AccessLog.Entry(startMillis, requestId, request.method().name(), path, code,
                    route.name(), cluster.name(), lastUpstream == null ? null : lastUpstream.address(),
                    retry == null ? 0 : retry.attempt(), nanos / 1e6, upstreamNanos / 1e6, body.bytes() + tunnelBytesIn, bytesOut,
                    status >= 400 || status == 0 ? error : null, race.hedgesSent() > 0,
                    wonAttempt > 0 ? wonAttempt : retry == null ? 0 : retry.attempt()));
        }
    }
}
