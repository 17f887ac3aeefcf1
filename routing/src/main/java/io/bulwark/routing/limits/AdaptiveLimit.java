package io.bulwark.routing.limits;

import com.netflix.concurrency.limits.limit.VegasLimit;
import io.bulwark.config.AdaptiveLimitConfig;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;

/**
 * A cluster's adaptive concurrency limit ({@code limits.adaptive}): a limit on its requests in
 * flight that follows their latency, between {@code min-limit} and {@code max-limit}. The limit
 * itself is Netflix's {@code concurrency-limits} TCP-Vegas algorithm ({@link VegasLimit}): it takes
 * the lowest time to response head it has seen as the service's latency without a queue, estimates
 * the queue in front of the service from how far the current latency is above it, grows the limit
 * while that queue stays short (and the cluster uses at least half of the limit) and shrinks it as
 * the queue grows — a struggling service, or the survivors of a failover taking more than they can
 * serve. It probes for a new no-queue latency now and then, so a service that got slower for good
 * becomes the new normal. (Measured against the gradient algorithm of the same library in
 * {@code loadtests/chaos/overload.py}: Vegas kept the survivor's p50 at 128 ms against 331 ms.)
 *
 * <p>This class counts the requests in flight against the limit (by compare-and-set, so a burst
 * from every event loop cannot overshoot it) and feeds the algorithm one sample per request,
 * timed by the caller on the data plane's clock, so tests drive it with any latencies they like.
 * Retries and hedges are the first to be shed: they only go out while the requests in flight
 * leave a tenth of the limit free ({@link #hasRoomForExtraTry()}).
 */
public final class AdaptiveLimit {

    /** A request's slot under the limit: report its latency once, or let it go without a sample. */
    public final class Slot implements Permit {
        private boolean closed;

        /**
         * The request's response head came after {@code latencyNanos}.
         *
         * @param dropped the upstream failed it (5xx, timeout, reset): a sign of overload for the algorithm
         */
        public void sample(long latencyNanos, boolean dropped) {
            if (closed) {
                return;
            }
            int inFlightNow = inFlight.get();
            limit.onSample(0, Math.max(1, latencyNanos), inFlightNow, dropped);
            close();
        }

        /** Ends the slot without a sample (a refusal or a client problem says nothing about the cluster). */
        @Override
        public void close() {
            if (!closed) {
                closed = true;
                inFlight.decrementAndGet();
            }
        }
    }

    private final AdaptiveLimitConfig config;
    private final VegasLimit limit;
    private final AtomicInteger inFlight;
    private final LongAdder rejected = new LongAdder();

    /** A new limit at {@code initial-limit}, counting from zero requests in flight. */
    public AdaptiveLimit(AdaptiveLimitConfig config) {
        this(config, new AtomicInteger());
    }

    private AdaptiveLimit(AdaptiveLimitConfig config, AtomicInteger inFlight) {
        this.config = config;
        this.inFlight = inFlight;
        this.limit = VegasLimit.newBuilder()
                .initialLimit(config.initialLimit())
                .maxConcurrency(config.maxLimit())
                .build();
    }

    /**
     * The limit a reload leaves: this one if its block did not change (its learnt limit kept), else
     * a new one at the new {@code initial-limit} that keeps counting the requests in flight.
     */
    public AdaptiveLimit reconfigured(AdaptiveLimitConfig next) {
        return next.equals(config) ? this : new AdaptiveLimit(next, inFlight);
    }

    public AdaptiveLimitConfig config() {
        return config;
    }

    /** A slot for one request; null when the cluster is at its limit (503 {@code overloaded}). */
    public Slot tryAcquire() {
        while (true) {
            int current = inFlight.get();
            if (current >= limit()) {
                rejected.increment();
                return null;
            }
            if (inFlight.compareAndSet(current, current + 1)) {
                return new Slot();
            }
        }
    }

    /** Whether a retry or a hedge may go out: the requests in flight leave a tenth of the limit free. */
    public boolean hasRoomForExtraTry() {
        int l = limit();
        return inFlight.get() < l - Math.max(1, l / 10);
    }

    /** The limit now (the algorithm's, within min-limit..max-limit). */
    public int limit() {
        return Math.max(config.minLimit(), Math.min(config.maxLimit(), limit.getLimit()));
    }

    public int inFlight() {
        return inFlight.get();
    }

    /** Requests refused at the limit so far. */
    public long rejected() {
        return rejected.sum();
    }

    /** Calls {@code listener} with each new limit (on the thread whose sample moved it). */
    public void onChange(IntConsumer listener) {
        limit.notifyOnChange(l -> listener.accept(Math.max(config.minLimit(), Math.min(config.maxLimit(), l))));
    }
}
