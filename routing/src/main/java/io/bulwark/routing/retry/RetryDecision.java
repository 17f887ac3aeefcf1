package io.bulwark.routing.retry;

/**
 * The answer of {@link RetryPolicy}.
 *
 * @param retry whether the failed try may be retried (budget, limits and the deadline still apply)
 * @param reason when retrying, the {@code reason} tag of {@code bulwark_retries_total}:
 *     {@code connect_failure}, {@code reset}, {@code timeout}, {@code gateway_error}, {@code 5xx} or
 *     {@code retriable_status}; otherwise why not: {@code not_retriable}, {@code retries_exhausted},
 *     {@code non_idempotent} or {@code body_not_replayable}
 */
public record RetryDecision(boolean retry, String reason) {

    static RetryDecision retry(String reason) {
        return new RetryDecision(true, reason);
    }

    static RetryDecision refuse(String reason) {
        return new RetryDecision(false, reason);
    }
}
