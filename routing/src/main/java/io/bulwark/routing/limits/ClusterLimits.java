package io.bulwark.routing.limits;

import io.bulwark.config.LimitsConfig;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

/**
 * The bulkhead of one cluster ({@code limits} block), checked after the circuit breaker and before
 * the load balancer: at most {@code max-concurrent-requests} requests in flight to the cluster, at
 * most {@code max-pending-requests} of them waiting for a pooled connection, and at most
 * {@code max-concurrent-retries} retries in flight. A request over any limit gets 503
 * {@code overloaded} at once; nothing waits for a slot (Envoy's circuit-breaker thresholds, not
 * Resilience4j's waiting Bulkhead, which would block an event loop).
 *
 * <p>Each {@code tryAcquire...} raises its counter by compare-and-set only while it is below the
 * limit, so a counter never exceeds its limit however many event loops ask at once. Counts carry
 * over a config reload ({@link #reconfigure}); a lowered limit then refuses until enough permits close.
 */
public final class ClusterLimits {

    /** Which limit refused. */
    public enum Kind { REQUESTS, PENDING, RETRIES }

    private final AtomicInteger activeRequests = new AtomicInteger();
    private final AtomicInteger pendingRequests = new AtomicInteger();
    private final AtomicInteger activeRetries = new AtomicInteger();
    private final LongAdder[] overflows = {new LongAdder(), new LongAdder(), new LongAdder()};
    private volatile LimitsConfig config;
    /** The adaptive limit ({@code limits.adaptive}); null when off. */
    private volatile AdaptiveLimit adaptive;

    /** An adaptive limit's moves are reported once it has moved by this factor since the last report. */
    public static final double ADAPTIVE_REPORT_FACTOR = 1.5;

    private volatile BiConsumer<Integer, Integer> adaptiveMoves = (from, to) -> { };
    /** The adaptive limit last reported (or at its start); guarded by {@code this}. */
    private int reportedLimit;

    public ClusterLimits(LimitsConfig config) {
        this.config = config;
        this.adaptive = config.adaptive().map(a -> watch(new AdaptiveLimit(a))).orElse(null);
    }

    /**
     * Calls {@code listener} with (from, to) whenever the adaptive limit has moved by
     * {@value #ADAPTIVE_REPORT_FACTOR}x or more, up or down, since the last call: for the event log,
     * which must not get a line per sample.
     */
    public void onAdaptiveMove(BiConsumer<Integer, Integer> listener) {
        this.adaptiveMoves = listener;
    }

    private AdaptiveLimit watch(AdaptiveLimit a) {
        synchronized (this) {
            reportedLimit = a.limit();
        }
        a.onChange(this::adaptiveMoved);
        return a;
    }

    private void adaptiveMoved(int limit) {
        int from;
        synchronized (this) {
            if (limit < reportedLimit * ADAPTIVE_REPORT_FACTOR && limit * ADAPTIVE_REPORT_FACTOR > reportedLimit) {
                return;
            }
            from = reportedLimit;
            reportedLimit = limit;
        }
        adaptiveMoves.accept(from, limit);
    }

    /**
     * Applies a reloaded cluster's limits, keeping what is in flight; an unchanged adaptive block
     * keeps the limit it has learnt.
     */
    public void reconfigure(LimitsConfig config) {
        this.config = config;
        AdaptiveLimit before = adaptive;
        this.adaptive = config.adaptive()
                .map(a -> {
                    AdaptiveLimit next = before == null ? new AdaptiveLimit(a) : before.reconfigured(a);
                    return next == before ? before : watch(next);
                })
                .orElse(null);
    }

    /** The adaptive concurrency limit, or null when the cluster has none. */
    public AdaptiveLimit adaptive() {
        return adaptive;
    }

    public LimitsConfig config() {
        return config;
    }

    /** A slot for one request to the cluster (held for all its tries); empty when the cluster is full. */
    public Optional<Permit> tryAcquireRequest() {
        return tryAcquire(activeRequests, config.maxConcurrentRequests(), Kind.REQUESTS);
    }

    /** A slot to wait for a pooled connection; close it once connected (or given up). */
    public Optional<Permit> tryAcquirePending() {
        return tryAcquire(pendingRequests, config.maxPendingRequests(), Kind.PENDING);
    }

    /** A slot for one retry try in flight; close it when that try ends. */
    public Optional<Permit> tryAcquireRetry() {
        return tryAcquire(activeRetries, config.maxConcurrentRetries(), Kind.RETRIES);
    }

    private Optional<Permit> tryAcquire(AtomicInteger counter, int limit, Kind kind) {
        while (true) {
            int current = counter.get();
            if (current >= limit) {
                overflows[kind.ordinal()].increment();
                return Optional.empty();
            }
            if (counter.compareAndSet(current, current + 1)) {
                return Optional.of(Permit.decrementing(counter));
            }
        }
    }

    /** For the admin API's {@code limits.active_requests}. */
    public int activeRequests() {
        return activeRequests.get();
    }

    /** For the admin API's {@code limits.pending_requests}. */
    public int pendingRequests() {
        return pendingRequests.get();
    }

    /** For the admin API's {@code limits.active_retries}. */
    public int activeRetries() {
        return activeRetries.get();
    }

    /** How many times {@code kind}'s limit refused so far. */
    public long overflowCount(Kind kind) {
        return overflows[kind.ordinal()].sum();
    }
}
