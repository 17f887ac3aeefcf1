package io.bulwark.routing.circuit;

import io.bulwark.config.CircuitBreakerConfig;
import io.bulwark.routing.ManualClock;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterCircuitBreakerTest {

    private static final long FAST = Duration.ofMillis(20).toNanos();
    private static final long SLOW = Duration.ofSeconds(6).toNanos();
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final ManualClock clock = new ManualClock();
    private final List<Transition> transitions = new ArrayList<>();

    /** 50% failures or 100% slow calls (over 5s), window 10, minimum 4 calls, 10s open, 2 trial calls. */
    private static CircuitBreakerConfig config(boolean enabled) {
        return new CircuitBreakerConfig(enabled, 50, Duration.ofSeconds(5), 100, CircuitBreakerConfig.WindowType.COUNT,
                Duration.ofSeconds(10), 10, 4, WAIT, 2);
    }

    private ClusterCircuitBreaker breaker(CircuitBreakerConfig config) {
        ClusterCircuitBreaker breaker = new ClusterCircuitBreaker("users", config, clock);
        breaker.onTransition(transitions::add);
        return breaker;
    }

    private static void call(ClusterCircuitBreaker breaker, boolean fail, long nanos) {
        assertThat(breaker.tryAcquire()).isTrue();
        if (fail) {
            breaker.onFailure(nanos);
        } else {
            breaker.onSuccess(nanos);
        }
    }

    private ClusterCircuitBreaker opened() {
        ClusterCircuitBreaker breaker = breaker(config(true));
        call(breaker, false, FAST);
        call(breaker, false, FAST);
        call(breaker, true, FAST);
        call(breaker, true, FAST);
        assertThat(breaker.state()).isEqualTo("open");
        return breaker;
    }

    private static String fromTo(Transition t) {
        return t.from() + "->" + t.to();
    }

    @Test
    void staysClosedUntilMinimumCallsHaveBeenSeen() {
        ClusterCircuitBreaker breaker = breaker(config(true));

        call(breaker, true, FAST);
        call(breaker, true, FAST);
        call(breaker, true, FAST);

        assertThat(breaker.state()).isEqualTo("closed");
        assertThat(breaker.failureRate()).as("not enough calls for a rate yet").isEmpty();
        assertThat(breaker.tryAcquire()).isTrue();
    }

    @Test
    void opensWhenTheFailureRateReachesTheThresholdAfterMinimumCalls() {
        ClusterCircuitBreaker breaker = opened();

        assertThat(breaker.failureRate()).hasValue(50.0);
        assertThat(transitions).singleElement().satisfies(t -> {
            assertThat(fromTo(t)).isEqualTo("closed->open");
            assertThat(t.cluster()).isEqualTo("users");
            assertThat(t.failureRate()).isEqualTo(50.0);
            assertThat(t.reason()).isEqualTo("failure_rate");
            assertThat(t.timeMillis()).isEqualTo(clock.currentTimeMillis());
        });
    }

    @Test
    void transitionsBecomeEventLogEntriesWithTheNumbersBehindThem() {
        opened();

        StateEvent event = transitions.get(0).toEvent();

        assertThat(event.type()).isEqualTo("circuit_breaker");
        assertThat(event.cluster()).isEqualTo("users");
        assertThat(event.upstream()).isNull();
        assertThat(event.from()).isEqualTo("closed");
        assertThat(event.to()).isEqualTo("open");
        assertThat(event.reason()).isEqualTo("failure_rate");
        assertThat(event.timeMillis()).isEqualTo(clock.currentTimeMillis());
        assertThat(event.detail()).containsEntry("failure_rate", 50.0).containsEntry("failure_rate_threshold", 50.0)
                .containsEntry("slow_call_rate", 0.0).containsEntry("slow_call_rate_threshold", 100.0);
    }

    @Test
    void staysClosedBelowTheThreshold() {
        ClusterCircuitBreaker breaker = breaker(config(true));
        call(breaker, false, FAST);
        call(breaker, false, FAST);
        call(breaker, false, FAST);
        call(breaker, true, FAST);

        assertThat(breaker.state()).isEqualTo("closed");
        assertThat(breaker.failureRate()).hasValue(25.0);
    }

    @Test
    void openRejectsEveryCallUntilTheWaitHasPassed() {
        ClusterCircuitBreaker breaker = opened();

        assertThat(breaker.tryAcquire()).isFalse();
        clock.advance(WAIT.minusMillis(1));
        assertThat(breaker.tryAcquire()).isFalse();
        assertThat(breaker.state()).isEqualTo("open");
        assertThat(breaker.notPermittedCount()).isEqualTo(2);
    }

    @Test
    void theFirstTryAcquireAfterWaitInOpenGoesHalfOpen() {
        ClusterCircuitBreaker breaker = opened();
        clock.advance(WAIT.plusMillis(1));

        assertThat(breaker.state()).as("no thread moves it by itself").isEqualTo("open");
        assertThat(breaker.tryAcquire()).isTrue();

        assertThat(breaker.state()).isEqualTo("half_open");
        assertThat(transitions).extracting(ClusterCircuitBreakerTest::fromTo).containsExactly("closed->open", "open->half_open");
    }

    @Test
    void anUpstreamBackInServiceMovesAnOpenBreakerToHalfOpenWithoutWaiting() {
        ClusterCircuitBreaker breaker = opened();
        clock.advance(Duration.ofMillis(300)); // long before wait-in-open

        breaker.onUpstreamRecovered();

        assertThat(breaker.state()).isEqualTo("half_open");
        assertThat(transitions.get(1).reason()).isEqualTo("upstream_recovered");
        assertThat(breaker.tryAcquire()).as("a trial call").isTrue();
        assertThat(breaker.tryAcquire()).as("the second of two").isTrue();
        assertThat(breaker.tryAcquire()).as("no more than half-open-calls").isFalse();
        breaker.onFailure(FAST);
        breaker.onFailure(FAST);
        assertThat(breaker.state()).as("a false recovery reopens it").isEqualTo("open");

        breaker.onUpstreamRecovered();
        breaker.onUpstreamRecovered(); // twice: the second finds it half-open already
        assertThat(breaker.state()).isEqualTo("half_open");
        ClusterCircuitBreaker closed = breaker(config(true));
        closed.onUpstreamRecovered();
        assertThat(closed.state()).as("a closed breaker stays closed").isEqualTo("closed");
    }

    @Test
    void halfOpenAllowsOnlyTheTrialCallsAndAReleasedPermissionComesBack() {
        ClusterCircuitBreaker breaker = opened();
        clock.advance(WAIT.plusMillis(1));

        assertThat(breaker.tryAcquire()).isTrue();
        assertThat(breaker.tryAcquire()).isTrue();
        assertThat(breaker.tryAcquire()).isFalse();

        breaker.releasePermission();
        assertThat(breaker.tryAcquire()).isTrue();
        assertThat(breaker.state()).isEqualTo("half_open");
    }

    @Test
    void successfulTrialCallsCloseTheBreaker() {
        ClusterCircuitBreaker breaker = opened();
        clock.advance(WAIT.plusMillis(1));

        call(breaker, false, FAST);
        assertThat(breaker.state()).isEqualTo("half_open");
        call(breaker, false, FAST);

        assertThat(breaker.state()).isEqualTo("closed");
        assertThat(transitions).extracting(ClusterCircuitBreakerTest::fromTo)
                .containsExactly("closed->open", "open->half_open", "half_open->closed");
        assertThat(transitions).extracting(Transition::reason)
                .containsExactly("failure_rate", "wait_in_open_elapsed", "half_open_calls_succeeded");
        assertThat(breaker.tryAcquire()).isTrue();
    }

    @Test
    void failingTrialCallsOpenTheBreakerAgain() {
        ClusterCircuitBreaker breaker = opened();
        clock.advance(WAIT.plusMillis(1));

        call(breaker, false, FAST);
        call(breaker, true, FAST);

        assertThat(breaker.state()).isEqualTo("open");
        assertThat(transitions).extracting(ClusterCircuitBreakerTest::fromTo)
                .containsExactly("closed->open", "open->half_open", "half_open->open");
        assertThat(transitions.get(2).reason()).isEqualTo("half_open_calls_failed");
        assertThat(breaker.tryAcquire()).isFalse();
        clock.advance(WAIT.plusMillis(1));
        assertThat(breaker.tryAcquire()).as("a fresh wait in open").isTrue();
    }

    @Test
    void slowCallsOpenTheBreakerEvenWhenTheySucceed() {
        ClusterCircuitBreaker breaker = breaker(config(true));
        for (int i = 0; i < 4; i++) {
            call(breaker, false, SLOW);
        }

        assertThat(breaker.state()).isEqualTo("open");
        assertThat(breaker.failureRate()).hasValue(0.0);
        assertThat(breaker.slowCallRate()).hasValue(100.0);
        assertThat(transitions).singleElement().extracting(Transition::reason).isEqualTo("slow_call_rate");
    }

    @Test
    void fiveHundredsAndLocalFailuresAreFailuresOtherResponsesAreNot() {
        ClusterCircuitBreaker breaker = breaker(config(true));
        breaker.tryAcquire();
        breaker.onResponse(404, FAST);
        breaker.tryAcquire();
        breaker.onResponse(200, FAST);
        breaker.tryAcquire();
        breaker.onResponse(503, FAST);
        breaker.tryAcquire();
        breaker.onLocalFailure(FAST);

        assertThat(breaker.failureRate()).hasValue(50.0);
        assertThat(ClusterCircuitBreaker.isFailure(500)).isTrue();
        assertThat(ClusterCircuitBreaker.isFailure(499)).isFalse();
    }

    /** The default shape: a 10 s time window, 20 calls minimum, 50% failures. */
    private static CircuitBreakerConfig timeWindow() {
        return new CircuitBreakerConfig(true, 50, Duration.ofSeconds(5), 100, CircuitBreakerConfig.WindowType.TIME,
                Duration.ofSeconds(10), 100, 20, WAIT, 5);
    }

    @Test
    void aBurstOfFailuresInAFewMillisecondsDoesNotDecideATimeWindow() {
        ClusterCircuitBreaker breaker = breaker(timeWindow());
        // 200 successful requests spread over the last 10 seconds...
        for (int i = 0; i < 200; i++) {
            call(breaker, false, FAST);
            clock.advance(Duration.ofMillis(49));
        }
        // ...then 150 failures within 5 ms: a count window of 100 would hold nothing else (100% failed).
        for (int i = 0; i < 150; i++) {
            call(breaker, true, FAST);
            if (i % 30 == 0) {
                clock.advance(Duration.ofMillis(1));
            }
        }

        assertThat(breaker.state()).isEqualTo("closed");
        assertThat(breaker.failureRate().orElseThrow()).isLessThan(50.0);
        assertThat(transitions).isEmpty();
    }

    @Test
    void aTimeWindowOpensOnTheFailuresOfItsDurationAndForgetsOlderOnes() {
        ClusterCircuitBreaker breaker = breaker(timeWindow());
        for (int i = 0; i < 20; i++) {
            call(breaker, true, FAST); // minimum-calls failures at once open it
        }
        assertThat(breaker.state()).isEqualTo("open");

        ClusterCircuitBreaker later = breaker(timeWindow());
        for (int i = 0; i < 15; i++) {
            call(later, true, FAST);
        }
        clock.advance(Duration.ofSeconds(11)); // those 15 failures leave the window
        for (int i = 0; i < 15; i++) {
            call(later, true, FAST);
        }
        assertThat(later.state()).as("15 calls in the window are below minimum-calls").isEqualTo("closed");
        for (int i = 0; i < 5; i++) {
            call(later, true, FAST);
        }
        assertThat(later.state()).isEqualTo("open");
        Transition opened = transitions.get(transitions.size() - 1);
        assertThat(opened.calls()).isEqualTo(20);
        assertThat(opened.failedCalls()).isEqualTo(20);
    }

    @Test
    void anOpeningSaysHowManyUpstreamsWereStillEligible() {
        ClusterCircuitBreaker breaker = breaker(config(true));
        breaker.watchEligible(() -> 2);
        call(breaker, true, FAST);
        call(breaker, true, FAST);
        call(breaker, true, FAST);
        call(breaker, true, FAST);

        Transition opened = transitions.get(0);
        assertThat(opened.to()).isEqualTo("open");
        assertThat(opened.eligibleUpstreams()).isEqualTo(2);
        assertThat(opened.openedWithEligibleUpstreams()).isTrue();
        assertThat(opened.toOpenWithEligibleEvent().type()).isEqualTo("circuit_open_with_eligible_upstreams");
        assertThat(opened.toOpenWithEligibleEvent().detail()).containsEntry("failed_calls", 4)
                .containsEntry("eligible_upstreams", 2);
    }

    @Test
    void aDisabledBreakerAlwaysPermitsAndNeverOpens() {
        ClusterCircuitBreaker breaker = breaker(config(false));
        for (int i = 0; i < 100; i++) {
            call(breaker, true, SLOW);
        }

        assertThat(breaker.enabled()).isFalse();
        assertThat(breaker.state()).isEqualTo("closed");
        assertThat(breaker.failureRate()).isEmpty();
        assertThat(breaker.tryAcquire()).isTrue();
        assertThat(transitions).isEmpty();
    }

    @Test
    void reloadingTheSameConfigKeepsTheSameBreaker() {
        ClusterCircuitBreaker breaker = opened();
        assertThat(breaker.reconfigured(config(true))).isSameAs(breaker);
    }

    @Test
    void reloadingAChangedConfigCarriesTheOpenStateAndTheListeners() {
        ClusterCircuitBreaker breaker = opened();
        CircuitBreakerConfig changed = new CircuitBreakerConfig(true, 60, Duration.ofSeconds(5), 100,
                CircuitBreakerConfig.WindowType.COUNT, Duration.ofSeconds(10), 10, 4, WAIT, 3);

        ClusterCircuitBreaker next = breaker.reconfigured(changed);

        assertThat(next).isNotSameAs(breaker);
        assertThat(next.state()).isEqualTo("open");
        assertThat(transitions).as("carrying the state over is not a transition").hasSize(1);
        clock.advance(WAIT.plusMillis(1));
        assertThat(next.tryAcquire()).isTrue();
        assertThat(transitions).extracting(ClusterCircuitBreakerTest::fromTo).endsWith("open->half_open");
    }

    @Test
    void reloadingADisabledBreakerStartsClosed() {
        ClusterCircuitBreaker disabled = breaker(config(false));
        ClusterCircuitBreaker enabled = disabled.reconfigured(config(true));

        assertThat(enabled.enabled()).isTrue();
        assertThat(enabled.state()).isEqualTo("closed");
    }
}
