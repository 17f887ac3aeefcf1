package io.bulwark.routing.retry;

import io.bulwark.config.RetryConfig;
import io.bulwark.config.RetryConfig.RetryOn;
import io.bulwark.routing.FailureKind;
import io.bulwark.routing.GrpcStatus;
import io.bulwark.routing.TryOutcome;

import java.util.Set;

/**
 * Whether a failed try of a request may be retried under a route's {@code retry} block: a pure
 * function of the config and what happened, with the reason for metrics and logs. The budget
 * ({@link RetryBudget}), the cluster's retry limit, the deadline and "no response byte went to the
 * client yet" are the proxy's further checks.
 *
 * <h2>Conditions</h2>
 * Each retry-on name covers exactly what it says:
 * <ul>
 * <li>{@code connect-failure}, {@code reset}, {@code timeout} (the per-try timeout): the local
 *     failures, each only by its own name; a protocol error (a malformed response head) is retried
 *     under {@code reset}, since to the client it is the same: no usable response. This differs
 *     from Envoy, whose {@code 5xx} and {@code gateway-error} also cover resets and connect
 *     failures; here the default
 *     {@code [connect-failure, reset, gateway-error]} lists them separately.</li>
 * <li>{@code retriable-status}: a status in {@code retriable-status};
 *     {@code gateway-error}: 502, 503, 504; {@code 5xx}: any 5xx. When several match, the reason is
 *     the most specific: {@code retriable_status}, then {@code gateway_error}, then {@code 5xx}.</li>
 * <li>{@code cancelled}, {@code deadline-exceeded}, {@code resource-exhausted}, {@code unavailable}:
 *     a gRPC response (HTTP 200, {@code content-type: application/grpc*}) with that
 *     {@code grpc-status} (1, 4, 8, 14) in its head — a trailers-only response, of which nothing
 *     went to the client. A status that comes in the trailers after a streamed body is never
 *     retried (the body went to the client already).</li>
 * </ul>
 *
 * <h2>Safety</h2>
 * A request that may have reached the upstream is sent again only if its method is idempotent
 * (RFC 9110: GET, HEAD, OPTIONS, TRACE, PUT, DELETE) or the route sets
 * {@code retry-non-idempotent}. A connect failure never reached the upstream, so it is safe for
 * any method. Neither is a gRPC status the route lists: every gRPC call is a POST, and listing a
 * status is the operator's word that the service did not carry out a call it answered so (as in
 * Envoy, whose gRPC retry conditions ignore the method). The body must be replayable (no body, or
 * all of it still in the replay buffer), and at most {@code max-retries} retries follow the first try.
 */
public final class RetryPolicy {

    public static final String CONNECT_FAILURE = "connect_failure";
    public static final String RESET = "reset";
    public static final String TIMEOUT = "timeout";
    public static final String GATEWAY_ERROR = "gateway_error";
    public static final String SERVER_ERROR = "5xx";
    public static final String RETRIABLE_STATUS = "retriable_status";
    public static final String GRPC_CANCELLED = "cancelled";
    public static final String GRPC_DEADLINE_EXCEEDED = "deadline_exceeded";
    public static final String GRPC_RESOURCE_EXHAUSTED = "resource_exhausted";
    public static final String GRPC_UNAVAILABLE = "unavailable";

    public static final String NOT_RETRIABLE = "not_retriable";
    public static final String RETRIES_EXHAUSTED = "retries_exhausted";
    public static final String NON_IDEMPOTENT = "non_idempotent";
    public static final String BODY_NOT_REPLAYABLE = "body_not_replayable";

    private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");

    private final RetryConfig config;

    public RetryPolicy(RetryConfig config) {
        this.config = config;
    }

    public RetryConfig config() {
        return config;
    }

