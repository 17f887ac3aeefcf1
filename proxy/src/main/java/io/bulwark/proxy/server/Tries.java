package io.bulwark.proxy.server;

import io.bulwark.config.RouteConfig;
import io.bulwark.proxy.retry.RetryState;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.FailureKind;
import io.bulwark.routing.GrpcStatus;
import io.bulwark.routing.Route;
import io.bulwark.routing.TryOutcome;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.retry.RetryPolicy;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * The tries of one admitted request (Envoy's router filter's retry and hedge loop): starts each
 * {@link Attempt} on an upstream the balancer picks, streams the body to the latest, sends a hedge
 * when the route asks for one, and on a failed try asks the {@link RetryState} whether and when to
 * try again. What reaches the client — a winning response, or the local reply when no try is left
 * — is the {@link Exchange}'s. Confined to the request's event loop.
 */
final class Tries implements Attempt.Owner {

    /** What the tries tell the exchange they belong to. */
    interface Owner {
        /** No try is left (none possible, or the last failed and may not be retried): answer locally. */
        void onTriesExhausted(LocalReply reply, String message);

        /** Why the latest try did not answer, for the access log if the request ends on it. */
        void onTryError(String error);

        /** Whether the request has ended, or its response has started (a try's news then only matters to it). */
        boolean ended();

        boolean responseStarted();

        /** Nanoseconds left before the route timeout. */
        long remainingNanos();

        /** Try {@code a}'s response head is the request's answer. */
        void respond(Attempt a, HttpResponse response, int status);

        /** A part of the answer's body ({@link Tries#relaying} says from which try). */
        void relay(Attempt a, HttpContent part);

        /** The upstream's read batch ended: flush what was relayed. */
        void flushToClient();

        /** The answer's connection closed before its response was complete. */
        void onResponseBroken(Attempt a);

        /** The upstream switched protocols (101): the connection becomes a tunnel. */
        void onUpgrade(Attempt a, HttpResponse response, Channel channel);
    }

    private final Owner owner;
    private final ProxyContext proxy;
    private final Downstream downstream;
    private final Route route;
    private final RouteConfig routeConfig;
    private final Admission admission;
    private final NettyRequestView view;
    private final RequestBody body;
    private final boolean idempotent;
    /** A gRPC call: once any of it may have reached the upstream, a failure is never retried. */
    private final boolean grpc;
    private final boolean upgradeRequested;
    private final RetryState retry;
    private final UpstreamRequest upstreamRequest;
    /** The tries in flight: one, or several while hedged tries race. */
    private final TryRace race;

    /** The cluster of the latest try; replaced by its successor if a reload retired it mid-request. */
    private Cluster cluster;
    private Upstream lastUpstream;
    /** The try whose response the client got (0 before one did). */
    private int wonAttempt;
    private ScheduledFuture<?> backoffTimer;

    Tries(Owner owner, ProxyContext proxy, Downstream downstream, Route route, Cluster cluster, Admission admission,
          NettyRequestView view, RequestBody body, HttpRequest request, String requestId, boolean upgradeRequested) {
        this.owner = owner;
        this.proxy = proxy;
        this.downstream = downstream;
        this.route = route;
        this.routeConfig = route.config();
        this.cluster = cluster;
        this.admission = admission;
        this.view = view;
        this.body = body;
        this.upgradeRequested = upgradeRequested;
        this.race = new TryRace(routeConfig.hedge(), route.policies().headLatency(), downstream.executor());
        String method = request.method().name();
        this.idempotent = !upgradeRequested && RetryPolicy.isIdempotent(method);
        String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
        this.grpc = contentType != null && contentType.regionMatches(true, 0, "application/grpc", 0, 16);
        this.retry = new RetryState(routeConfig.retry(), route.policies().backoff(), method,
                request.headers().contains("idempotency-key"), route.name(), cluster.name(), proxy.metrics(),
                admission);
        this.upstreamRequest = new UpstreamRequest(request, route.rewrite(request.uri()), upgradeRequested, downstream,
                requestId, routeConfig.requestHeaders(), cluster);
    }

