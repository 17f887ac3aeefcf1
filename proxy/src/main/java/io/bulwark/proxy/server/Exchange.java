package io.bulwark.proxy.server;

import io.bulwark.config.RetryConfig;
import io.bulwark.config.RouteConfig;
import io.bulwark.proxy.Policies;
import io.bulwark.proxy.Snapshot;
import io.bulwark.routing.ratelimit.RateLimitDecision;
import io.bulwark.routing.ratelimit.RouteRateLimiter;
import io.bulwark.routing.retry.Backoff;
import io.bulwark.routing.retry.RetryDecision;
import io.bulwark.routing.retry.RetryPolicy;
import io.bulwark.routing.retry.TryFailure;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.bulwark.proxy.log.AccessLog;
import io.bulwark.proxy.pool.ConnectionPool;
import io.bulwark.proxy.pool.UpstreamConnection;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.HostSet;
import io.bulwark.routing.Route;
import io.bulwark.routing.Upstream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.ConnectException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One request and its response, from the request headers to the last response byte. Lives on the
 * downstream connection's event loop, as do the upstream connections it uses, so nothing here is
 * shared or locked.
 *
 * <p>Order of work: pick a cluster (route split) and an upstream (the cluster's balancer, avoiding
 * upstreams already tried), take a pooled connection, send the request and stream its body, relay
 * the response. A try that fails before any response byte reached the client may be retried
 * according to the route's retry policy; the request body is kept for replay up to
 * {@code buffer-limit}, as retained slices of the received buffers (never copied).
 */
final class Exchange implements ConnectionPool.AcquireCallback, UpstreamConnection.Listener {

    /** Why a try failed, as outcome tags and access-log errors name it. */
    enum Failure {
        CONNECT("connect_failure", LocalReply.UPSTREAM_CONNECT_FAILURE, Upstream.LocalFailure.CONNECT_FAILURE),
        RESET("reset", LocalReply.UPSTREAM_RESET, Upstream.LocalFailure.RESET),
        PROTOCOL("protocol_error", LocalReply.UPSTREAM_PROTOCOL_ERROR, Upstream.LocalFailure.RESET),
        TIMEOUT("timeout", LocalReply.UPSTREAM_TIMEOUT, Upstream.LocalFailure.TIMEOUT);

        final String tag;
        final LocalReply reply;
        final Upstream.LocalFailure kind;

        Failure(String tag, LocalReply reply, Upstream.LocalFailure kind) {
            this.tag = tag;
            this.reply = reply;
            this.kind = kind;
        }
    }

    private final FrontendHandler frontend;
    private final ChannelHandlerContext client;
    private final ProxyContext proxy;
    private final Route route;
    private final RouteConfig routeConfig;
    private final RetryConfig retry;
    /** The cluster this request goes to; replaced by its successor if a reload retired it mid-request. */
    private Cluster cluster;
    private final HttpRequest request;
    private final String requestId;
    private final String path;
    private final boolean clientKeepAlive;
    private final boolean upgradeRequested;
    private final Policies.Route routePolicy;
    private final RequestGuards guards;
    /** Response headers the proxy adds (rate-limit headers), or null. */
    private HttpHeaders extraResponseHeaders;
    private final NettyRequestView view;
    private final HttpHeaders upstreamHeaders;
    private final String upstreamUri;
    private final long startNanos = System.nanoTime();
    private final long startMillis = System.currentTimeMillis();

    // Request body: parts not yet written to the current try, and parts kept for replay.
    private final ArrayDeque<HttpContent> unsent = new ArrayDeque<>(4);
    private final ArrayList<HttpContent> replay = new ArrayList<>(4);
    private boolean replayable = true;
    private long replayBytes;
    private boolean requestComplete;
    private long bytesIn;

    // The current try.
    private int attempt;
    private Upstream upstream;
    private UpstreamConnection connection;
    private boolean waitingForConnection;
    private boolean tryOpen;
    private long tryStartNanos;
    private boolean sentAnything;
    private boolean upstreamPausedByUs;
    private Set<Upstream> tried = Set.of();
    private ScheduledFuture<?> tryTimer;
    private ScheduledFuture<?> routeTimer;
    private ScheduledFuture<?> backoffTimer;
    private ScheduledFuture<?> bodyTimer;
    private long upstreamNanos;
    private boolean tryOnReusedConnection;
    private boolean raceReplayed;
    private boolean freshConnection;