    /**
     * @param method the request's method, upper case
     * @param failure how the try failed: a {@link FailureKind}, or the upstream's status
     * @param requestSent whether any of the request may have reached the upstream (ignored, as
     *     false, for a connect failure)
     * @param bodyReplayable whether the whole request body can be sent again (true without a body)
     * @param attempt the number of the try that failed: 1 for the first try, 2 for the first retry
     *     (the {@code x-bulwark-attempt} it carried)
     */
    public RetryDecision decide(String method, TryOutcome failure, boolean requestSent, boolean bodyReplayable,
                                int attempt) {
        return decide(config, method, failure, requestSent, bodyReplayable, attempt);
    }

    /** {@link #decide(String, TryOutcome, boolean, boolean, int)} for a given config. */
    public static RetryDecision decide(RetryConfig config, String method, TryOutcome failure, boolean requestSent,
                                       boolean bodyReplayable, int attempt) {
        String reason = condition(config, failure);
        if (reason == null) {
            return RetryDecision.refuse(NOT_RETRIABLE);
        }
        if (attempt > config.maxRetries()) {
            return RetryDecision.refuse(RETRIES_EXHAUSTED);
        }
        boolean sent = requestSent && failure.failure() != FailureKind.CONNECT_FAILURE;
        if (sent && !failure.hasGrpcStatus() && !config.retryNonIdempotent() && !isIdempotent(method)) {
            return RetryDecision.refuse(NON_IDEMPOTENT);
        }
        if (!bodyReplayable) {
            return RetryDecision.refuse(BODY_NOT_REPLAYABLE);
        }
        return RetryDecision.retry(reason);
    }

    /** The retry-on condition {@code failure} meets, as a reason tag; null when none is configured. */
    public static String condition(RetryConfig config, TryOutcome failure) {
        if (failure.answered()) {
            return failure.hasGrpcStatus() ? grpcCondition(config, failure.grpcStatus())
                    : statusCondition(config, failure.status());
        }
        Set<RetryOn> on = config.retryOn();
        return switch (failure.failure()) {
            case CONNECT_FAILURE -> on.contains(RetryOn.CONNECT_FAILURE) ? CONNECT_FAILURE : null;
            case RESET, PROTOCOL_ERROR -> on.contains(RetryOn.RESET) ? RESET : null;
            case TIMEOUT -> on.contains(RetryOn.TIMEOUT) ? TIMEOUT : null;
        };
    }

    private static String statusCondition(RetryConfig config, int status) {
        Set<RetryOn> on = config.retryOn();
        if (on.contains(RetryOn.RETRIABLE_STATUS) && config.retriableStatus().contains(status)) {
            return RETRIABLE_STATUS;
        }
        if (on.contains(RetryOn.GATEWAY_ERROR) && (status == 502 || status == 503 || status == 504)) {
            return GATEWAY_ERROR;
        }
        if (on.contains(RetryOn.SERVER_ERROR) && status >= 500 && status <= 599) {
            return SERVER_ERROR;
        }
        return null;
    }

    private static String grpcCondition(RetryConfig config, int grpcStatus) {
        Set<RetryOn> on = config.retryOn();
        return switch (grpcStatus) {
            case GrpcStatus.UNAVAILABLE -> on.contains(RetryOn.UNAVAILABLE) ? GRPC_UNAVAILABLE : null;
            case GrpcStatus.RESOURCE_EXHAUSTED -> on.contains(RetryOn.RESOURCE_EXHAUSTED) ? GRPC_RESOURCE_EXHAUSTED : null;
            case GrpcStatus.DEADLINE_EXCEEDED -> on.contains(RetryOn.DEADLINE_EXCEEDED) ? GRPC_DEADLINE_EXCEEDED : null;
            case GrpcStatus.CANCELLED -> on.contains(RetryOn.CANCELLED) ? GRPC_CANCELLED : null;
            default -> null;
        };
    }

    /** RFC 9110 §9.2.2 idempotent methods. Anything else (POST, PATCH, CONNECT, extensions) is not. */
    public static boolean isIdempotent(String method) {
        return IDEMPOTENT.contains(method);
    }
}