    /** The first try, now or after {@code delayNanos} (a fault's injected delay). */
    void start(long delayNanos) {
        if (delayNanos > 0) {
            backoffTimer = downstream.executor().schedule(this::startTry, delayNanos, TimeUnit.NANOSECONDS);
        } else {
            startTry();
        }
    }

    Cluster cluster() {
        return cluster;
    }

    Upstream lastUpstream() {
        return lastUpstream;
    }

    /** Tries started so far. */
    int attempts() {
        return retry.attempt();
    }

    /** The try whose response the client got, else the last one started. */
    int wonAttempt() {
        return wonAttempt > 0 ? wonAttempt : retry.attempt();
    }

    boolean hedged() {
        return race.hedgesSent() > 0;
    }

    /** Whether everything the client sent went to the upstream (its connection can be pooled). */
    boolean allSent() {
        return !retry.hasUnsent();
    }

    private void startTry() {
        beginTry(false);
    }

    /** @param hedge a hedged try beside the one in flight: it gets its own copy of the (whole) body */
    private void beginTry(boolean hedge) {
        if (owner.ended()) {
            return;
        }
        int number = retry.nextAttempt();
        Attempt next = Attempt.choose(this, proxy, downstream, admission, retry, cluster, view, lastUpstream,
                upgradeRequested);
        if (next == null) {
            if (!hedge) { // no other upstream to hedge on: the try in flight goes on alone
                owner.onTriesExhausted(LocalReply.NO_HEALTHY_UPSTREAM, "no healthy upstream in cluster " + cluster.name());
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
                owner.onTriesExhausted(LocalReply.OVERLOADED, "cluster " + cluster.name()
                        + " is at max-pending-requests (" + cluster.config().limits().maxPendingRequests() + ")");
            }
            return;
        }
        race.armHedge(idempotent, this::onHedgeDelay);
    }

