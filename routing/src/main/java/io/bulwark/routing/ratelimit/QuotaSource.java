package io.bulwark.routing.ratelimit;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where the tokens of a {@code scope = global} rate limit come from: one bucket per route and key
 * for the whole fleet, kept in Redis (the proxy's fleet client). The request path never waits for
 * it: a {@link GlobalRateLimiter} asks ahead of need and decides from what it already holds.
 * Implementations are thread-safe and never block.
 */
public interface QuotaSource {

    /**
     * Takes up to {@code want} tokens from the fleet bucket of {@code route} and {@code key}, after
     * charging the {@code owed} requests this sidecar already let through on its own share (those
     * are taken even from an empty bucket, which then refills that much later, so the fleet's
     * long-run rate holds). Completes on any thread; exceptionally when Redis does not answer in time.
     */
    CompletionStage<Grant> take(String route, String key, double ratePerSecond, int burst, long owed, long want);

    /** Whether Redis is believed reachable now. */
    boolean up();

    /** The live members of the fleet last seen (this sidecar included), at least 1. */
    int liveMembers();

    /** Whether a global limit refuses every request while Redis is down ({@code on-redis-down = deny}). */
    boolean denyWhenDown();

    /** How long a fetch may be outstanding before a limiter decides as if Redis were down ({@code fleet.timeout}). */
    default Duration timeout() {
        return Duration.ofMillis(100);
    }

    /** Counts one decision of a global limit: by tokens Redis granted, or by this sidecar's own share. */
    void recordDecision(String route, boolean byRedis);

    /**
     * @param granted tokens taken for this sidecar, 0..want
     * @param retryAfterMillis when {@code granted < want}: milliseconds until the bucket holds a token again
     */
    record Grant(long granted, long retryAfterMillis) {
    }

    /** No fleet: Redis is never up, so a global limit is enforced by the local share alone, with 1 member. */
    QuotaSource NONE = new QuotaSource() {
        @Override
        public CompletionStage<Grant> take(String route, String key, double rate, int burst, long owed, long want) {
            return CompletableFuture.failedFuture(new IllegalStateException("no bulwark.fleet"));
        }

        @Override
        public boolean up() {
            return false;
        }

        @Override
        public int liveMembers() {
            return 1;
        }

        @Override
        public boolean denyWhenDown() {
            return false;
        }

        @Override
        public void recordDecision(String route, boolean byRedis) {
        }
    };
}
