package io.bulwark.routing.outlier;

import io.bulwark.config.OutlierDetectionConfig.LatencyConfig;
import io.bulwark.routing.FailureKind;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.bulwark.routing.outlier.OutlierFixture.answer;
import static io.bulwark.routing.outlier.OutlierFixture.fail;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The latency detector ({@code outlier-detection.latency}), run every second by hand on the manual
 * clock: p90 time to response head over the window, above the threshold and above factor x the median
 * host's p90, with minimum request volume and minimum hosts, within max-ejection-percent.
 */
class LatencyDetectorTest {

    private static final Duration FAST = Duration.ofMillis(10);
    private static final Duration SLOW = Duration.ofMillis(900);

    private final OutlierFixture f = new OutlierFixture();

    /** The contract's example: threshold 500ms, factor 3, window 5s, request-volume 20, minimum-hosts 3. */
    private void contractLatency() {
        f.latency = new LatencyConfig(Duration.ofMillis(500), 3, Duration.ofSeconds(5), 20, 3);
    }

    /** One second passes and the detector runs, as the cluster's maintenance does. */
    private void second() {
        f.clock.advance(Duration.ofSeconds(1));
        f.cluster.checkLatency();
    }

    /** {@code times} tries on {@code u} cancelled at {@code age} because their hedges to other hosts won. */
    private static void cancelled(Upstream u, Duration age, int times) {
        for (int i = 0; i < times; i++) {
            u.onRequestStart();
            u.onCancelled(age.toNanos());
            u.onRequestEnd();
        }
    }

    private StateEvent onlyEjection() {
        assertThat(f.events("ejected")).hasSize(1);
        return f.events("ejected").get(0);
    }

    @Test
    void ejectsTheHostWhoseP90IsAboveTheThresholdAndFactorTimesTheMedian() {
        contractLatency();
        f.build();
        Upstream slow = f.host(3);

        answer(f.host(1), FAST, 10);
        answer(f.host(2), FAST, 10);
        answer(slow, SLOW, 10);
        second();
        assertThat(slow.outlier()).as("10 tries: below request-volume").isEmpty();

        answer(f.host(1), FAST, 10);
        answer(f.host(2), FAST, 10);
        answer(slow, SLOW, 10);
        second();

        assertThat(slow.outlier()).hasValueSatisfying(s -> assertThat(s.reason()).isEqualTo("latency"));
        assertThat(f.host(1).outlier()).isEmpty();
        assertThat(f.host(2).outlier()).isEmpty();
        assertThat(onlyEjection()).satisfies(e -> {
            assertThat(e.reason()).isEqualTo("latency");
            assertThat(e.upstream()).isEqualTo(slow.address());
            assertThat((double) e.detail().get("p90_ms")).isCloseTo(900, within(900 / 16.0));
            assertThat((double) e.detail().get("median_p90_ms")).isCloseTo(10, within(10 / 16.0));
            assertThat(e.detail()).containsEntry("threshold_ms", 500L).containsEntry("factor", 3.0)
                    .containsEntry("requests", 20L).containsEntry("request_volume", 20)
                    .containsEntry("minimum_hosts", 3).containsEntry("hosts_evaluated", 3)
                    .containsEntry("window_ms", 5_000L).containsEntry("ejection_time_ms", 30_000L);
        });
    }

    @Test
    void itIsTheP90ThatCounts() {
        contractLatency();
        f.build();
        Upstream mostlyFast = f.host(3);
        answer(f.host(1), FAST, 30);
        answer(f.host(2), FAST, 30);
        answer(mostlyFast, FAST, 27);
        answer(mostlyFast, SLOW, 3); // 10% slow: the p90 is still fast
        second();
        assertThat(mostlyFast.outlier()).isEmpty();

        answer(mostlyFast, SLOW, 5); // now 8 of 35 are slow
        second();

        assertThat(mostlyFast.outlier()).isPresent();
    }

    @Test
    void aHostSlowerThanFactorTimesTheMedianButUnderTheThresholdStays() {
        contractLatency();
        f.build();
        answer(f.host(1), FAST, 20);
        answer(f.host(2), FAST, 20);
        answer(f.host(3), Duration.ofMillis(400), 20);

        second();

        assertThat(f.events("ejected")).isEmpty();
    }

    @Test
    void aHostOverTheThresholdButNotFactorTimesTheMedianStays() {
        contractLatency();
        f.build();
        answer(f.host(1), Duration.ofMillis(600), 20);
        answer(f.host(2), Duration.ofMillis(600), 20);
        answer(f.host(3), SLOW, 20); // over 500ms, but under 3 x 600ms: everyone is slow

        second();

        assertThat(f.events("ejected")).isEmpty();
    }

    @Test
    void needsMinimumHostsWithEnoughTraffic() {
        f.latency = new LatencyConfig(Duration.ofMillis(500), 3, Duration.ofSeconds(5), 20, 4);
        f.hosts = 4;
        f.build();
        answer(f.host(1), FAST, 20);
        answer(f.host(2), FAST, 20);
        answer(f.host(3), SLOW, 20); // host 4 idle: three hosts qualify, minimum-hosts is 4

        second();
        assertThat(f.events("ejected")).isEmpty();

        answer(f.host(4), FAST, 20);
        second();

        assertThat(f.host(3).outlier()).isPresent();
    }

    @Test
    void aHostBelowRequestVolumeTakesNoPartUntilItHasEnoughTriesInTheWindow() {
        contractLatency();
        f.hosts = 4;
        f.build();
        Upstream slow = f.host(4);
        for (int s = 0; s < 3; s++) {
            answer(f.host(1), FAST, 20);
            answer(f.host(2), FAST, 20);
            answer(f.host(3), FAST, 20);
            answer(slow, SLOW, 6); // 6, 12, 18 in the window
            second();
            assertThat(slow.outlier()).isEmpty();
        }

        answer(slow, SLOW, 2);
        second();

        assertThat(slow.outlier()).isPresent();
        assertThat(onlyEjection().detail()).containsEntry("requests", 20L).containsEntry("hosts_evaluated", 4);
    }

