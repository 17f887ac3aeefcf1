package io.bulwark.routing;

import java.time.Duration;

/** A {@link Clock} that moves only when a test advances it. */
public final class ManualClock implements Clock {

    /** Where the wall clock starts: 2027-01-15T08:00:00Z, so timestamps in assertions are readable. */
    public static final long START_MILLIS = 1_800_000_000_000L;

    private long nanos = 1_000_000_000L;
    private long millis = START_MILLIS;

    public void advance(Duration duration) {
        if (duration.isNegative()) {
            throw new IllegalArgumentException("time only moves forward: " + duration);
        }
        nanos += duration.toNanos();
        millis += duration.toMillis();
    }

    @Override
    public long nanoTime() {
        return nanos;
    }

    @Override
    public long currentTimeMillis() {
        return millis;
    }
}
