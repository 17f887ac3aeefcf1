package io.bulwark.config;

import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;

/**
 * Per-route retry policy.
 *
 * @param maxRetries retries after the first try
 * @param perTryTimeout zero = only the route timeout applies
 * @param budgetPercent retries in flight may be at most this percent of requests in flight...
 * @param minRetryConcurrency ...but this many are always allowed
 * @param bufferLimit request bodies up to this many bytes are kept for replay
 */
public record RetryConfig(
        int maxRetries,
        Set<RetryOn> retryOn,
        Set<Integer> retriableStatus,
        Duration perTryTimeout,
        Backoff backoff,
        double budgetPercent,
        int minRetryConcurrency,
        boolean retryNonIdempotent,
        long bufferLimit) {

    public RetryConfig {
        retryOn = Set.copyOf(retryOn);
        retriableStatus = Set.copyOf(retriableStatus);
    }

    /** Exponential backoff with full jitter between {@code 0} and {@code min(max, base * 2^n)}. */
    public record Backoff(Duration base, Duration max) {
    }

    /** The conditions a try is retried on, by their config names. */
    public enum RetryOn {
        CONNECT_FAILURE("connect-failure"),
        RESET("reset"),
        TIMEOUT("timeout"),
        GATEWAY_ERROR("gateway-error"),
        SERVER_ERROR("5xx"),
        RETRIABLE_STATUS("retriable-status"),
        /** gRPC statuses in a trailers-only response: CANCELLED (1). */
        CANCELLED("cancelled"),
        /** DEADLINE_EXCEEDED (4). */
        DEADLINE_EXCEEDED("deadline-exceeded"),
        /** RESOURCE_EXHAUSTED (8). */
        RESOURCE_EXHAUSTED("resource-exhausted"),
        /** UNAVAILABLE (14). */
        UNAVAILABLE("unavailable");

        private final String configName;

        RetryOn(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }

        public static Optional<RetryOn> fromConfigName(String name) {
            return Arrays.stream(values()).filter(r -> r.configName.equals(name)).findFirst();
        }
    }
}
