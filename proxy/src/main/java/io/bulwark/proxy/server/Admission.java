package io.bulwark.proxy.server;

import io.bulwark.proxy.metrics.ProxyMetrics;
import io.bulwark.proxy.retry.RetryPermits;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.GrpcStatus;
import io.bulwark.routing.Route;
import io.bulwark.routing.RoutePolicies;
import io.bulwark.routing.RequestView;
import io.bulwark.routing.limits.AdaptiveLimit;
import io.bulwark.routing.limits.Permit;
import io.bulwark.routing.ratelimit.RateLimitDecision;
import io.bulwark.routing.ratelimit.RouteRateLimiter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.util.Optional;

/**
 * Admission of one request, and the permits it then holds from the resilience layers, taken and
 * given back in one place so none can leak.
 *
 * <h2>Order</h2>
 * {@link #admit} runs once per request, before its first try, in this order, each step refusing
 * at once with its own reply:
 * <ol>
 * <li><b>rate limit</b> of the route (429 {@code rate_limited}) — first, so a flood costs the least
 *     and never touches the layers below;</li>
 * <li><b>circuit breaker</b> of the cluster (503 {@code circuit_open}) — one permission per request,
 *     settled exactly once with the request's final outcome, or released unrecorded when the
 *     outcome is not the upstreams' doing;</li>
 * <li><b>bulkhead</b> of the cluster, {@code max-concurrent-requests} (503 {@code overloaded}) — and
 *     the request counts towards the route's retry budget from here;</li>
 * <li><b>adaptive limit</b> of the cluster, when it has one (503 {@code overloaded}): it learns from
 *     the latency of the requests it lets through ({@link #breakerResponse}, {@link #breakerFailure});</li>
 * <li><b>fault injection</b> of the route (the configured abort status, or a delay).</li>
 * </ol>
 * Later, per try: {@code max-pending-requests} while waiting for a pooled connection, and per retry
 * the retry budget and {@code max-concurrent-retries} ({@link RetryPermits}); with an adaptive limit a
 * retry or hedge is refused first, while the cluster's requests in flight are within a tenth of it.
 *
 * <p>Confined to the request's event loop.
 */
final class Admission implements RetryPermits {

    /**
     * The answer of {@link #admit}.
     *
     * @param refusal the local reply to answer with, or null when admitted
     * @param message the reply's message
     * @param statusOverride a fault abort's configured status, or 0
     * @param faultDelayNanos an injected delay before the first try (admitted requests)
     */
    record Verdict(LocalReply refusal, String message, int statusOverride, long faultDelayNanos) {
        static final Verdict ADMITTED = new Verdict(null, null, 0, 0);

        boolean admitted() {
            return refusal == null;
        }
    }

    private final RoutePolicies route;
    private final Cluster cluster;
    /** The route's rate limiter and its decision on this request (both null without a rate limit). */
    private RouteRateLimiter limiter;
    private RateLimitDecision decision;
    private Permit request;
    private Permit budgetRequest;
    private Permit pending;
    private Permit retryBudget;
    private Permit retryLimit;
    private boolean breakerHeld;
    /** The slot under the cluster's adaptive limit; null without one (or once sampled). */
    private AdaptiveLimit.Slot adaptiveSlot;

    Admission(RoutePolicies route, Cluster cluster) {
        this.route = route;
        this.cluster = cluster;
    }

    /** Runs the admission steps in their order (see the class comment). */
    Verdict admit(Route routing, String clusterName, RequestView view, FaultInjection faults, ProxyMetrics metrics) {
        limiter = route.rateLimiter();
        if (limiter != null) {
            decision = limiter.tryAcquire(view);
            if (!decision.allowed()) {
                metrics.rateLimited(routing.name());
                return new Verdict(LocalReply.RATE_LIMITED, "rate limit of route " + routing.name() + " exceeded", 0, 0);
            }
        }
        if (!admitBreaker()) {
            return new Verdict(LocalReply.CIRCUIT_OPEN, "the circuit breaker of cluster " + clusterName + " is open",
                    0, 0);
        }
        if (!admitRequest()) {
            return new Verdict(LocalReply.OVERLOADED, "cluster " + clusterName + " is at max-concurrent-requests ("
                    + cluster.limits().config().maxConcurrentRequests() + ")", 0, 0);
        }
        AdaptiveLimit adaptive = cluster.limits().adaptive();
        if (adaptive != null) {
            adaptiveSlot = adaptive.tryAcquire();
            if (adaptiveSlot == null) {
                return new Verdict(LocalReply.OVERLOADED, "cluster " + clusterName
                        + " is at its adaptive concurrency limit (" + adaptive.limit() + ")", 0, 0);
            }
        }
        FaultInjection.Decision fault = faults.decide(routing);
        if (fault.abortStatus() > 0) {
            return new Verdict(LocalReply.FAULT_INJECTED, "fault injected by route " + routing.name(),
                    fault.abortStatus(), 0);
        }
        return fault.delayNanos() > 0 ? new Verdict(null, null, 0, fault.delayNanos()) : Verdict.ADMITTED;
    }

