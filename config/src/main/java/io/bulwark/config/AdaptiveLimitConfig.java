package io.bulwark.config;

/**
 * A cluster's adaptive concurrency limit ({@code limits.adaptive}): a limit on its requests in
 * flight that follows the cluster's latency, between {@code minLimit} and {@code maxLimit},
 * starting at {@code initialLimit}.
 */
public record AdaptiveLimitConfig(int minLimit, int maxLimit, int initialLimit) {
}