    // The response.
    private boolean responseStarted;
    private boolean closeClientAfter;
    private int status;
    private long bytesOut;
    private String error;
    private boolean done;

    Exchange(FrontendHandler frontend, Snapshot snapshot, Route route, HttpRequest request, String requestId,
             String path, boolean clientKeepAlive) {
        this.frontend = frontend;
        this.client = frontend.ctx();
        this.proxy = frontend.proxy();
        this.route = route;
        this.routeConfig = route.config();
        this.retry = routeConfig.retry();
        this.cluster = route.pickCluster();
        this.request = request;
        this.requestId = requestId;
        this.path = path;
        this.clientKeepAlive = clientKeepAlive;
        this.upgradeRequested = Headers.isUpgradeRequest(request.headers());
        this.routePolicy = snapshot.policies(route);
        this.guards = new RequestGuards(routePolicy, snapshot.policies(cluster));
        this.view = new NettyRequestView(request, path, frontend.requestClientIp());
        this.upstreamUri = route.rewrite(request.uri());
        this.upstreamHeaders = upstreamHeaders(request);
    }

    boolean requestComplete() {
        return requestComplete;
    }

    // ------------------------------------------------------------------ start and tries

    /**
     * @param expectContinue the client sent {@code Expect: 100-continue}: it gets its final status at
     *     once if the request is refused here (rate limit, bulkhead, fault), else {@code 100 Continue}
     */
    void start(boolean expectContinue) {
        if (!requestComplete && (HttpUtil.getContentLength(request, 0L) > 0 || HttpUtil.isTransferEncodingChunked(request))) {
            armBodyTimer();
        }
        long timeoutNanos = routeConfig.timeout().toNanos();
        if (timeoutNanos > 0) {
            routeTimer = client.executor().schedule(this::onRouteTimeout, timeoutNanos, TimeUnit.NANOSECONDS);
        }
        frontend.pause(FrontendHandler.PAUSE_CONNECTING);
        RouteRateLimiter limiter = routePolicy.rateLimiter();
        if (limiter != null) {
            RateLimitDecision decision = limiter.tryAcquire(view);
            extraResponseHeaders = new DefaultHttpHeaders()
                    .set("RateLimit-Policy", limiter.policyHeader())
                    .set("RateLimit", limiter.rateLimitHeader(decision));
            if (!decision.allowed()) {
                extraResponseHeaders.set(HttpHeaderNames.RETRY_AFTER, decision.retryAfterSeconds());
                proxy.metrics().rateLimited(route.name());
                closeClientAfter = !requestComplete; // the body, if any, is not read
                fail(LocalReply.RATE_LIMITED, "rate limit of route " + route.name() + " exceeded", null);
                return;
            }
        }
        if (!guards.admit()) {
            closeClientAfter = !requestComplete;
            fail(LocalReply.OVERLOADED, "cluster " + cluster.name() + " is at max-concurrent-requests ("
                    + cluster.config().limits().maxConcurrentRequests() + ")", null);
            return;
        }
        FaultInjection.Decision fault = proxy.faults().decide(route);
        if (fault.abortStatus() > 0) {
            closeClientAfter = !requestComplete; // the body, if any, is not read
            fail(LocalReply.FAULT_INJECTED, "fault injected by route " + route.name(), fault.abortStatus());
            return;
        }
        if (expectContinue && !requestComplete) {
            frontend.sendContinue();
        }
        if (fault.delayNanos() > 0) {
            backoffTimer = client.executor().schedule(this::startTry, fault.delayNanos(), TimeUnit.NANOSECONDS);
            return;
        }
        startTry();
    }

