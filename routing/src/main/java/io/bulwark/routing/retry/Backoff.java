package io.bulwark.routing.retry;

import io.bulwark.config.RetryConfig;
import io.bulwark.routing.Clock;

import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * The wait before a retry: exponential with full jitter (the AWS "full jitter" scheme Envoy uses).
 * Retry {@code n} (1 = the first retry) waits a uniformly random time in
 * {@code [0, min(max, base * 2^(n-1))]}. An upstream's {@code Retry-After} overrides it through
 * {@link #retryAfter(String, long)}.
 *
 * <p>The random source is injectable: a supplier of fractions in {@code [0, 1]}, where 0 gives no
 * wait and 1 the full ceiling, so tests are deterministic. Stateless apart from that; thread-safe
 * when the supplier is (the default uses {@link ThreadLocalRandom}).
 */
public final class Backoff {

    /** What an upstream's {@code Retry-After} means for the next retry. */
    public enum RetryAfterAction {
        /** No usable header: wait {@link #delayNanos(int)} as usual. */
        USE_BACKOFF,
        /** Wait the header's delay ({@link RetryAfter#delayNanos()}), then retry. */
        WAIT,
        /** The upstream asks for a wait beyond the request's deadline: do not retry. */
        DONT_RETRY
    }

    /** The decision of {@link #retryAfter(String, long)}; {@code delayNanos} is meaningful for {@code WAIT}. */
    public record RetryAfter(RetryAfterAction action, long delayNanos) {
    }

    private static final RetryAfter USE_BACKOFF = new RetryAfter(RetryAfterAction.USE_BACKOFF, 0);
    private static final RetryAfter DONT_RETRY = new RetryAfter(RetryAfterAction.DONT_RETRY, 0);

    private final long baseNanos;
    private final long maxNanos;
    private final Clock clock;
    private final DoubleSupplier random;

    public Backoff(RetryConfig.Backoff config, Clock clock) {
        this(config, clock, () -> ThreadLocalRandom.current().nextDouble());
    }

    /** @param random fractions in {@code [0, 1]}; 0 means no wait, 1 the whole ceiling */
    public Backoff(RetryConfig.Backoff config, Clock clock, DoubleSupplier random) {
        this.baseNanos = Math.max(0, config.base().toNanos());
        this.maxNanos = Math.max(0, config.max().toNanos());
        this.clock = clock;
        this.random = random;
    }

    /** The largest wait before retry {@code retry} (1-based): {@code min(max, base * 2^(retry-1))}. */
    public long ceilingNanos(int retry) {
        int shift = Math.max(0, retry - 1);
        if (baseNanos == 0) {
            return 0;
        }
        if (shift >= 62 || baseNanos > (maxNanos >> shift)) {
            return maxNanos;
        }
        return Math.min(maxNanos, baseNanos << shift);
    }

    /** The wait before retry {@code retry} (1-based), jittered in {@code [0, ceiling]}. */
    public long delayNanos(int retry) {
        long ceiling = ceilingNanos(retry);
        double fraction = Math.min(1.0, Math.max(0.0, random.getAsDouble()));
        return Math.round(fraction * ceiling);
    }

    /**
     * What to do about an upstream's {@code Retry-After} (delta-seconds or an HTTP-date, read against
     * {@link Clock#currentTimeMillis()}): wait what it asks if that leaves time for another try
     * before the deadline (the delay is strictly less than {@code remainingNanos}), otherwise do not
     * retry. A missing or malformed header means {@link RetryAfterAction#USE_BACKOFF}.
     *
     * @param remainingNanos time left until the route's deadline; {@code Long.MAX_VALUE} for none
     */
    public RetryAfter retryAfter(String headerValue, long remainingNanos) {
        OptionalLong millis = RetryAfterHeader.delayMillis(headerValue, clock.currentTimeMillis());
        if (millis.isEmpty()) {
            return USE_BACKOFF;
        }
        long delay = millis.getAsLong() >= Long.MAX_VALUE / 1_000_000 ? Long.MAX_VALUE : millis.getAsLong() * 1_000_000;
        if (delay >= remainingNanos) {
            return DONT_RETRY;
        }
        return new RetryAfter(RetryAfterAction.WAIT, delay);
    }
}