    /** Whether the response gets fields from admission ({@link #addResponseHeaders}). */
    boolean hasResponseHeaders() {
        return decision != null;
    }

    private static final AsciiString RATE_LIMIT_POLICY = AsciiString.cached("RateLimit-Policy");
    private static final AsciiString RATE_LIMIT = AsciiString.cached("RateLimit");

    /**
     * Adds the rate limit's fields to a response: {@code RateLimit-Policy} and {@code RateLimit}, and
     * {@code Retry-After} on a refusal. Written straight into the response (no fields object per request).
     */
    void addResponseHeaders(HttpHeaders headers) {
        if (decision == null) {
            return;
        }
        headers.set(RATE_LIMIT_POLICY, limiter.policyHeader())
                .set(RATE_LIMIT, limiter.rateLimitHeader(decision));
        if (!decision.allowed()) {
            headers.setInt(HttpHeaderNames.RETRY_AFTER, (int) Math.min(Integer.MAX_VALUE, decision.retryAfterSeconds()));
        }
    }

    /** Takes a request slot of the cluster's bulkhead; false when it is full (503 overloaded). */
    private boolean admitRequest() {
        Optional<Permit> p = cluster.limits().tryAcquireRequest();
        if (p.isEmpty()) {
            return false;
        }
        request = p.get();
        budgetRequest = route.budget().onRequestStart();
        return true;
    }

    /**
     * The circuit breaker's permission for this request (all its tries); false when it is open
     * (503 circuit_open).
     */
    private boolean admitBreaker() {
        breakerHeld = cluster.breaker().tryAcquire();
        return breakerHeld;
    }

    /** When the request's first try started (0 before): the breaker times a request from there to its head. */
    private long firstTryNanos;

    /** A try starts at {@code nanos}; the first one starts the breaker's measure of the request. */
    void tryStarted(long nanos) {
        if (firstTryNanos == 0) {
            firstTryNanos = nanos;
        }
    }

    /** Nanoseconds from the first try (or from {@code admittedNanos} when none started) to {@code nowNanos}. */
    long sinceFirstTry(long nowNanos, long admittedNanos) {
        return nowNanos - (firstTryNanos != 0 ? firstTryNanos : admittedNanos);
    }

    /** A gRPC response whose status comes in its trailers: the time to its head, to settle with then. */
    private long grpcHeadNanos = -1;

    /**
     * The request's final response head, {@code nanos} after its first try started: the breaker's
     * verdict on the request. A gRPC response carries its outcome in {@code grpc-status}: in the head
     * when trailers-only, else in the trailers ({@link #breakerTrailers}).
     */
    void breakerHead(int status, HttpHeaders headers, long nanos) {
        if (status == 200 && GrpcStatus.isGrpc(headers.get(HttpHeaderNames.CONTENT_TYPE))) {
            String grpcStatus = headers.get(GrpcStatus.HEADER);
            if (grpcStatus == null) {
                grpcHeadNanos = nanos;
            } else {
                breakerGrpc(grpcStatus, nanos);
            }
            return;
        }
        breakerResponse(status, nanos);
    }

    /** The response's trailers: a gRPC status deferred from the head is settled now. */
    void breakerTrailers(HttpHeaders trailers) {
        if (grpcHeadNanos >= 0) {
            breakerGrpc(trailers.get(GrpcStatus.HEADER), grpcHeadNanos);
        }
    }

    /** The response broke off after its head: a gRPC call that ends without its status failed. */
    void breakerBroken() {
        if (grpcHeadNanos >= 0) {
            breakerFailure(grpcHeadNanos);
        }
    }

