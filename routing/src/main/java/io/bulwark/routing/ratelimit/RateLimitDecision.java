package io.bulwark.routing.ratelimit;

/**
 * The answer of a {@link TokenBucket} to one request.
 *
 * @param allowed whether the request may go on (a token was taken)
 * @param remaining whole tokens left after this request; 0 when refused
 * @param retryAfterNanos when refused, nanoseconds until a token is available; 0 when allowed
 * @param resetNanos nanoseconds until the bucket is full again (the quota "resets")
 */
public record RateLimitDecision(boolean allowed, long remaining, long retryAfterNanos, long resetNanos) {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    /**
     * The {@code Retry-After} value for a refusal: whole seconds, rounded up and at least 1, so a
     * client that waits that long finds a token (HTTP has no sub-second delay).
     */
    public long retryAfterSeconds() {
        return Math.max(1, ceilSeconds(retryAfterNanos));
    }

    /** Seconds until the bucket is full again, rounded up; 0 when it is full now. */
    public long resetSeconds() {
        return ceilSeconds(resetNanos);
    }

    static long ceilSeconds(long nanos) {
        if (nanos <= 0) {
            return 0;
        }
        return nanos / NANOS_PER_SECOND + (nanos % NANOS_PER_SECOND == 0 ? 0 : 1);
    }
}