    /** No response head within the hedge delay: one more try on another upstream, if the budget allows. */
    private void onHedgeDelay() {
        if (owner.ended() || owner.responseStarted() || race.latest() == null || !body.complete()
                || !retry.replayable()) {
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

    /** Ends every try in flight (a connection still attached is closed, never pooled) and their accounting. */
    void endAll() {
        race.endAll();
        admission.retryEnded();
    }

    /** The request is over: timers off, the replay buffer let go (the tries were ended already). */
    void release() {
        if (backoffTimer != null) {
            backoffTimer.cancel(false);
            backoffTimer = null;
        }
        race.cancelHedge();
        retry.release();
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

    /** Try {@code a} failed before a response head: another try, the hedge still racing, or the end. */
    @Override
    public void onTryFailed(Attempt a, TryOutcome outcome, Throwable cause) {
        if (owner.ended() || !race.inFlight(a)) {
            return;
        }
        owner.onTryError(outcome.failure().tag());
        if (race.othersInFlight(a)) {
            race.drop(a); // a hedged try is still racing: the request waits for it
            return;
        }
        endAll();
        // A gRPC call whose messages may have reached the upstream is not sent again, whatever the route allows
        // for non-idempotent requests: a streaming call's messages cannot be replayed as a whole, and the
        // server may have acted on them. A stream the upstream refused unprocessed (a connect failure) is.
        boolean grpcSent = grpc && a.sentAnything() && outcome.failure() != FailureKind.CONNECT_FAILURE;
        long delay = owner.responseStarted() || upgradeRequested || grpcSent ? -1
                : retry.plan(outcome, a.sentAnything(), null, owner.remainingNanos());
        if (delay >= 0) {
            scheduleRetry(delay, a.sentAnything());
            return;
        }
        owner.onTriesExhausted(LocalReply.of(outcome.failure()),
                LocalReply.describe(outcome.failure(), a.upstream().address(), cause));
    }

    /** A reused connection was reset before any response byte: replay on a fresh one (unless a hedge races). */
    @Override
    public void onKeepAliveRace(Attempt a) {
        if (owner.ended() || !race.inFlight(a)) {
            return;
        }
        owner.onTryError("keepalive_race");
        if (race.othersInFlight(a)) {
            race.drop(a);
            return;
        }
        endAll();
        scheduleRetry(0, a.sentAnything());
    }

    /**
     * Try {@code a} has a final response head. A retriable status while a hedge still races is
     * dropped to wait for that one; a retriable status with a retry left schedules it; anything
     * else wins and is the request's answer.
     */
    @Override
    public void onResponseHead(Attempt a, HttpResponse response, TryOutcome outcome) {
        if (owner.ended() || !race.inFlight(a)) {
            return;
        }
        race.recordHead(outcome.latencyNanos());
        int code = outcome.status();
        // A gRPC error in the head (trailers-only) may be retried like an HTTP error status; one in the
        // trailers never is: the body before it went to the client.
        boolean failed = code >= 400 || outcome.grpcStatus() > GrpcStatus.OK;
        String why = !failed ? null : code >= 400 ? "upstream_status_" + code : "grpc_status_" + outcome.grpcStatus();
        if (failed && race.othersInFlight(a) && RetryPolicy.condition(routeConfig.retry(), outcome) != null) {
            owner.onTryError(why);
            race.drop(a); // a retriable answer while a hedged try still races: wait for that one
            return;
        }
        race.win(a);
        if (a.hedge()) {
            proxy.metrics().hedge(route.name(), "won");
        }
        wonAttempt = a.number();
        lastUpstream = a.upstream();
        if (failed && !owner.responseStarted() && !upgradeRequested) {
            long delay = retry.plan(outcome, a.sentAnything(), response.headers().get(HttpHeaderNames.RETRY_AFTER),
                    owner.remainingNanos());
            if (delay >= 0) {
                owner.onTryError(why);
                endAll();
                scheduleRetry(delay, a.sentAnything());
                return;
            }
        }
        owner.respond(a, response, code);
    }

    @Override
    public void onResponseBody(Attempt a, HttpContent part) {
        owner.relay(a, part);
    }

    @Override
    public void onUpstreamReadComplete(Attempt a) {
        owner.flushToClient();
    }

    @Override
    public void onResponseBroken(Attempt a) {
        owner.onResponseBroken(a);
    }

    @Override
    public void onUpgrade(Attempt a, HttpResponse response, Channel channel) {
        owner.onUpgrade(a, response, channel);
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

    /** Whether {@code a} is the try whose response is being relayed. */
    boolean relaying(Attempt a) {
        return a == race.latest();
    }

    /** The response is complete: the winner alone is left and goes back to the pool if it can. */
    void completed(Attempt a) {
        race.forget();
        a.completed(body.complete() && allSent());
        admission.retryEnded();
    }

    /** The route timed out: each try in flight is told so (for its upstream's outlier detection). */
    void timedOutByRoute() {
        race.forEach(Attempt::timedOutByRoute);
    }

    /**
     * Whether the latest try is connected and ready for more of the request body: then a body that
     * is still not complete is waiting on the client, not on the upstream (which would hold it back
     * by not reading, or by not being connected yet).
     */
    boolean readyForMoreBody() {
        Attempt latest = race.latest();
        Channel ch = latest == null ? null : latest.channel();
        return ch != null && ch.isWritable();
    }

    // ------------------------------------------------------------------ the request body

    /** A part of the admitted request's body: to the latest try's connection, or held until one exists. */
    void send(HttpContent content) {
        HttpContent toSend = retry.keep(content);
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

    /** The client's read batch ended: what it brought goes out to the upstream in one flush. */
    void flush() {
        if (race.latest() != null) {
            race.latest().flush();
        }
    }

    /** The client can take more: the upstream may be read again. */
    void resumeUpstream() {
        if (race.latest() != null) {
            race.latest().resumeUpstream();
        }
    }
}
