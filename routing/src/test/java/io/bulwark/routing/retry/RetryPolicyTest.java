package io.bulwark.routing.retry;

import io.bulwark.config.RetryConfig;
import io.bulwark.config.RetryConfig.RetryOn;
import io.bulwark.routing.TestConfigs;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class RetryPolicyTest {

    /** The contract's default: max 2, [connect-failure, reset, gateway-error], retriable-status [503]. */
    private static final RetryConfig DEFAULT = TestConfigs.defaultRetry();

    private static RetryConfig with(Set<RetryOn> retryOn, Set<Integer> statuses, boolean nonIdempotent) {
        return new RetryConfig(DEFAULT.maxRetries(), retryOn, statuses, DEFAULT.perTryTimeout(), DEFAULT.backoff(),
                DEFAULT.budgetPercent(), DEFAULT.minRetryConcurrency(), nonIdempotent, DEFAULT.bufferLimit());
    }

    private static RetryDecision decide(RetryConfig config, String method, TryFailure failure) {
        return RetryPolicy.decide(config, method, failure, true, true, 1);
    }

    @Test
    void connectFailureIsRetriedForAnyMethodSinceNothingWasSent() {
        assertThat(decide(DEFAULT, "POST", TryFailure.connectFailure())).isEqualTo(new RetryDecision(true, "connect_failure"));
        assertThat(decide(DEFAULT, "PATCH", TryFailure.connectFailure()).retry()).isTrue();
    }

    @Test
    void postIsNotRetriedOnceSentUnlessRetryNonIdempotent() {
        assertThat(decide(DEFAULT, "POST", TryFailure.reset())).isEqualTo(new RetryDecision(false, "non_idempotent"));
        assertThat(decide(DEFAULT, "POST", TryFailure.status(503))).isEqualTo(new RetryDecision(false, "non_idempotent"));

        RetryConfig allowed = with(DEFAULT.retryOn(), DEFAULT.retriableStatus(), true);
        assertThat(decide(allowed, "POST", TryFailure.reset())).isEqualTo(new RetryDecision(true, "reset"));
    }

    @Test
    void postThatNeverReachedTheUpstreamIsRetried() {
        assertThat(RetryPolicy.decide(DEFAULT, "POST", TryFailure.reset(), false, true, 1))
                .isEqualTo(new RetryDecision(true, "reset"));
    }

    @Test
    void idempotentMethodsAreRetriedAfterBeingSent() {
        for (String method : new String[] {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
            assertThat(decide(DEFAULT, method, TryFailure.reset()).retry()).as(method).isTrue();
        }
        assertThat(RetryPolicy.isIdempotent("CONNECT")).isFalse();
        assertThat(RetryPolicy.isIdempotent("PURGE")).isFalse();
    }

    @Test
    void status500IsRetriedOnlyWith5xx() {
        assertThat(decide(DEFAULT, "GET", TryFailure.status(500))).isEqualTo(new RetryDecision(false, "not_retriable"));

        RetryConfig fiveXx = with(Set.of(RetryOn.SERVER_ERROR), Set.of(), false);
        assertThat(decide(fiveXx, "GET", TryFailure.status(500))).isEqualTo(new RetryDecision(true, "5xx"));
        assertThat(decide(fiveXx, "GET", TryFailure.status(503))).isEqualTo(new RetryDecision(true, "5xx"));
        assertThat(decide(fiveXx, "GET", TryFailure.status(404)).retry()).isFalse();
    }

    @Test
    void status503IsRetriedWithGatewayErrorOrRetriableStatus() {
        RetryConfig gateway = with(Set.of(RetryOn.GATEWAY_ERROR), Set.of(), false);
        assertThat(decide(gateway, "GET", TryFailure.status(503))).isEqualTo(new RetryDecision(true, "gateway_error"));
        assertThat(decide(gateway, "GET", TryFailure.status(502)).retry()).isTrue();
        assertThat(decide(gateway, "GET", TryFailure.status(504)).retry()).isTrue();
        assertThat(decide(gateway, "GET", TryFailure.status(500)).retry()).isFalse();

        RetryConfig listed = with(Set.of(RetryOn.RETRIABLE_STATUS), Set.of(503), false);
        assertThat(decide(listed, "GET", TryFailure.status(503))).isEqualTo(new RetryDecision(true, "retriable_status"));
        assertThat(decide(listed, "GET", TryFailure.status(502)).retry()).isFalse();
    }

    @Test
    void theMostSpecificConditionNamesTheReason() {
        RetryConfig all = with(Set.of(RetryOn.SERVER_ERROR, RetryOn.GATEWAY_ERROR, RetryOn.RETRIABLE_STATUS), Set.of(503), false);

        assertThat(decide(all, "GET", TryFailure.status(503)).reason()).isEqualTo("retriable_status");
        assertThat(decide(all, "GET", TryFailure.status(502)).reason()).isEqualTo("gateway_error");
        assertThat(decide(all, "GET", TryFailure.status(500)).reason()).isEqualTo("5xx");
    }

    @Test
    void retriableStatusCanNameA4xx() {
        RetryConfig tooMany = with(Set.of(RetryOn.RETRIABLE_STATUS), Set.of(429), false);
        assertThat(decide(tooMany, "GET", TryFailure.status(429))).isEqualTo(new RetryDecision(true, "retriable_status"));
    }

    @Test
    void localFailuresAreRetriedOnlyByTheirOwnCondition() {
        assertThat(decide(DEFAULT, "GET", TryFailure.timeout())).isEqualTo(new RetryDecision(false, "not_retriable"));

        RetryConfig timeout = with(Set.of(RetryOn.TIMEOUT), Set.of(), false);
        assertThat(decide(timeout, "GET", TryFailure.timeout())).isEqualTo(new RetryDecision(true, "timeout"));
        assertThat(decide(timeout, "GET", TryFailure.reset()).retry()).isFalse();
        assertThat(decide(timeout, "GET", TryFailure.connectFailure()).retry()).isFalse();

        RetryConfig fiveXx = with(Set.of(RetryOn.SERVER_ERROR, RetryOn.GATEWAY_ERROR), Set.of(), false);
        assertThat(decide(fiveXx, "GET", TryFailure.reset()).retry()).isFalse();
    }

    @Test
    void attemptsBeyondMaxRetriesAreRefused() {
        // max-retries = 2: the first try and two retries.
        assertThat(RetryPolicy.decide(DEFAULT, "GET", TryFailure.reset(), true, true, 1).retry()).isTrue();
        assertThat(RetryPolicy.decide(DEFAULT, "GET", TryFailure.reset(), true, true, 2).retry()).isTrue();
        assertThat(RetryPolicy.decide(DEFAULT, "GET", TryFailure.reset(), true, true, 3))
                .isEqualTo(new RetryDecision(false, "retries_exhausted"));
    }

    @Test
    void aBodyThatCannotBeReplayedIsNotRetried() {
        assertThat(RetryPolicy.decide(DEFAULT, "PUT", TryFailure.reset(), true, false, 1))
                .isEqualTo(new RetryDecision(false, "body_not_replayable"));
    }

    @Test
    void aConditionThatIsNotConfiguredWinsOverEveryOtherReason() {
        RetryConfig none = with(Set.of(), Set.of(), false);
        assertThat(RetryPolicy.decide(none, "POST", TryFailure.status(503), true, false, 9).reason()).isEqualTo("not_retriable");
    }

    @Test
    void upstreamLocalFailuresMapOntoTryFailures() {
        assertThat(TryFailure.of(Upstream.LocalFailure.CONNECT_FAILURE)).isEqualTo(TryFailure.connectFailure());
        assertThat(TryFailure.of(Upstream.LocalFailure.RESET)).isEqualTo(TryFailure.reset());
        assertThat(TryFailure.of(Upstream.LocalFailure.TIMEOUT)).isEqualTo(TryFailure.timeout());
        assertThat(new RetryPolicy(DEFAULT).decide("GET", TryFailure.of(Upstream.LocalFailure.RESET), true, true, 1).reason())
                .isEqualTo("reset");
    }
}
