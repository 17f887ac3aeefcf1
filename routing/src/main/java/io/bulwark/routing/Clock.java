package io.bulwark.routing;

/**
 * Time as the routing logic sees it. Every state machine takes one so tests can advance
 * time by hand instead of sleeping.
 */
public interface Clock {

    /** Monotonic nanoseconds, for durations. */
    long nanoTime();

    /** Wall-clock milliseconds since the epoch, for timestamps shown to people. */
    long currentTimeMillis();

    Clock SYSTEM = new Clock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long currentTimeMillis() {
            return System.currentTimeMillis();
        }
    };
}
