package io.bulwark.routing;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class UpstreamTest {

    private final ManualClock clock = new ManualClock();
    private final AtomicInteger stateChanges = new AtomicInteger();
    private final Upstream upstream = new Upstream("users", "10.0.0.1:8080",
            InetSocketAddress.createUnresolved("10.0.0.1", 8080), 1, clock, stateChanges::incrementAndGet);

    @Test
    void drainingAnIdleUpstreamLeavesItDrainedAtOnce() {
        upstream.setAdmin(Upstream.AdminState.DRAINING);

        assertThat(upstream.admin()).isEqualTo(Upstream.AdminState.DRAINED);
        assertThat(upstream.reasons()).containsExactly("drained");
        assertThat(stateChanges).hasValue(1);
    }

    @Test
    void drainingABusyUpstreamCompletesWhenTheLastRequestEnds() {
        upstream.onRequestStart();
        upstream.onRequestStart();
        upstream.setAdmin(Upstream.AdminState.DRAINING);
        assertThat(upstream.admin()).isEqualTo(Upstream.AdminState.DRAINING);

        upstream.onRequestEnd();
        assertThat(upstream.admin()).isEqualTo(Upstream.AdminState.DRAINING);

        upstream.onRequestEnd();
        assertThat(upstream.admin()).isEqualTo(Upstream.AdminState.DRAINED);
        assertThat(stateChanges).hasValue(2);
    }

    @Test
    void theLastRequestEndingPublishesDrainingToDrained() {
        java.util.List<StateEvent> events = new java.util.ArrayList<>();
        upstream.setEventSink(events::add);
        upstream.onRequestStart();
        upstream.onRequestStart();
        upstream.setAdmin(Upstream.AdminState.DRAINING);

        upstream.onRequestEnd();
        assertThat(events).isEmpty();
        clock.advance(Duration.ofSeconds(3));
        upstream.onRequestEnd();

        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.type()).isEqualTo("drained");
            assertThat(e.cluster()).isEqualTo("users");
            assertThat(e.upstream()).isEqualTo("10.0.0.1:8080");
            assertThat(e.from()).isEqualTo("draining");
            assertThat(e.to()).isEqualTo("drained");
            assertThat(e.reason()).isEqualTo("in_flight_finished");
            assertThat(e.timeMillis()).isEqualTo(clock.currentTimeMillis());
        });
    }

    @Test
    void restoreDuringADrainIsNotUndoneByTheLastRequestEnding() {
        upstream.onRequestStart();
        upstream.setAdmin(Upstream.AdminState.DRAINING);
        upstream.setAdmin(Upstream.AdminState.ACTIVE);

        upstream.onRequestEnd();

        assertThat(upstream.admin()).isEqualTo(Upstream.AdminState.ACTIVE);
        assertThat(upstream.eligible()).isTrue();
    }

    @Test
    void eligibleAgreesWithReasonsForEveryFlagCombination() {
        for (Upstream.AdminState admin : Upstream.AdminState.values()) {
            for (Upstream.Health health : Upstream.Health.values()) {
                for (Upstream.HealthOverride override : Upstream.HealthOverride.values()) {
                    for (int weight : new int[] {0, 1}) {
                        Upstream u = new Upstream("c", "a:1", InetSocketAddress.createUnresolved("a", 1), 1, clock, () -> { });
                        u.onRequestStart(); // keep DRAINING from completing at once
                        u.setAdmin(admin);
                        u.setHealth(health);
                        u.setOverride(override);
                        u.setWeight(weight);
                        assertThat(u.eligible()).as("%s %s %s %d", admin, health, override, weight)
                                .isEqualTo(u.reasons().isEmpty());
                    }
                }
            }
        }
    }

    @Test
    void decayedLatencyEstimateFallsWithTimeSinceTheLastResponse() {
        assertThat(upstream.decayedEwmaLatencyNanos()).isZero();

        upstream.onResponse(200, 100_000_000L);
        assertThat(upstream.decayedEwmaLatencyNanos()).isEqualTo(100_000_000.0);

        clock.advance(Duration.ofSeconds(10)); // one decay time constant
        assertThat(upstream.decayedEwmaLatencyNanos()).isCloseTo(100_000_000.0 / Math.E, within(1.0));
        assertThat(upstream.ewmaLatencyNanos()).isEqualTo(100_000_000.0);
    }

    @Test
    void aCancelledTryFeedsOnlyTheLatencyOfTheDetectorNeverCountsOrFailures() {
        java.util.List<String> heard = new java.util.ArrayList<>();
        upstream.setOutcomeListener(new OutcomeListener() {
            @Override
            public void onResponse(int status) {
                heard.add("response " + status);
            }

            @Override
            public void onLocalFailure(FailureKind kind) {
                heard.add("failure " + kind.tag());
            }

            @Override
            public void onLatency(long latencyNanos) {
                heard.add("latency " + latencyNanos);
            }
        });

        upstream.onRequestStart();
        upstream.onCancelled(70_000_000L);
        upstream.onRequestEnd();
        upstream.onLocalFailure(FailureKind.TIMEOUT, 1_000L);
        upstream.onLocalFailure(FailureKind.CONNECT_FAILURE, 2_000L);
        upstream.onResponse(200, 3_000L);

        assertThat(heard).containsExactly("latency 70000000", "latency 1000", "failure timeout",
                "failure connect_failure", "latency 3000", "response 200");
        assertThat(upstream.failures()).as("only the timeout and the connect failure").isEqualTo(2);
        assertThat(upstream.requests()).isEqualTo(1);
        assertThat(upstream.activeRequests()).isZero();
    }
}
