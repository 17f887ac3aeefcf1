package io.bulwark.routing.circuit;

import io.bulwark.routing.Clock;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * Our {@link Clock} as the {@link java.time.Clock} Resilience4j reads for its wait in the open state.
 * Instants advance with {@link Clock#nanoTime()} from the wall time at creation, so they stay close
 * to wall time yet never jump when the system clock is stepped: a wait-in-open of 10s lasts 10s.
 */
final class ClockAdapter extends java.time.Clock {

    private final Clock clock;
    private final long anchorMillis;
    private final long anchorNanos;

    ClockAdapter(Clock clock) {
        this.clock = clock;
        this.anchorMillis = clock.currentTimeMillis();
        this.anchorNanos = clock.nanoTime();
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public java.time.Clock withZone(ZoneId zone) {
        if (ZoneOffset.UTC.equals(zone)) {
            return this;
        }
        throw new UnsupportedOperationException("the circuit breaker's clock is UTC only");
    }

    @Override
    public Instant instant() {
        long elapsed = clock.nanoTime() - anchorNanos;
        return Instant.ofEpochMilli(anchorMillis).plusNanos(elapsed);
    }

    @Override
    public long millis() {
        return instant().toEpochMilli();
    }
}