    private void startTry() {
        if (done) {
            return;
        }
        attempt++;
        if (!guards.tryBreaker()) {
            fail(LocalReply.CIRCUIT_OPEN, "the circuit breaker of cluster " + cluster.name() + " is open", null);
            return;
        }
        HostSet hosts = cluster.hostSet();
        Set<Upstream> avoid = upstream == null ? Set.of() : triedIncluding(upstream);
        Upstream chosen = cluster.loadBalancer().choose(hosts, view, avoid);
        if (chosen == null) {
            // A reload may have retired this cluster between routing and this try (its upstreams now
            // draining): a request that has reached no upstream yet follows the reload.
            Cluster successor = proxy.snapshot().clusters().get(cluster.name());
            if (successor != null && successor != cluster) {
                cluster = successor;
                chosen = cluster.loadBalancer().choose(cluster.hostSet(), view, Set.of());
            }
        }
        if (chosen == null) {
            fail(LocalReply.NO_HEALTHY_UPSTREAM, "no healthy upstream in cluster " + cluster.name(), null);
            return;
        }
        upstream = chosen;
        tryOpen = true;
        sentAnything = false;
        tryStartNanos = System.nanoTime();
        chosen.onRequestStart();
        long perTry = retry.perTryTimeout().toNanos();
        if (perTry > 0) {
            tryTimer = client.executor().schedule(this::onTryTimeout, perTry, TimeUnit.NANOSECONDS);
        }
        waitingForConnection = true;
        ConnectionPool pool = proxy.pools().forLoop(client.executor());
        boolean fresh = freshConnection;
        freshConnection = false;
        boolean queued = pool.acquire(chosen, cluster.config(), fresh, this);
        if (queued && !guards.enterPending()) {
            pool.cancelWait(chosen, this);
            waitingForConnection = false;
            fail(LocalReply.OVERLOADED, "cluster " + cluster.name() + " is at max-pending-requests ("
                    + cluster.config().limits().maxPendingRequests() + ")", null);
        }
    }

    private Set<Upstream> triedIncluding(Upstream last) {
        if (tried.isEmpty()) {
            tried = new HashSet<>(4);
        }
        tried.add(last);
        return tried;
    }

