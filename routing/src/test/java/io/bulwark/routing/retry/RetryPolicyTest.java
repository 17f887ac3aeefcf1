package io.bulwark.routing.retry;

import io.bulwark.routing.TryOutcome;

import io.bulwark.config.RetryConfig;
import io.bulwark.config.RetryConfig.RetryOn;
import io.bulwark.routing.TestConfigs;
import io.bulwark.routing.FailureKind;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class RetryPolicyTest {

    private static final TryOutcome RESET = TryOutcome.failed(FailureKind.RESET, 0);
    private static final TryOutcome TIMEOUT = TryOutcome.failed(FailureKind.TIMEOUT, 0);
    private static final TryOutcome CONNECT = TryOutcome.failed(FailureKind.CONNECT_FAILURE, 0);

    /** The contract's default: max 2, [connect-failure, reset, gateway-error], retriable-status [503]. */
    private static final RetryConfig DEFAULT = TestConfigs.defaultRetry();

    private static RetryConfig with(Set<RetryOn> retryOn, Set<Integer> statuses, boolean nonIdempotent) {
        return new RetryConfig(DEFAULT.maxRetries(), retryOn, statuses, DEFAULT.perTryTimeout(), DEFAULT.backoff(),
                DEFAULT.budgetPercent(), DEFAULT.minRetryConcurrency(), nonIdempotent, DEFAULT.bufferLimit());
    }

    private static RetryDecision decide(RetryConfig config, String method, TryOutcome failure) {
        return RetryPolicy.decide(config, method, failure, true, true, 1);
    }

    @Test
    void connectFailureIsRetriedForAnyMethodSinceNothingWasSent() {
        assertThat(decide(DEFAULT, "POST", CONNECT)).isEqualTo(new RetryDecision(true, "connect_failure"));
        assertThat(decide(DEFAULT, "PATCH", CONNECT).retry()).isTrue();
    }

    @Test
    void postIsNotRetriedOnceSentUnlessRetryNonIdempotent() {
        assertThat(decide(DEFAULT, "POST", RESET)).isEqualTo(new RetryDecision(false, "non_idempotent"));
        assertThat(decide(DEFAULT, "POST", TryOutcome.response(503, 0))).isEqualTo(new RetryDecision(false, "non_idempotent"));

        RetryConfig allowed = with(DEFAULT.retryOn(), DEFAULT.retriableStatus(), true);
        assertThat(decide(allowed, "POST", RESET)).isEqualTo(new RetryDecision(true, "reset"));
    }

    @Test
    void grpcStatusesInATrailersOnlyAnswerAreRetriedWhenListedWhateverTheMethod() {
        RetryConfig grpc = with(Set.of(RetryOn.UNAVAILABLE, RetryOn.RESOURCE_EXHAUSTED, RetryOn.CANCELLED,
                RetryOn.DEADLINE_EXCEEDED), Set.of(), false);
        assertThat(decide(grpc, "POST", TryOutcome.grpc(200, 14, 0))).isEqualTo(new RetryDecision(true, "unavailable"));
        assertThat(decide(grpc, "POST", TryOutcome.grpc(200, 8, 0)))
                .isEqualTo(new RetryDecision(true, "resource_exhausted"));
        assertThat(decide(grpc, "POST", TryOutcome.grpc(200, 1, 0))).isEqualTo(new RetryDecision(true, "cancelled"));
        assertThat(decide(grpc, "POST", TryOutcome.grpc(200, 4, 0)))
                .isEqualTo(new RetryDecision(true, "deadline_exceeded"));
        assertThat(decide(grpc, "POST", TryOutcome.grpc(200, 13, 0)).retry()).as("INTERNAL is no condition").isFalse();
        assertThat(decide(grpc, "POST", TryOutcome.grpc(200, 0, 0)).retry()).isFalse();
        // Not listed: the default conditions know no gRPC status.
        assertThat(decide(DEFAULT, "POST", TryOutcome.grpc(200, 14, 0)))
                .isEqualTo(new RetryDecision(false, "not_retriable"));
        // The other limits still hold.
        assertThat(RetryPolicy.decide(grpc, "POST", TryOutcome.grpc(200, 14, 0), true, false, 1))
                .isEqualTo(new RetryDecision(false, "body_not_replayable"));
        assertThat(RetryPolicy.decide(grpc, "POST", TryOutcome.grpc(200, 14, 0), true, true, 3))
                .isEqualTo(new RetryDecision(false, "retries_exhausted"));
        // A reset of a gRPC call (a POST) is still held back by the method rule.
        assertThat(decide(with(Set.of(RetryOn.RESET, RetryOn.UNAVAILABLE), Set.of(), false), "POST", RESET))
                .isEqualTo(new RetryDecision(false, "non_idempotent"));
    }

    @Test
    void postThatNeverReachedTheUpstreamIsRetried() {
        assertThat(RetryPolicy.decide(DEFAULT, "POST", RESET, false, true, 1))
                .isEqualTo(new RetryDecision(true, "reset"));
    }

    @Test
    void idempotentMethodsAreRetriedAfterBeingSent() {
        for (String method : new String[] {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
            assertThat(decide(DEFAULT, method, RESET).retry()).as(method).isTrue();
        }
        assertThat(RetryPolicy.isIdempotent("CONNECT")).isFalse();
        assertThat(RetryPolicy.isIdempotent("PURGE")).isFalse();
    }

    @Test
    void status500IsRetriedOnlyWith5xx() {
        assertThat(decide(DEFAULT, "GET", TryOutcome.response(500, 0))).isEqualTo(new RetryDecision(false, "not_retriable"));

        RetryConfig fiveXx = with(Set.of(RetryOn.SERVER_ERROR), Set.of(), false);
        assertThat(decide(fiveXx, "GET", TryOutcome.response(500, 0))).isEqualTo(new RetryDecision(true, "5xx"));
        assertThat(decide(fiveXx, "GET", TryOutcome.response(503, 0))).isEqualTo(new RetryDecision(true, "5xx"));
        assertThat(decide(fiveXx, "GET", TryOutcome.response(404, 0)).retry()).isFalse();
    }

    @Test
    void status503IsRetriedWithGatewayErrorOrRetriableStatus() {
        RetryConfig gateway = with(Set.of(RetryOn.GATEWAY_ERROR), Set.of(), false);
        assertThat(decide(gateway, "GET", TryOutcome.response(503, 0))).isEqualTo(new RetryDecision(true, "gateway_error"));
        assertThat(decide(gateway, "GET", TryOutcome.response(502, 0)).retry()).isTrue();
        assertThat(decide(gateway, "GET", TryOutcome.response(504, 0)).retry()).isTrue();
        assertThat(decide(gateway, "GET", TryOutcome.response(500, 0)).retry()).isFalse();

        RetryConfig listed = with(Set.of(RetryOn.RETRIABLE_STATUS), Set.of(503), false);
        assertThat(decide(listed, "GET", TryOutcome.response(503, 0))).isEqualTo(new RetryDecision(true, "retriable_status"));
        assertThat(decide(listed, "GET", TryOutcome.response(502, 0)).retry()).isFalse();
    }

    @Test
    void theMostSpecificConditionNamesTheReason() {
        RetryConfig all = with(Set.of(RetryOn.SERVER_ERROR, RetryOn.GATEWAY_ERROR, RetryOn.RETRIABLE_STATUS), Set.of(503), false);

        assertThat(decide(all, "GET", TryOutcome.response(503, 0)).reason()).isEqualTo("retriable_status");
        assertThat(decide(all, "GET", TryOutcome.response(502, 0)).reason()).isEqualTo("gateway_error");
        assertThat(decide(all, "GET", TryOutcome.response(500, 0)).reason()).isEqualTo("5xx");
    }

    @Test
    void retriableStatusCanNameA4xx() {
        RetryConfig tooMany = with(Set.of(RetryOn.RETRIABLE_STATUS), Set.of(429), false);
        assertThat(decide(tooMany, "GET", TryOutcome.response(429, 0))).isEqualTo(new RetryDecision(true, "retriable_status"));
    }

    @Test
    void localFailuresAreRetriedOnlyByTheirOwnCondition() {
        assertThat(decide(DEFAULT, "GET", TIMEOUT)).isEqualTo(new RetryDecision(false, "not_retriable"));

        RetryConfig timeout = with(Set.of(RetryOn.TIMEOUT), Set.of(), false);
        assertThat(decide(timeout, "GET", TIMEOUT)).isEqualTo(new RetryDecision(true, "timeout"));
        assertThat(decide(timeout, "GET", RESET).retry()).isFalse();
        assertThat(decide(timeout, "GET", CONNECT).retry()).isFalse();

        RetryConfig fiveXx = with(Set.of(RetryOn.SERVER_ERROR, RetryOn.GATEWAY_ERROR), Set.of(), false);
        assertThat(decide(fiveXx, "GET", RESET).retry()).isFalse();
    }

    @Test
    void attemptsBeyondMaxRetriesAreRefused() {
        // max-retries = 2: the first try and two retries.
        assertThat(RetryPolicy.decide(DEFAULT, "GET", RESET, true, true, 1).retry()).isTrue();
        assertThat(RetryPolicy.decide(DEFAULT, "GET", RESET, true, true, 2).retry()).isTrue();
        assertThat(RetryPolicy.decide(DEFAULT, "GET", RESET, true, true, 3))
                .isEqualTo(new RetryDecision(false, "retries_exhausted"));
    }

    @Test
    void aBodyThatCannotBeReplayedIsNotRetried() {
        assertThat(RetryPolicy.decide(DEFAULT, "PUT", RESET, true, false, 1))
                .isEqualTo(new RetryDecision(false, "body_not_replayable"));
    }

    @Test
    void aConditionThatIsNotConfiguredWinsOverEveryOtherReason() {
        RetryConfig none = with(Set.of(), Set.of(), false);
        assertThat(RetryPolicy.decide(none, "POST", TryOutcome.response(503, 0), true, false, 9).reason()).isEqualTo("not_retriable");
    }

    @Test
    void aProtocolErrorIsRetriedUnderReset() {
        TryOutcome garbled = TryOutcome.failed(FailureKind.PROTOCOL_ERROR, 0);
        assertThat(new RetryPolicy(DEFAULT).decide("GET", garbled, true, true, 1).reason()).isEqualTo("reset");
        RetryConfig connectOnly = with(Set.of(RetryOn.CONNECT_FAILURE), Set.of(), false);
        assertThat(RetryPolicy.decide(connectOnly, "GET", garbled, true, true, 1).reason()).isEqualTo("not_retriable");
    }
}
