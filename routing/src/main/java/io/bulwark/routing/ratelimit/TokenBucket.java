package io.bulwark.routing.ratelimit;

import io.bulwark.routing.Clock;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A token bucket of {@code burst} tokens refilled at {@code tokensPerSecond}, lock-free.
 *
 * <p>It is kept as the generic cell rate algorithm (GCRA, as redis-cell and most API gateways use),
 * which is an exact token bucket stored in one {@link AtomicLong}: the "theoretical arrival time"
 * {@code tat}, the {@link Clock#nanoTime()} at which the bucket will be full again. Each token costs
 * one emission interval {@code T = 1s / rate}; the bucket holds {@code burst * T} nanoseconds of
 * credit. A request is allowed when taking a token leaves the debt {@code max(tat, now) + T - now} at
 * most {@code burst * T}, and then {@code tat} moves on by {@code T} with one compare-and-set. So
 * refill needs no timer and no second field, and concurrent callers can never take more tokens than
 * the bucket holds: each success is one successful CAS of {@code tat} by exactly {@code T}.
 *
 * <p>A new bucket starts full. Safe for any number of threads; never blocks.
 */
public final class TokenBucket {

    private static final double NANOS_PER_SECOND = 1e9;
    /** Keeps {@code tat} arithmetic far from overflow whatever the configured rate. */
    private static final long MAX_CAPACITY_NANOS = Long.MAX_VALUE / 4;

    private final Clock clock;
    private final long intervalNanos;
    private final long capacityNanos;
    private final AtomicLong tat;

    /**
     * @param tokensPerSecond refill rate, &gt; 0
     * @param burst the bucket's size: how many requests may arrive at once, &ge; 1
     */
    public TokenBucket(double tokensPerSecond, int burst, Clock clock) {
        if (!(tokensPerSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("rate must be > 0 and burst >= 1, got " + tokensPerSecond + " and " + burst);
        }
        this.clock = clock;
        this.intervalNanos = Math.max(1, Math.min(MAX_CAPACITY_NANOS, Math.round(NANOS_PER_SECOND / tokensPerSecond)));
        long capacity;
        try {
            capacity = Math.multiplyExact(intervalNanos, (long) burst);
        } catch (ArithmeticException e) {
            capacity = MAX_CAPACITY_NANOS;
        }
        this.capacityNanos = Math.min(MAX_CAPACITY_NANOS, capacity);
        this.tat = new AtomicLong(clock.nanoTime());
    }

    /** Takes one token if there is one. */
    public RateLimitDecision tryAcquire() {
        long now = clock.nanoTime();
        while (true) {
            long stored = tat.get();
            // A full bucket's tat lies in the past; credit beyond a full bucket is never kept.
            long base = stored - now > 0 ? stored : now;
            long next = base + intervalNanos;
            long debt = next - now;
            if (debt > capacityNanos) {
                return new RateLimitDecision(false, 0, debt - capacityNanos, base - now);
            }
            if (tat.compareAndSet(stored, next)) {
                return new RateLimitDecision(true, (capacityNanos - debt) / intervalNanos, 0, debt);
            }
        }
    }

    /** Whole tokens in the bucket now, without taking one. */
    public long availableTokens() {
        long debt = tat.get() - clock.nanoTime();
        return (capacityNanos - Math.max(0, debt)) / intervalNanos;
    }

    /** Nanoseconds one token takes to refill. */
    public long intervalNanos() {
        return intervalNanos;
    }
}
