package io.bulwark.config;

import java.time.Duration;

/** Per-cluster circuit breaker settings (Resilience4j). {@code enabled = false} turns it off. */
public record CircuitBreakerConfig(
        boolean enabled,
        double failureRateThreshold,
        Duration slowCallDuration,
        double slowCallRateThreshold,
        int slidingWindowSize,
        int minimumCalls,
        Duration waitInOpen,
        int halfOpenCalls) {
}
