package io.bulwark.proxy.server;

import io.bulwark.proxy.Policies;
import io.bulwark.routing.limits.Permit;

import java.util.Optional;

/**
 * The permits one request holds from the resilience layers, taken and given back in one place so
 * none can leak: the cluster bulkhead (requests, pending, retries), the route's retry budget and
 * the cluster's circuit breaker (one permission per request, taken at admission and settled
 * exactly once with the request's final outcome, or released unrecorded). Confined to the
 * request's event loop.
 */
final class RequestGuards {

    private final Policies.Route route;
    private final Policies.Cluster cluster;
    private Permit request;
    private Permit budgetRequest;
    private Permit pending;
    private Permit retryBudget;
    private Permit retryLimit;
    private boolean breakerHeld;

    RequestGuards(Policies.Route route, Policies.Cluster cluster) {
        this.route = route;
        this.cluster = cluster;
    }

    /** Takes a request slot of the cluster's bulkhead; false when it is full (503 overloaded). */
    boolean admit() {
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
    boolean admitBreaker() {
        breakerHeld = cluster.breaker().tryAcquire();
        return breakerHeld;
    }

    /** Whether the breaker's permission is still waiting for the request's outcome. */
    boolean breakerUnsettled() {
        return breakerHeld;
    }

    /** The request's final response head, {@code nanos} after its first try started. */
    void breakerResponse(int status, long nanos) {
        if (breakerHeld) {
            breakerHeld = false;
            cluster.breaker().onResponse(status, nanos);
        }
    }

    /** The upstreams failed the request after its retries (or gave a failing gRPC status). */
    void breakerFailure(long nanos) {
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

    /** Waiting for a pooled connection counts against max-pending-requests; false when that is full. */
    boolean enterPending() {
        Optional<Permit> p = cluster.limits().tryAcquirePending();
        p.ifPresent(x -> pending = x);
        return p.isPresent();
    }

    void leavePending() {
        pending = close(pending);
    }

    /**
     * Room for one more retry: the route's retry budget and the cluster's max-concurrent-retries.
     * Held until the retry's try ends ({@link #retryEnded()}).
     */
    RetryRefusal admitRetry() {
        Optional<Permit> budget = route.budget().tryAcquireRetry();
        if (budget.isEmpty()) {
            return RetryRefusal.BUDGET;
        }
        Optional<Permit> limit = cluster.limits().tryAcquireRetry();
        if (limit.isEmpty()) {
            budget.get().close();
            return RetryRefusal.LIMIT;
        }
        retryEnded();
        retryBudget = budget.get();
        retryLimit = limit.get();
        return RetryRefusal.NONE;
    }

    enum RetryRefusal { NONE, BUDGET, LIMIT }

    void retryEnded() {
        retryBudget = close(retryBudget);
        retryLimit = close(retryLimit);
    }

    /** Everything back, at the end of the request (idempotent). */
    void releaseAll() {
        breakerRelease();
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
