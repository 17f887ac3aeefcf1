package io.bulwark.routing;

import java.time.Duration;

/** A {@link Clock} that moves only when a test advances it. */
public final class ManualClock implements Clock {

    private long nanos = 1_000_000_000L;
    private long millis = 1_800_000_000_000L;

    public void advance(Duration duration) {
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
