package io.bulwark.config;

import java.util.Optional;

/**
 * Per-cluster bulkhead limits; a request over any of them gets 503 {@code overloaded} at once.
 *
 * @param adaptive a latency-driven limit on requests in flight besides the fixed ones; empty = off
 */
public record LimitsConfig(int maxConcurrentRequests, int maxPendingRequests, int maxConcurrentRetries,
                           Optional<AdaptiveLimitConfig> adaptive) {

    /** Fixed limits only. */
    public LimitsConfig(int maxConcurrentRequests, int maxPendingRequests, int maxConcurrentRetries) {
        this(maxConcurrentRequests, maxPendingRequests, maxConcurrentRetries, Optional.empty());
    }
}