    private void breakerGrpc(String grpcStatus, long nanos) {
        // No status: INTERNAL, as gRPC clients read it (and as the outlier detector judges it).
        int parsed = grpcStatus == null ? GrpcStatus.INTERNAL : GrpcStatus.parse(grpcStatus);
        if (GrpcStatus.isFailure(parsed)) {
            breakerFailure(nanos);
        } else {
            breakerResponse(200, nanos);
        }
    }

    /** The request's final response head, {@code nanos} after its first try started. */
    void breakerResponse(int status, long nanos) {
        sampleAdaptive(nanos, status >= 500);
        if (breakerHeld) {
            breakerHeld = false;
            cluster.breaker().onResponse(status, nanos);
        }
    }

    /** The upstreams failed the request after its retries (or gave a failing gRPC status). */
    void breakerFailure(long nanos) {
        sampleAdaptive(nanos, true);
        if (breakerHeld) {
            breakerHeld = false;
            cluster.breaker().onLocalFailure(nanos);
        }
    }

    /** The request ended in a way that is not the upstreams' doing: the permission goes back unrecorded. */
    void breakerRelease() {
        if (breakerHeld) {
            breakerHeld = false;
            cluster.breaker().releasePermission();
        }
    }

    /** The adaptive limit's sample of this request: its time to response head, and whether the upstreams failed it. */
    private void sampleAdaptive(long nanos, boolean dropped) {
        if (adaptiveSlot != null) {
            adaptiveSlot.sample(nanos, dropped);
            adaptiveSlot = null;
        }
    }

    /** Waiting for a pooled connection counts against max-pending-requests; false when that is full. */
    boolean enterPending() {
        Optional<Permit> p = cluster.limits().tryAcquirePending();
        p.ifPresent(x -> pending = x);
        return p.isPresent();
    }

    void leavePending() {
        pending = close(pending);
    }

    /** Permits of hedged tries, held until the request ends; null until the first hedge. */
    private java.util.List<Permit> hedgePermits;
    /** The budget and limit permits {@link #takeRetryPermits()} took last. */
    private Permit takenBudget;
    private Permit takenLimit;

    /**
     * Room for one hedged try: like a retry, it draws on the route's retry budget and the cluster's
     * max-concurrent-retries, so hedging can never double the load. Held until the request ends.
     */
    Refusal admitHedge() {
        Refusal refusal = takeRetryPermits();
        if (refusal == Refusal.NONE) {
            if (hedgePermits == null) {
                hedgePermits = new java.util.ArrayList<>(2);
            }
            hedgePermits.add(takenBudget);
            hedgePermits.add(takenLimit);
        }
        return refusal;
    }

    /**
     * Room for one more retry: the route's retry budget and the cluster's max-concurrent-retries.
     * Held until the retry's try ends ({@link #retryEnded()}).
     */
    @Override
    public Refusal admitRetry() {
        Refusal refusal = takeRetryPermits();
        if (refusal == Refusal.NONE) {
            retryEnded();
            retryBudget = takenBudget;
            retryLimit = takenLimit;
        }
        return refusal;
    }

    /** Takes a retry-budget permit and a cluster retry permit (both or neither) into {@code taken*}. */
    private Refusal takeRetryPermits() {
        AdaptiveLimit adaptive = cluster.limits().adaptive();
        if (adaptive != null && !adaptive.hasRoomForExtraTry()) {
            return Refusal.LIMIT; // near the adaptive limit, retries and hedges are shed first
        }
        Optional<Permit> budget = route.budget().tryAcquireRetry();
        if (budget.isEmpty()) {
            return Refusal.BUDGET;
        }
        Optional<Permit> limit = cluster.limits().tryAcquireRetry();
        if (limit.isEmpty()) {
            budget.get().close();
            return Refusal.LIMIT;
        }
        takenBudget = budget.get();
        takenLimit = limit.get();
        return Refusal.NONE;
    }

    @Override
    public void retryEnded() {
        retryBudget = close(retryBudget);
        retryLimit = close(retryLimit);
    }

    /** Everything back, at the end of the request (idempotent). */
    void releaseAll() {
        breakerRelease();
        if (adaptiveSlot != null) {
            adaptiveSlot.close(); // ended without a verdict on the upstreams: no sample
            adaptiveSlot = null;
        }
        if (hedgePermits != null) {
            hedgePermits.forEach(Permit::close);
            hedgePermits = null;
        }
        retryEnded();
        pending = close(pending);
        request = close(request);
        budgetRequest = close(budgetRequest);
    }

    private static Permit close(Permit p) {
        if (p != null) {
            p.close();
        }
        return null;
    }
}
