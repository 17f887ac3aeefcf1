package io.bulwark.config;

import java.time.Duration;

/**
 * Per-cluster circuit breaker settings (Resilience4j). {@code enabled = false} turns it off.
 *
 * <p>The breaker judges requests, not tries: each request holds one permission from admission to
 * its final outcome. Its window is time-based by default ({@code sliding-window-duration}), so a
 * burst of failures inside a few milliseconds cannot decide it; {@code sliding-window-size}
 * (a number of calls) applies only to {@code sliding-window-type = count}.
 */
public record CircuitBreakerConfig(
        boolean enabled,
        double failureRateThreshold,
        Duration slowCallDuration,
        double slowCallRateThreshold,
        WindowType slidingWindowType,
        Duration slidingWindowDuration,
        int slidingWindowSize,
        int minimumCalls,
        Duration waitInOpen,
        int halfOpenCalls) {

    /** How the breaker's window is measured. */
    public enum WindowType {
        /** The calls of the last {@code sliding-window-duration} (whole seconds). */
        TIME,
        /** The last {@code sliding-window-size} calls. */
        COUNT
    }
}
