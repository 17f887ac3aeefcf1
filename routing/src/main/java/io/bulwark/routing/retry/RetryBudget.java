package io.bulwark.routing.retry;

import io.bulwark.config.RetryConfig;
import io.bulwark.routing.limits.Permit;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The retry budget of one route, a concurrency budget in the manner of linkerd: retries in flight
 * may be at most {@code budget-percent} of the route's requests in flight, but
 * {@code min-retry-concurrency} retries are always allowed. It keeps a failing upstream from being
 * hit by a multiple of the normal load just because every request is retrying.
 *
 * <p>Pairing: every downstream request holds an {@link #onRequestStart()} permit for its whole life;
 * each retry (not the first try) takes a {@link #tryAcquireRetry()} permit and closes it when that
 * try ends. Permits are idempotent {@link AutoCloseable}s. Counters are atomics: safe on every event
 * loop, never blocking. The cap holds exactly for a given number of requests in flight (the retry
 * count is raised by compare-and-set against it); requests starting and ending concurrently only
 * move the cap itself.
 */
public final class RetryBudget {

    private final AtomicInteger requestsInFlight = new AtomicInteger();
    private final AtomicInteger retriesInFlight = new AtomicInteger();
    private final LongAdder exhausted = new LongAdder();
    private volatile double budgetPercent;
    private volatile int minRetryConcurrency;

    public RetryBudget(RetryConfig config) {
        this(config.budgetPercent(), config.minRetryConcurrency());
    }

    public RetryBudget(double budgetPercent, int minRetryConcurrency) {
        reconfigure(budgetPercent, minRetryConcurrency);
    }

    /** Applies a reloaded route's budget while keeping the counts in flight. */
    public void reconfigure(RetryConfig config) {
        reconfigure(config.budgetPercent(), config.minRetryConcurrency());
    }

    private void reconfigure(double budgetPercent, int minRetryConcurrency) {
        this.budgetPercent = budgetPercent;
        this.minRetryConcurrency = minRetryConcurrency;
    }

    /** A downstream request entered the route; close the permit when it is over, whatever happened. */
    public Permit onRequestStart() {
        requestsInFlight.incrementAndGet();
        return Permit.decrementing(requestsInFlight);
    }

    /**
     * Asks for a retry slot: granted while retries in flight stay below
     * {@code max(min-retry-concurrency, budget-percent% * requests in flight)}. Empty when the budget
     * is spent (counted in {@link #exhaustedCount()}); then the last try's result stands.
     */
    public Optional<Permit> tryAcquireRetry() {
        while (true) {
            int retries = retriesInFlight.get();
            if (retries >= allowedRetries()) {
                exhausted.increment();
                return Optional.empty();
            }
            if (retriesInFlight.compareAndSet(retries, retries + 1)) {
                return Optional.of(Permit.decrementing(retriesInFlight));
            }
        }
    }

    /** How many retries may be in flight now. */
    public int allowedRetries() {
        double byBudget = budgetPercent / 100.0 * requestsInFlight.get();
        return (int) Math.max(minRetryConcurrency, Math.floor(byBudget));
    }

    public int requestsInFlight() {
        return requestsInFlight.get();
    }

    public int retriesInFlight() {
        return retriesInFlight.get();
    }

    /** Retries refused for lack of budget so far (for {@code bulwark_retry_budget_exhausted_total}). */
    public long exhaustedCount() {
        return exhausted.sum();
    }
}