    @Override
    public void onAcquired(UpstreamConnection acquired) {
        waitingForConnection = false;
        guards.leavePending();
        if (done || !tryOpen || acquired.upstream() != upstream) {
            // The request gave up (timeout, client left) while the connection was being made.
            acquired.release();
            return;
        }
        connection = acquired;
        tryOnReusedConnection = acquired.reused();
        acquired.bind(this);
        Channel ch = acquired.channel();
        // The headers are encoded as the request is written (we are on the connection's event loop), so a
        // retry can reuse the same headers object with a new attempt number.
        HttpRequest upstreamRequest = new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(), upstreamUri,
                upstreamHeaders.setInt(Headers.X_BULWARK_ATTEMPT, attempt));
        ch.write(upstreamRequest);
        sentAnything = true;
        HttpContent part;
        while ((part = unsent.poll()) != null) {
            ch.write(part);
        }
        ch.flush();
        if (ch.isWritable()) {
            // Back-pressure from an earlier try's connection no longer applies.
            frontend.resume(FrontendHandler.PAUSE_CONNECTING | FrontendHandler.PAUSE_BACKPRESSURE);
        } else {
            frontend.pause(FrontendHandler.PAUSE_BACKPRESSURE);
            frontend.resume(FrontendHandler.PAUSE_CONNECTING);
        }
    }

    @Override
    public void onAcquireFailed(Throwable cause, boolean connectFailure) {
        waitingForConnection = false;
        guards.leavePending();
        if (done || !tryOpen) {
            return;
        }
        tryFailed(Failure.CONNECT, cause);
    }

    // ------------------------------------------------------------------ request body

    void onRequestContent(HttpContent content) {
        int size = content.content().readableBytes();
        bytesIn += size;
        boolean last = content instanceof LastHttpContent;
        if (last) {
            requestComplete = true;
            cancelBodyTimer();
        } else if (!done) {
            armBodyTimer();
        }
        long max = frontend.listener().maxBodySize();
        if (max > 0 && bytesIn > max) {
            content.release();
            closeClientAfter = true;
            fail(LocalReply.BODY_TOO_LARGE, "request body exceeds the limit of " + max + " bytes", null);
            return;
        }
        if (done) {
            content.release();
            return;
        }
        HttpContent toSend = content;
        if (replayable) {
            if (replayBytes + size <= retry.bufferLimit()) {
                replay.add(content);
                replayBytes += size;
                toSend = content.retainedDuplicate();
            } else {
                dropReplay();
            }
        }
        if (connection != null) {
            connection.channel().write(toSend);
            if (!connection.channel().isWritable()) {
                frontend.pause(FrontendHandler.PAUSE_BACKPRESSURE);
            }
        } else {
            unsent.add(toSend);
        }
    }

    private void dropReplay() {
        replayable = false;
        for (HttpContent c : replay) {
            c.release();
        }
        replay.clear();
        replayBytes = 0;
    }

    void onClientReadComplete() {
        if (connection != null) {
            connection.channel().flush();
        }
    }

    void onClientWritabilityChanged(boolean writable) {
        if (writable && upstreamPausedByUs && connection != null) {
            upstreamPausedByUs = false;
            connection.channel().config().setAutoRead(true);
            connection.channel().read();
        }
    }

    @Override
    public void onUpstreamWritable(UpstreamConnection c) {
        if (c == connection) {
            frontend.resume(FrontendHandler.PAUSE_BACKPRESSURE);
        }
    }

    // ------------------------------------------------------------------ response

    @Override
    public void onUpstreamResponse(UpstreamConnection c, HttpResponse response) {
        if (c != connection || done) {
            return;
        }
        int code = response.status().code();
        if (code == 101 && upgradeRequested) {
            startTunnel(c, response);
            return;
        }
        if (code >= 100 && code < 200) {
            return; // other interim responses are not relayed; the final one follows
        }
        long latency = System.nanoTime() - tryStartNanos;
        upstream.onResponse(code, latency);
        guards.breakerResponse(code, latency);
        proxy.metrics().upstreamTry(cluster.name(), upstream.address(), statusClass(code), latency);
        cancelTryTimer();
        if (code >= 400) {
            long delay = planRetry(TryFailure.status(code), response.headers().get(HttpHeaderNames.RETRY_AFTER));
            if (delay >= 0) {
                error = "upstream_status_" + code;
                endTry();
                scheduleRetry(delay);
                return;
            }
        }
        status = code;
        // The upstream's response object is ours and is not used again: its headers are edited in place
        // rather than copied (a copy per response was the largest allocation on the hot path).
        boolean upstreamChunked = HttpUtil.isTransferEncodingChunked(response);
        HttpResponse toClient = new DefaultHttpResponse(request.protocolVersion() == HttpVersion.HTTP_1_0
                ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1, response.status(), response.headers());
        prepareClientResponse(toClient, upstreamChunked);
        responseStarted = true;
        client.write(toClient);
    }

    private static final String[] STATUS_CLASSES = {"0xx", "1xx", "2xx", "3xx", "4xx", "5xx"};

    private static String statusClass(int code) {
        int c = code / 100;
        return c >= 0 && c < STATUS_CLASSES.length ? STATUS_CLASSES[c] : "other";
    }

    private void prepareClientResponse(HttpResponse toClient, boolean chunked) {
        HttpHeaders h = toClient.headers();
        boolean hasLength = h.contains(HttpHeaderNames.CONTENT_LENGTH);
        Headers.stripHopByHop(h, false);
        h.set(Headers.X_REQUEST_ID, requestId);
        if (extraResponseHeaders != null) {
            h.add(extraResponseHeaders);
        }
        boolean bodyless = request.method() == HttpMethod.HEAD || status == 204 || status == 304;
        boolean http10Client = request.protocolVersion() == HttpVersion.HTTP_1_0;
        if (!bodyless && !hasLength) {
            if (http10Client) {
                closeClientAfter = true; // body delimited by the connection close
            } else if (chunked || !hasLength) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        } else if (bodyless && chunked && !http10Client) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        boolean keepAlive = clientKeepAlive && !closeClientAfter && !frontend.closeAfterResponse()
                && !proxy.draining();
        if (!keepAlive) {
            closeClientAfter = true;
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10Client) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
    }

    @Override
    public void onUpstreamContent(UpstreamConnection c, HttpContent content) {
        if (c != connection || done || !responseStarted) {
            content.release();
            return;
        }
        bytesOut += content.content().readableBytes();
        boolean last = content instanceof LastHttpContent;
        if (last && request.protocolVersion() == HttpVersion.HTTP_1_0 && closeClientAfter
                && !((LastHttpContent) content).trailingHeaders().isEmpty()) {
            // HTTP/1.0 cannot carry trailers; keep the bytes, drop the trailer fields.
            HttpContent plain = new io.netty.handler.codec.http.DefaultLastHttpContent(content.content().retain());
            content.release();
            content = plain;
        }
        client.write(content);
        if (last) {
            responseComplete(c);
            return;
        }
        if (!client.channel().isWritable() && !upstreamPausedByUs) {
            upstreamPausedByUs = true;
            c.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void onUpstreamReadComplete(UpstreamConnection c) {
        if (c == connection && responseStarted) {
            client.flush();
        }
    }

    private void responseComplete(UpstreamConnection c) {
        client.flush();
        boolean reusable = requestComplete && unsent.isEmpty();
        if (upstreamPausedByUs) {
            upstreamPausedByUs = false;
            c.channel().config().setAutoRead(true);
        }
        upstreamNanos = System.nanoTime() - tryStartNanos;
        connection = null;
        endTry();
        if (reusable) {
            c.release();
        } else {
            c.discard();
        }
        finish(!closeClientAfter);
    }

    @Override
    public void onUpstreamClosed(UpstreamConnection c, Throwable cause) {
        if (c != connection || done) {
            return;
        }
        connection = null;
        if (responseStarted) {
            // Bytes already went to the client: all we can do is not pretend the response was complete.
            error = "upstream_reset_mid_response";
            upstream.onLocalFailure(Upstream.LocalFailure.RESET, System.nanoTime() - tryStartNanos);
            endTry();
            abortClient();
            return;
        }
        Failure failure = cause instanceof UpstreamConnection.UpstreamProtocolException ? Failure.PROTOCOL
                : Failure.RESET;
        tryFailed(failure, cause);
    }

    // ------------------------------------------------------------------ failures and retries

    private void tryFailed(Failure failure, Throwable cause) {
        long latency = System.nanoTime() - tryStartNanos;
        Upstream failed = upstream;
        if (failure == Failure.RESET && keepAliveRace()) {
            // The upstream closed a pooled idle connection as we reused it: not the upstream failing.
            raceReplayed = true;
            error = "keepalive_race";
            cancelTryTimer();
            endTry();
            attempt--; // the replay repeats the same attempt on a fresh connection
            freshConnection = true;
            proxy.metrics().retry(route.name(), "keepalive_race");
            scheduleRetry(0);
            return;
        }
        if (failed != null) {
            failed.onLocalFailure(failure.kind, latency);
            proxy.metrics().upstreamTry(cluster.name(), failed.address(), failure.tag, latency);
        }
        guards.breakerFailure(failure.kind, latency);
        error = failure.tag;
        cancelTryTimer();
        endTry();
        long delay = planRetry(TryFailure.of(failure.kind), null);
        if (delay >= 0) {
            scheduleRetry(delay);
            return;
        }
        String where = failed == null ? cluster.name() : failed.address();
        String message = switch (failure) {
            case CONNECT -> "could not connect to " + where + describe(cause);
            case RESET -> "upstream " + where + " closed the connection before responding";
            case PROTOCOL -> "upstream " + where + " sent a malformed response" + describe(cause);
            case TIMEOUT -> "upstream " + where + " did not respond in time";
        };
        fail(failure.reply, message, null);
    }

    private static String describe(Throwable cause) {
        if (cause == null || cause.getMessage() == null) {
            return "";
        }
        return ": " + cause.getMessage();
    }

    /**
     * Whether a failed try is retried, and after how long (-1: not retried). The route's policy
     * decides first ({@link RetryPolicy}: the condition is named in retry-on, tries are left, and a
     * request that reached the upstream is re-sent only if its method is idempotent, or the route
     * allows it, and its body is whole in the replay buffer). Never once a response byte went to the
     * client. An upstream's Retry-After is honoured when it fits the route deadline. Last, the
     * retry must fit the route's retry budget and the cluster's max-concurrent-retries; refusals
     * are counted, and the client gets the failure as it is.
     */
    private long planRetry(TryFailure failure, String retryAfter) {
        if (done || responseStarted || upgradeRequested) {
            return -1;
        }
        RetryDecision decision = RetryPolicy.decide(retry, request.method().name(), failure, sentAnything,
                replayable || !sentAnything, attempt);
        if (!decision.retry()) {
            return -1;
        }
        long remaining = remainingNanos();
        long delay = routePolicy.backoff().delayNanos(attempt);
        if (retryAfter != null) {
            Backoff.RetryAfter wait = routePolicy.backoff().retryAfter(retryAfter, remaining);
            switch (wait.action()) {
                case DONT_RETRY -> {
                    return -1;
                }
                case WAIT -> delay = wait.delayNanos();
                case USE_BACKOFF -> { }
            }
        }
        if (delay >= remaining) {
            return -1;
        }
        switch (guards.admitRetry()) {
            case BUDGET -> {
                proxy.metrics().retryBudgetExhausted(route.name());
                return -1;
            }
            case LIMIT -> {
                proxy.metrics().retryLimitReached(cluster.name());
                return -1;
            }
            case NONE -> { }
        }
        proxy.metrics().retry(route.name(), decision.reason());
        return delay;
    }

    /**
     * A reset before any response byte on a connection that served an earlier request is most
     * likely the keep-alive race (the upstream closed the idle connection as it was reused). It is
     * replayed once, on a fresh connection, without counting as a retry, when replaying is safe:
     * an idempotent method or an {@code Idempotency-Key} header, and a body that is whole. A
     * non-idempotent request without a key gets the 502, as Go's net/http does: it may have been
     * processed, and a replay could do it twice.
     */
    private boolean keepAliveRace() {
        if (raceReplayed || !tryOnReusedConnection || responseStarted || done || upgradeRequested) {
            return false;
        }
        boolean safe = RetryPolicy.isIdempotent(request.method().name())
                || request.headers().contains("idempotency-key");
        return safe && (replayable || bytesIn == 0);
    }

    /** Nanoseconds left before the route timeout (effectively unbounded without one). */
    private long remainingNanos() {
        long timeout = routeConfig.timeout().toNanos();
        return timeout <= 0 ? Long.MAX_VALUE : timeout - (System.nanoTime() - startNanos);
    }

    private void scheduleRetry(long delay) {
        // Rebuild the body to send from the replay buffer (the failed try consumed its duplicates).
        if (sentAnything) {
            HttpContent c;
            while ((c = unsent.poll()) != null) {
                c.release();
            }
            for (HttpContent kept : replay) {
                unsent.add(kept.retainedDuplicate());
            }
        }
        frontend.pause(FrontendHandler.PAUSE_CONNECTING);
        if (delay == 0) {
            startTry();
        } else {
            backoffTimer = client.executor().schedule(this::startTry, delay, TimeUnit.NANOSECONDS);
        }
    }

    private void onTryTimeout() {
        tryTimer = null;
        if (done || !tryOpen || responseStarted) {
            return;
        }
        UpstreamConnection c = connection;
        connection = null;
        if (c != null) {
            c.discard();
        } else if (waitingForConnection) {
            proxy.pools().forLoop(client.executor()).cancelWait(upstream, this);
        }
        tryFailed(Failure.TIMEOUT, null);
    }

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
        if (tryOpen && upstream != null) {
            long latency = System.nanoTime() - tryStartNanos;
            upstream.onLocalFailure(Upstream.LocalFailure.TIMEOUT, latency);
            guards.breakerFailure(Upstream.LocalFailure.TIMEOUT, latency);
            proxy.metrics().upstreamTry(cluster.name(), upstream.address(), "timeout", latency);
        }
        fail(LocalReply.UPSTREAM_TIMEOUT, "no response within the route timeout of "
                + routeConfig.timeout().toMillis() + "ms", null);
    }

    /** The body must keep coming: a stall of {@code listener.body-timeout} ends the request with 408. */
    private void armBodyTimer() {
        long nanos = frontend.listener().bodyTimeout().toNanos();
        if (nanos <= 0) {
            return;
        }
        cancelBodyTimer();
        bodyTimer = client.executor().schedule(this::onBodyTimeout, nanos, TimeUnit.NANOSECONDS);
    }

    private void cancelBodyTimer() {
        if (bodyTimer != null) {
            bodyTimer.cancel(false);
            bodyTimer = null;
        }
    }

    private void onBodyTimeout() {
        bodyTimer = null;
        if (done || requestComplete) {
            return;
        }
        closeClientAfter = true;
        error = "body_timeout";
        fail(LocalReply.REQUEST_TIMEOUT, "request body stalled for "
                + frontend.listener().bodyTimeout().toMillis() + "ms", null);
    }

    private void cancelTryTimer() {
        if (tryTimer != null) {
            tryTimer.cancel(false);
            tryTimer = null;
        }
    }

    /** Ends the current try's accounting; a connection still attached is closed, never pooled. */
    private void endTry() {
        cancelTryTimer();
        guards.breakerAbandon();
        guards.retryEnded();
        UpstreamConnection c = connection;
        connection = null;
        if (c != null) {
            c.discard();
        }
        if (waitingForConnection && upstream != null) {
            proxy.pools().forLoop(client.executor()).cancelWait(upstream, this);
            waitingForConnection = false;
            guards.leavePending();
        }
        if (upstreamPausedByUs) {
            upstreamPausedByUs = false;
        }
        if (tryOpen) {
            tryOpen = false;
            upstream.onRequestEnd();
        }
    }

    /** Answers with a local reply (if nothing was sent yet) and ends the exchange. */
    private void fail(LocalReply reply, String message, Integer statusOverride) {
        if (done) {
            return;
        }
        endTry();
        if (responseStarted) {
            abortClient();
            return;
        }
        error = reply.code();
        status = statusOverride != null ? statusOverride : reply.status();
        proxy.metrics().localReply(reply.code());
        FullHttpResponse response = reply.build(client.alloc(), request.protocolVersion(), message, requestId,
                statusOverride == null ? 0 : statusOverride);
        boolean keepAlive = clientKeepAlive && requestComplete && !closeClientAfter && !frontend.closeAfterResponse()
                && !proxy.draining();
        if (!keepAlive) {
            closeClientAfter = true;
        }
        HttpUtil.setKeepAlive(response, keepAlive);
        if (extraResponseHeaders != null) {
            response.headers().add(extraResponseHeaders);
        }
        bytesOut = response.content().readableBytes();
        responseStarted = true;
        client.writeAndFlush(response);
        finish(keepAlive);
    }

    /**
     * The request turned out malformed after it started (a framing error in its body): the
     * upstream connection is dropped, never pooled, and the client gets {@code reply} if no
     * response byte went out yet; either way its connection closes.
     */
    void abortRequest(LocalReply reply, String message) {
        closeClientAfter = true;
        requestComplete = false;
        fail(reply, message, null);
    }

    /** The client connection cannot carry a complete response any more: close it. */
    private void abortClient() {
        closeClientAfter = true;
        client.close();
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

    // ------------------------------------------------------------------ tunnel (WebSocket and other upgrades)

    private void startTunnel(UpstreamConnection c, HttpResponse response) {
        status = 101;
        cancelTryTimer();
        cancelRouteTimer();
        long latency = System.nanoTime() - tryStartNanos;
        upstreamNanos = latency;
        upstream.onResponse(101, latency);
        HttpResponse toClient = new DefaultHttpResponse(HttpVersion.HTTP_1_1, response.status(),
                response.headers().copy());
        Headers.stripHopByHop(toClient.headers(), true);
        toClient.headers().set(Headers.X_REQUEST_ID, requestId);
        responseStarted = true;
        connection = null;
        client.writeAndFlush(toClient);
        done = true;
        cancelBodyTimer();
        releaseBody();
        guards.releaseAll();
        if (tryOpen) {
            tryOpen = false;
            upstream.onRequestEnd();
        }
        // Logged (and timed) when the tunnel ends, with the bytes relayed both ways, not at the 101.
        frontend.becomeTunnel(c.channel(), traffic -> {
            bytesIn += traffic.fromClient;
            bytesOut += traffic.toClient;
            log();
        });
    }

    // ------------------------------------------------------------------ completion

    private void cancelRouteTimer() {
        if (routeTimer != null) {
            routeTimer.cancel(false);
            routeTimer = null;
        }
        if (backoffTimer != null) {
            backoffTimer.cancel(false);
            backoffTimer = null;
        }
    }

    private void releaseBody() {
        HttpContent c;
        while ((c = unsent.poll()) != null) {
            c.release();
        }
        for (HttpContent kept : replay) {
            kept.release();
        }
        replay.clear();
    }

    private void finish(boolean keepAlive) {
        if (done) {
            return;
        }
        done = true;
        cancelRouteTimer();
        cancelBodyTimer();
        releaseBody();
        guards.releaseAll();
        log();
        frontend.resume(FrontendHandler.PAUSE_CONNECTING | FrontendHandler.PAUSE_BACKPRESSURE);
        frontend.onExchangeComplete(this, keepAlive && !closeClientAfter);
    }

    private void log() {
        long nanos = System.nanoTime() - startNanos;
        int code = status == 0 ? 499 : status;
        proxy.metrics().request(route.name(), cluster.name(), code, nanos);
        AccessLog accessLog = proxy.accessLog();
        if (accessLog.enabled()) {
            accessLog.log(new AccessLog.Entry(startMillis, requestId, request.method().name(), path, code,
                    route.name(), cluster.name(), upstream == null ? null : upstream.address(), attempt,
                    nanos / 1e6, upstreamNanos / 1e6, bytesIn, bytesOut, status >= 400 || status == 0 ? error : null));
        }
    }

    // ------------------------------------------------------------------ upstream request headers

    private HttpHeaders upstreamHeaders(HttpRequest req) {
        HttpHeaders h = req.headers().copy();
        boolean chunked = HttpUtil.isTransferEncodingChunked(req);
        String originalHost = req.headers().get(HttpHeaderNames.HOST);
        List<String> priorForwardedFor = h.getAll(Headers.X_FORWARDED_FOR);
        Headers.stripHopByHop(h, upgradeRequested);
        if (chunked) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        String clientIp = frontend.clientIp();
        String forwardedFor = priorForwardedFor.isEmpty() ? clientIp
                : String.join(", ", priorForwardedFor) + ", " + clientIp;
        h.set(Headers.X_FORWARDED_FOR, forwardedFor);
        h.set(Headers.X_FORWARDED_PROTO, frontend.secure() ? "https" : "http");
        if (originalHost != null) {
            h.set(Headers.X_FORWARDED_HOST, originalHost);
        } else {
            h.remove(Headers.X_FORWARDED_HOST);
        }
        h.set(Headers.X_REQUEST_ID, requestId);
        RouteConfig.HeaderRewrite rewrite = routeConfig.requestHeaders();
        for (String name : rewrite.remove()) {
            h.remove(name);
        }
        for (Map.Entry<String, String> e : rewrite.add().entrySet()) {
            h.set(e.getKey(), e.getValue());
        }
        if (originalHost == null && req.protocolVersion() == HttpVersion.HTTP_1_0) {
            // An HTTP/1.0 request may lack Host; HTTP/1.1 upstreams require one.
            java.net.InetSocketAddress first = cluster.upstreams().isEmpty() ? null
                    : cluster.upstreams().get(0).socketAddress();
            if (first != null) {
                h.set(HttpHeaderNames.HOST, first.getHostString() + ":" + first.getPort());
            }
        }
        return h;
    }
}
