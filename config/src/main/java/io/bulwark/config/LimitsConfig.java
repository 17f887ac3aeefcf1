package io.bulwark.config;

/** Per-cluster bulkhead limits; a request over any of them gets 503 {@code overloaded} at once. */
public record LimitsConfig(int maxConcurrentRequests, int maxPendingRequests, int maxConcurrentRetries) {
}