    @Test
    void triesOlderThanTheWindowNoLongerCount() {
        contractLatency();
        f.hosts = 4;
        f.build();
        Upstream slow = f.host(4);
        answer(slow, SLOW, 15);
        for (int s = 0; s < 5; s++) {
            answer(f.host(1), FAST, 20);
            answer(f.host(2), FAST, 20);
            answer(f.host(3), FAST, 20);
            second();
        }
        // The 15 slow tries are now 5 s old: they have left the window, so 5 more are not 20.
        answer(slow, SLOW, 5);
        second();

        assertThat(slow.outlier()).isEmpty();
    }

    @Test
    void maxEjectionPercentStopsTheRoundAfterTheSlowestHost() {
        contractLatency();
        f.hosts = 6;
        f.maxEjectionPercent = 10;
        f.build();
        for (int i = 1; i <= 4; i++) {
            answer(f.host(i), FAST, 20);
        }
        answer(f.host(5), Duration.ofMillis(700), 20);
        answer(f.host(6), Duration.ofSeconds(2), 20);

        second();

        assertThat(onlyEjection().upstream()).isEqualTo(f.host(6).address());
        assertThat(f.host(5).outlier()).isEmpty();
        assertThat(f.detector().ejectionsSkipped()).isEqualTo(1);
    }

    @Test
    void anEjectedHostTakesNoPartAndComesBackWithAnEmptyWindow() {
        contractLatency();
        f.build();
        Upstream slow = f.host(3);
        answer(f.host(1), FAST, 20);
        answer(f.host(2), FAST, 20);
        answer(slow, SLOW, 20);
        second();
        assertThat(slow.outlier()).isPresent();
        answer(slow, SLOW, 20); // panic traffic, say, while ejected

        f.detector().uneject(slow);
        answer(f.host(1), FAST, 20);
        answer(f.host(2), FAST, 20);
        answer(slow, SLOW, 5);
        second();

        assertThat(slow.outlier()).as("the 40 old slow tries are forgotten").isEmpty();
    }

    @Test
    void aTryCancelledBecauseItsHedgeWonCountsAsLatencyAndNeverAsAFailure() {
        contractLatency();
        f.consecutiveGatewayFailure = 1;
        f.consecutive5xx = 1;
        f.build();
        Upstream blackHole = f.host(3);
        answer(f.host(1), FAST, 20);
        answer(f.host(2), FAST, 20);
        cancelled(blackHole, SLOW, 20);
        assertThat(blackHole.failures()).isZero();
        assertThat(blackHole.outlier()).as("not a failure: a one-failure threshold did not trip").isEmpty();
        assertThat(blackHole.recovery().timeline().lastFailure()).isEmpty();

        second();

        assertThat(blackHole.outlier()).hasValueSatisfying(s -> assertThat(s.reason()).isEqualTo("latency"));
    }

    @Test
    void aBlackHoleBehindHedgingIsFoundWithAThresholdAtTheHedgeDelay() {
        // hedge delay 50 ms: every try to the black hole is cancelled when the hedge answers, at ~60 ms
        f.latency = new LatencyConfig(Duration.ofMillis(50), 3, Duration.ofSeconds(5), 20, 3);
        f.build();
        Upstream blackHole = f.host(3);
        for (int s = 0; s < 2; s++) {
            answer(f.host(1), FAST, 12);
            answer(f.host(2), FAST, 12);
            cancelled(blackHole, Duration.ofMillis(60), 10);
            second();
        }

        assertThat(blackHole.outlier()).isPresent();
        assertThat(onlyEjection().reason()).isEqualTo("latency");
    }

    @Test
    void aTimedOutTryIsAGatewayFailureAndALatencyOfAtLeastItsAge() {
        contractLatency();
        f.consecutiveGatewayFailure = 1_000; // so only the latency detector can eject
        f.consecutive5xx = 1_000;
        f.build();
        Upstream hung = f.host(3);
        answer(f.host(1), FAST, 20);
        answer(f.host(2), FAST, 20);
        for (int i = 0; i < 20; i++) {
            hung.onRequestStart();
            hung.onLocalFailure(FailureKind.TIMEOUT, Duration.ofSeconds(1).toNanos()); // per-try timeout
            hung.onRequestEnd();
        }
        assertThat(hung.failures()).isEqualTo(20);

        second();

        assertThat(hung.outlier()).hasValueSatisfying(s -> assertThat(s.reason()).isEqualTo("latency"));
    }

    @Test
    void fastFailuresAreNotLatencies() {
        contractLatency();
        f.consecutiveGatewayFailure = 1_000;
        f.consecutive5xx = 1_000;
        f.build();
        answer(f.host(1), FAST, 20);
        answer(f.host(2), FAST, 20);
        answer(f.host(3), SLOW, 15);
        for (int i = 0; i < 20; i++) {
            fail(f.host(3), FailureKind.CONNECT_FAILURE); // 1 ms each, but not a time to response head
        }

        second();

        assertThat(f.host(3).outlier()).as("15 timed tries are below request-volume").isEmpty();
    }

    @Test
    void offWithoutALatencyBlock() {
        f.build();
        answer(f.host(1), FAST, 50);
        answer(f.host(2), FAST, 50);
        answer(f.host(3), Duration.ofSeconds(5), 50);

        second();

        assertThat(f.events("ejected")).isEmpty();
    }
}
