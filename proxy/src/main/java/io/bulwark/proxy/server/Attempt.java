package io.bulwark.proxy.server;

import io.bulwark.proxy.pool.ConnectionPool;
import io.bulwark.proxy.pool.UpstreamConnection;
import io.bulwark.proxy.retry.RetryState;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.FailureKind;
import io.bulwark.routing.GrpcStatus;
import io.bulwark.routing.RequestView;
import io.bulwark.routing.TryOutcome;
import io.bulwark.routing.Upstream;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One try of a request on one upstream (Envoy's {@code UpstreamRequest}): takes a pooled
 * connection, writes the request head and the body parts the {@link RetryState} holds, relays
 * the response parts to its {@link Exchange}, runs the per-try timer, and reports the try's
 * {@link TryOutcome} once — to the upstream (and so its outlier detector) and to the metrics —
 * before the exchange decides what follows. A gRPC answer whose {@code grpc-status} comes in its
 * trailers is reported to the metrics at its head and to the upstream when the trailers come, so
 * the detector judges the call by its status. Lives on the request's event loop, as do the
 * upstream connections it uses.
 */
final class Attempt implements ConnectionPool.AcquireCallback, UpstreamConnection.Listener {

    /** What the attempt tells its exchange. */
    interface Owner {
        /** The try failed before a response head (already reported); the connection is gone. */
        void onTryFailed(Attempt attempt, TryOutcome outcome, Throwable cause);

        /** A final response head arrived (already reported). */
        void onResponseHead(Attempt attempt, HttpResponse response, TryOutcome outcome);

        /** The upstream switched protocols (101) on an upgrade request; {@code channel} is the tunnel's now. */
        void onUpgrade(Attempt attempt, HttpResponse response, Channel channel);

        /**
         * A reused connection was reset before any response byte: the keep-alive race, not the
         * upstream failing (nothing reported). The {@link RetryState} allowed one replay on a fresh connection.
         */
        void onKeepAliveRace(Attempt attempt);

        void onResponseBody(Attempt attempt, HttpContent part);

        void onUpstreamReadComplete(Attempt attempt);

        /** The connection closed after the response head, before the response was complete. */
        void onResponseBroken(Attempt attempt);

        /** The request went out on the connection (head and the body parts held so far). */
        void onRequestWritten(Attempt attempt, Channel channel);
    }

    private final Owner owner;
    private final ProxyContext proxy;
    private final Downstream downstream;
    private final Admission admission;
    private final RetryState retry;
    private final Cluster cluster;
    private final String clusterName;
    private final Upstream upstream;
    private final long startNanos;
    private final boolean upgradeRequested;

    private HttpRequest request;
    /** The try's own copy of the body (a hedge); null: the body comes from the retry state's queue. */
    private java.util.ArrayDeque<HttpContent> ownBody;
    private int number;
    private boolean hedge;
    private UpstreamConnection connection;
    private boolean waitingForConnection;
    private boolean open = true;
    private boolean reported;
    private boolean sentAnything;
    private boolean reusedConnection;
    private boolean upstreamPaused;
    private ScheduledFuture<?> timer;
    /**
     * A gRPC response whose {@code grpc-status} comes in its trailers: its outcome so far, for the
     * upstream to judge once they come ({@link #settleGrpc}); null otherwise.
     */
    private TryOutcome grpcAwaitingTrailers;

    /**
     * Chooses the upstream for the next try of a request: the cluster's load balancer over its
     * usable upstreams, avoiding those already tried. A reload may have retired the cluster between
     * routing and this try (its upstreams now draining): a request that has reached no upstream
     * yet follows the reload to the cluster of the same name.
     *
     * @return the try, not started yet ({@link #cluster()} says which cluster it chose from); null
     *     when no upstream is usable (503 {@code no_healthy_upstream})
     */
    static Attempt choose(Owner owner, ProxyContext proxy, Downstream downstream, Admission admission,
                          RetryState retry, Cluster cluster, RequestView view, Upstream last, boolean upgrade) {
        Upstream chosen = cluster.loadBalancer().choose(cluster.hostSet(), view, retry.avoid(last));
        if (chosen == null) {
            Cluster successor = proxy.snapshot().clusters().get(cluster.name());
            if (successor != null && successor != cluster) {
                cluster = successor;
                chosen = cluster.loadBalancer().choose(cluster.hostSet(), view, Set.of());
            }
        }
        return chosen == null ? null : new Attempt(owner, proxy, downstream, admission, retry, cluster, chosen, upgrade);
    }

    private Attempt(Owner owner, ProxyContext proxy, Downstream downstream, Admission admission, RetryState retry,
                    Cluster cluster, Upstream upstream, boolean upgradeRequested) {
        this.owner = owner;
        this.proxy = proxy;
        this.downstream = downstream;
        this.admission = admission;
        this.retry = retry;
        this.cluster = cluster;
        this.clusterName = cluster.name();
        this.upstream = upstream;
        this.upgradeRequested = upgradeRequested;
        this.startNanos = proxy.clock().nanoTime();
    }

    Upstream upstream() {
        return upstream;
    }

    /** The cluster the upstream was chosen from. */
    Cluster cluster() {
        return cluster;
    }

    /** Whether this try was sent as a hedge beside another one in flight. */
    boolean hedge() {
        return hedge;
    }

    /** The try's number: its {@code x-bulwark-attempt}. */
    int number() {
        return number;
    }

    /** Whether any of the request may have reached the upstream (a connection took its head). */
    boolean sentAnything() {
        return sentAnything;
    }

    boolean reusedConnection() {
        return reusedConnection;
    }

    /** Nanoseconds since this try started. */
    long elapsedNanos() {
        return proxy.clock().nanoTime() - startNanos;
    }

    /** The connection the request is being written to, or null while there is none. */
    Channel channel() {
        return connection == null ? null : connection.channel();
    }

    /**
     * Starts the try: the per-try timer, and a connection from the event loop's pool.
     *
     * @param request the head to send (its {@code x-bulwark-attempt} already set)
     * @return false when the cluster's {@code max-pending-requests} refused the wait for a connection
     */
    boolean start(long perTryNanos, boolean freshConnection, HttpRequest request, int number,
                  java.util.ArrayDeque<HttpContent> ownBody) {
        this.request = request;
        this.number = number;
        this.ownBody = ownBody;
        this.hedge = ownBody != null;
        upstream.onRequestStart();
        if (perTryNanos > 0) {
            timer = downstream.executor().schedule(this::onTimeout, perTryNanos, TimeUnit.NANOSECONDS);
        }
        waitingForConnection = true;
        ConnectionPool pool = proxy.pools().forLoop(downstream.executor());
        boolean queued = pool.acquire(upstream, cluster.config(), freshConnection, this);
        if (queued && !admission.enterPending()) {
            pool.cancelWait(upstream, this);
            waitingForConnection = false;
            return false;
        }
        return true;
    }

    @Override
    public void onAcquired(UpstreamConnection acquired) {
        waitingForConnection = false;
        admission.leavePending();
        if (!open || acquired.upstream() != upstream) {
            // The request gave up (timeout, client left) while the connection was being made.
            acquired.release();
            return;
        }
        connection = acquired;
        reusedConnection = acquired.reused();
        acquired.bind(this);
        Channel ch = acquired.channel();
        ch.write(request);
        sentAnything = true;
        HttpContent part;
        while ((part = ownBody != null ? ownBody.poll() : retry.pollUnsent()) != null) {
            ch.write(part);
        }
        ch.flush();
        owner.onRequestWritten(this, ch);
    }

    @Override
    public void onAcquireFailed(Throwable cause, boolean connectFailure) {
        waitingForConnection = false;
        admission.leavePending();
        if (!open) {
            return;
        }
        fail(FailureKind.CONNECT_FAILURE, cause);
    }

    void flush() {
        if (connection != null) {
            connection.channel().flush();
        }
    }

    // ------------------------------------------------------------------ from the upstream connection

    @Override
    public void onUpstreamResponse(UpstreamConnection c, HttpResponse response) {
        if (c != connection || !open) {
            return;
        }
        int code = response.status().code();
        if (code == 101 && upgradeRequested) {
            TryOutcome outcome = TryOutcome.response(101, elapsedNanos());
            report(outcome);
            cancelTimer();
            connection = null; // the tunnel owns the channel from now on
            owner.onUpgrade(this, response, c.channel());
            return;
        }
        if (code >= 100 && code < 200) {
            return; // other interim responses are not relayed; the final one follows
        }
        TryOutcome outcome;
        if (code == 200 && GrpcStatus.isGrpc(response.headers().get(HttpHeaderNames.CONTENT_TYPE))) {
            int grpcStatus = GrpcStatus.parse(response.headers().get(GrpcStatus.HEADER));
            outcome = TryOutcome.grpc(code, grpcStatus, elapsedNanos());
            if (grpcStatus == GrpcStatus.NONE) {
                // The call's status comes in the trailers: the upstream is judged then, never on the head.
                grpcAwaitingTrailers = outcome;
                reported = true;
                proxy.metrics().upstreamTry(clusterName, upstream.address(), outcome.tag(), outcome.latencyNanos());
            }
        } else {
            outcome = TryOutcome.response(code, elapsedNanos());
        }
        report(outcome);
        cancelTimer();
        owner.onResponseHead(this, response, outcome);
    }

    @Override
    public void onUpstreamContent(UpstreamConnection c, HttpContent content) {
        if (c != connection || !open) {
            content.release();
            return;
        }
        if (grpcAwaitingTrailers != null && content instanceof LastHttpContent last) {
            settleGrpc(last.trailingHeaders().get(GrpcStatus.HEADER));
        }
        owner.onResponseBody(this, content);
    }

    @Override
    public void onUpstreamReadComplete(UpstreamConnection c) {
        if (c == connection) {
            owner.onUpstreamReadComplete(this);
        }
    }

    @Override
    public void onUpstreamWritable(UpstreamConnection c) {
        if (c == connection) {
            downstream.resume(Downstream.PAUSE_BACKPRESSURE);
        }
    }

    @Override
    public void onUpstreamClosed(UpstreamConnection c, Throwable cause) {
        if (c != connection || !open) {
            return;
        }
        connection = null;
        if (reported) {
            grpcAwaitingTrailers = null;
            // After the response head: the host failed this response, so its detectors hear of the reset too
            // (once for all the streams of an HTTP/2 connection that failed).
            if (countsForUpstream(cause)) {
                upstream.onLocalFailure(FailureKind.RESET, elapsedNanos());
            }
            owner.onResponseBroken(this);
            return;
        }
        FailureKind kind;
        if (cause instanceof UpstreamConnection.RefusedStreamException) {
            kind = FailureKind.CONNECT_FAILURE; // never processed: safe to send again, whatever the method
        } else if (cause instanceof UpstreamConnection.UpstreamProtocolException) {
            kind = FailureKind.PROTOCOL_ERROR;
        } else {
            kind = FailureKind.RESET;
        }
        fail(kind, cause);
    }

    // ------------------------------------------------------------------ back-pressure on the response

    /** The client cannot take more: stop reading the upstream's response. */
    void pauseUpstream() {
        if (connection != null && !upstreamPaused) {
            upstreamPaused = true;
            connection.channel().config().setAutoRead(false);
        }
    }

    /** The client can take more again. */
    void resumeUpstream() {
        if (upstreamPaused && connection != null) {
            upstreamPaused = false;
            connection.channel().config().setAutoRead(true);
            connection.channel().read();
            // On an HTTP/2 stream, reading again returns the window of what was read while paused, and
            // Netty may leave that WINDOW_UPDATE unflushed (as on the client side, see
            // Http2StreamHandler.resume): an upstream that used its window would wait for it forever.
            // A no-op when nothing was written.
            connection.channel().flush();
        }
    }

    // ------------------------------------------------------------------ outcomes and the end

    private void onTimeout() {
        timer = null;
        if (!open || reported) {
            return;
        }
        UpstreamConnection c = connection;
        connection = null;
        if (c != null) {
            c.discard();
        } else if (waitingForConnection) {
            proxy.pools().forLoop(downstream.executor()).cancelWait(upstream, this);
        }
        fail(FailureKind.TIMEOUT, null);
    }

    private void fail(FailureKind kind, Throwable cause) {
        TryOutcome outcome = TryOutcome.failed(kind, elapsedNanos());
        cancelTimer();
        if (!upgradeRequested && retry.keepAliveRace(outcome, reusedConnection)) {
            reported = true; // the upstream closed an idle connection as we reused it: not a failure of it
            owner.onKeepAliveRace(this);
            return;
        }
        report(outcome, countsForUpstream(cause));
        owner.onTryFailed(this, outcome, cause);
    }

    /**
     * Whether a failure is the upstream's, for its outlier detection: not a stream it refused before
     * processing (GOAWAY, REFUSED_STREAM: it said so in time), and an HTTP/2 connection's failure only
     * for the first of its streams to report it.
     */
    private static boolean countsForUpstream(Throwable cause) {
        if (cause instanceof UpstreamConnection.RefusedStreamException) {
            return false;
        }
        return !(cause instanceof UpstreamConnection.ConnectionFailure shared) || shared.claimReport();
    }

    /**
     * The route timeout ended the request while this try waited for its response head: reported
     * as this try's timeout.
     */
    void timedOutByRoute() {
        if (open && !reported) {
            report(TryOutcome.failed(FailureKind.TIMEOUT, elapsedNanos()));
        }
    }

    /**
     * The try lost a race to its hedge (or the other way round) and is cancelled: never a failure of
     * its host, but its age so far counts as a latency for the latency-aware outlier detector, so a
     * black hole behind hedging is still found. Then ended (its connection closed, never pooled).
     */
    void cancel() {
        if (open && !reported) {
            reported = true;
            upstream.onCancelled(elapsedNanos());
        }
        end();
    }

    /**
     * A gRPC response's trailers came with {@code grpcStatus} (null: none, which gRPC clients read
     * as INTERNAL): the upstream judges the call now, with the time to its head.
     */
    private void settleGrpc(String grpcStatus) {
        TryOutcome head = grpcAwaitingTrailers;
        grpcAwaitingTrailers = null;
        int status = grpcStatus == null ? GrpcStatus.INTERNAL : GrpcStatus.parse(grpcStatus);
        upstream.report(TryOutcome.grpc(head.status(), status, head.latencyNanos()));
    }

    /** Reports the try's outcome once: to the upstream (its detectors) and to the metrics. */
    private void report(TryOutcome outcome) {
        report(outcome, true);
    }

    /** @param toUpstream false: the metrics only (the upstream's detectors heard of it already, or must not) */
    private void report(TryOutcome outcome, boolean toUpstream) {
        if (reported) {
            return;
        }
        reported = true;
        if (toUpstream) {
            upstream.report(outcome);
        }
        proxy.metrics().upstreamTry(clusterName, upstream.address(), outcome.tag(), outcome.latencyNanos());
    }

    /**
     * The response is complete: the connection goes back to the pool when the request was whole and
     * written, else it is closed.
     */
    void completed(boolean reusable) {
        UpstreamConnection c = connection;
        connection = null;
        if (upstreamPaused && c != null) {
            upstreamPaused = false;
            c.channel().config().setAutoRead(true);
        }
        end();
        if (c != null) {
            if (reusable) {
                c.release();
            } else {
                c.discard();
            }
        }
    }

    /** Ends the try's accounting; a connection still attached is closed, never pooled (idempotent). */
    void end() {
        cancelTimer();
        UpstreamConnection c = connection;
        connection = null;
        if (c != null) {
            c.discard();
        }
        if (waitingForConnection) {
            proxy.pools().forLoop(downstream.executor()).cancelWait(upstream, this);
            waitingForConnection = false;
            admission.leavePending();
        }
        upstreamPaused = false;
        if (ownBody != null) {
            HttpContent left;
            while ((left = ownBody.poll()) != null) {
                left.release();
            }
        }
        if (open) {
            open = false;
            upstream.onRequestEnd();
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
