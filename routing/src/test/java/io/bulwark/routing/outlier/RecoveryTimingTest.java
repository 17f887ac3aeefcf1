package io.bulwark.routing.outlier;

import io.bulwark.config.HealthCheckConfig;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.health.HealthCheckState;
import io.bulwark.routing.health.ProbeResult;
import io.bulwark.routing.recovery.RecoveryTimeline;
import io.bulwark.routing.recovery.RecoveryTracker;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static io.bulwark.routing.outlier.OutlierFixture.respond;
import static org.assertj.core.api.Assertions.assertThat;

class RecoveryTimingTest {

    private final OutlierFixture f = new OutlierFixture();

    private void advance(long seconds) {
        f.clock.advance(Duration.ofSeconds(seconds));
    }

    private static final ProbeResult PASS = ProbeResult.response(200);
    private static final ProbeResult FAIL = ProbeResult.response(503);

    /** {@code u}'s active checks, wired to the detector as the proxy wires them; two to fall, {@code rise} to rise. */
    private HealthCheckState checks(Upstream u, int rise) {
        HealthCheckConfig config = new HealthCheckConfig("/health", Duration.ofSeconds(1), Duration.ofSeconds(1), 2, rise);
        return new HealthCheckState(u, config, f.clock, f.events::add, f.detector().healthCheckListener());
    }

    @Test
    void timesDetectionOutageAndRecoveryIncludingTheSlowStartRamp() {
        f.slowStart = Duration.ofSeconds(20);
        f.build();
        Upstream u = f.host(1);
        long t0 = f.clock.currentTimeMillis();

        respond(u, 500, 1); // first failure at t0
        for (int i = 0; i < 4; i++) {
            advance(1);
            respond(u, 500, 1); // ...the fifth, at t0 + 4s, ejects
        }
        RecoveryTimeline out = u.recovery().timeline();
        assertThat(out.lastFailure()).contains(Instant.ofEpochMilli(t0 + 4_000));
        assertThat(out.current()).hasValueSatisfying(e -> {
            assertThat(e.firstFailure()).isEqualTo(Instant.ofEpochMilli(t0));
            assertThat(e.takenOut()).isEqualTo(Instant.ofEpochMilli(t0 + 4_000));
            assertThat(e.reason()).isEqualTo("consecutive_5xx");
            assertThat(e.timeToDetectMs()).isEqualTo(4_000);
            assertThat(e.timeOutMs()).isEmpty();
        });

        advance(30);
        f.cluster.tick(); // readmitted at t0 + 34s, ramping until t0 + 54s
        RecoveryTimeline ramping = u.recovery().timeline();
        assertThat(ramping.current()).hasValueSatisfying(e -> {
            assertThat(e.timeOutMs()).hasValue(30_000);
            assertThat(e.timeToRecoverMs()).isEmpty();
        });
        assertThat(ramping.history()).isEmpty();

        advance(10);
        f.cluster.tick();
        assertThat(f.events("recovered")).isEmpty();
        advance(10);
        f.cluster.tick();

        RecoveryTimeline done = u.recovery().timeline();
        assertThat(done.current()).isEmpty();
        assertThat(done.history()).singleElement().satisfies(e -> {
            assertThat(e.timeToDetectMs()).isEqualTo(4_000);
            assertThat(e.timeOutMs()).hasValue(30_000);
            assertThat(e.timeToRecoverMs()).hasValue(50_000);
            assertThat(e.fullWeight()).contains(Instant.ofEpochMilli(t0 + 54_000));
        });
        assertThat(done.timeToDetectMs()).hasValue(4_000);
        assertThat(done.timeToRecoverMs()).hasValue(50_000);
        assertThat(f.events("recovered")).singleElement().satisfies(e -> {
            // Stamped when published (the log stays in time order); the full-share moment is in the detail.
            assertThat(e.timeMillis()).isGreaterThanOrEqualTo(t0 + 54_000);
            assertThat(e.detail()).containsEntry("full_share_at", Instant.ofEpochMilli(t0 + 54_000).toString());
            assertThat(e.detail()).containsEntry("time_to_detect_ms", 4_000L).containsEntry("time_to_recover_ms", 50_000L);
        });
    }

    @Test
    void aHealthCheckFlipIsTakingOutToo() {
        f.build();
        Upstream u = f.host(2);
        long t0 = f.clock.currentTimeMillis();

        HealthCheckState checks = checks(u, 2);
        checks.onResult(FAIL);
        advance(5);
        checks.onResult(FAIL); // unhealthy: taken out
        advance(11);
        checks.onResult(PASS);
        advance(1);
        checks.onResult(PASS); // healthy again
        f.cluster.tick();

        assertThat(u.recovery().timeline().history()).singleElement().satisfies(e -> {
            assertThat(e.firstFailure()).isEqualTo(Instant.ofEpochMilli(t0));
            assertThat(e.reason()).isEqualTo("health_check_failed");
            assertThat(e.timeToDetectMs()).isEqualTo(5_000);
            assertThat(e.timeOutMs()).hasValue(12_000);
            assertThat(e.timeToRecoverMs()).hasValue(12_000); // no slow start
            assertThat(e.timeToReadmitMs()).hasValue(1_000);
        });
    }

    @Test
    void anOldFailureAnsweredBySuccessesIsNotTheEpisodesFirstFailure() {
        f.build();
        Upstream u = f.host(1);
        respond(u, 500, 1); // a blip, say at start-up
        advance(2);
        respond(u, 200, 3); // answered by successes within the same interval
        advance(3);
        long start = f.clock.currentTimeMillis();

        respond(u, 500, 5); // the run of failures that ejects it

        assertThat(u.recovery().timeline().current()).hasValueSatisfying(e -> {
            assertThat(e.firstFailure()).isEqualTo(Instant.ofEpochMilli(start));
            assertThat(e.timeToDetectMs()).isZero();
        });
    }

    @Test
    void anOldBlipIsForgottenAfterAQuietInterval() {
        f.build();
        Upstream u = f.host(1);
        respond(u, 500, 1);
        advance(10);
        f.cluster.tick(); // the interval had the failure
        advance(10);
        f.cluster.tick(); // a quiet one: the blip is forgotten
        advance(5);
        long start = f.clock.currentTimeMillis();

        respond(u, 500, 5);

        assertThat(u.recovery().timeline().current()).hasValueSatisfying(e -> {
            assertThat(e.firstFailure()).isEqualTo(Instant.ofEpochMilli(start));
            assertThat(e.timeToDetectMs()).isZero();
        });
    }

    @Test
    void takenOutAgainWhileRampingIsStillTheSameEpisode() {
        f.slowStart = Duration.ofSeconds(20);
        f.build();
        Upstream u = f.host(1);
        respond(u, 500, 5);
        advance(30);
        f.cluster.tick(); // back, ramping
        advance(5);
        u.setHealth(Upstream.Health.UNHEALTHY);
        advance(5);
        u.setHealth(Upstream.Health.HEALTHY); // back again at +40s, ramp until +60s
        advance(20);
        f.cluster.tick();

        assertThat(u.recovery().timeline().history()).singleElement().satisfies(e -> {
            assertThat(e.reason()).isEqualTo("consecutive_5xx");
            assertThat(e.timeOutMs()).hasValue(40_000);
            assertThat(e.timeToRecoverMs()).hasValue(60_000);
        });
    }

    @Test
    void timeToReadmitRunsFromTheFirstPassingCheckAfterTheLastFailedOneAndFullShareFromBack() {
        f.slowStart = Duration.ofSeconds(10);
        f.build();
        Upstream u = f.host(1);
        long t0 = f.clock.currentTimeMillis();
        HealthCheckState checks = checks(u, 2);
        respond(u, 500, 5); // ejected at t0 for 30s (readmit = timer)
        checks.onResult(PASS); // a pass at once...
        advance(2);
        checks.onResult(FAIL); // ...that a failed check makes void
        advance(4);
        checks.onResult(PASS); // t0 + 6s: where time to readmit starts
        advance(1);
        checks.onResult(PASS);
        assertThat(u.recovery().timeline().current()).hasValueSatisfying(e -> {
            assertThat(e.firstPassingCheck()).contains(Instant.ofEpochMilli(t0 + 6_000));
            assertThat(e.timeToReadmitMs()).isEmpty(); // not back yet
        });

        advance(23);
        f.cluster.tick(); // back at t0 + 30s, full share at t0 + 40s
        assertThat(u.recovery().timeline().current()).hasValueSatisfying(e -> {
            assertThat(e.timeToReadmitMs()).hasValue(24_000);
            assertThat(e.timeToFullShareMs()).isEmpty(); // still ramping
        });
        advance(10);
        f.cluster.tick();

        RecoveryTimeline done = u.recovery().timeline();
        assertThat(done.history()).singleElement().satisfies(e -> {
            assertThat(e.timeToReadmitMs()).hasValue(24_000);
            assertThat(e.timeToFullShareMs()).hasValue(10_000);
            assertThat(e.timeToRecoverMs()).hasValue(40_000);
        });
        assertThat(done.timeToReadmitMs()).hasValue(24_000);
        assertThat(done.timeToFullShareMs()).hasValue(10_000);
        assertThat(f.events("recovered")).singleElement().satisfies(e -> assertThat(e.detail())
                .containsEntry("time_to_readmit_ms", 24_000L).containsEntry("time_to_full_share_ms", 10_000L));
    }

    @Test
    void withoutPassingChecksThereIsNoTimeToReadmitAndNoRampMeansFullShareAtOnce() {
        f.build();
        Upstream u = f.host(1);
        respond(u, 500, 5);
        advance(30);
        f.cluster.tick();

        assertThat(u.recovery().timeline().history()).singleElement().satisfies(e -> {
            assertThat(e.firstPassingCheck()).isEmpty();
            assertThat(e.timeToReadmitMs()).isEmpty();
            assertThat(e.timeToFullShareMs()).hasValue(0);
        });
    }

    @Test
    void aPassBeforeTheHostIsTakenOutIsNotTheStartOfItsReadmission() {
        f.build();
        Upstream u = f.host(1);
        checks(u, 2).onResult(PASS); // serving: nothing to note
        advance(1);
        respond(u, 500, 5);

        assertThat(u.recovery().timeline().current()).hasValueSatisfying(e ->
                assertThat(e.firstPassingCheck()).isEmpty());
    }

    @Test
    void aPassThatBringsTheHostBackByItselfIsAZeroTimeToReadmit() {
        f.build();
        Upstream u = f.host(1);
        HealthCheckState checks = checks(u, 1);
        checks.onResult(FAIL);
        checks.onResult(FAIL);
        advance(3);

        checks.onResult(PASS); // healthy-threshold 1: this pass is also the flip back

        assertThat(u.recovery().timeline().latest()).hasValueSatisfying(e -> {
            assertThat(e.back()).isPresent(); // and at full weight at once: no slow start
            assertThat(e.timeToReadmitMs()).hasValue(0);
        });
    }

    @Test
    void historyKeepsTheLastTwentyEpisodes() {
        f.build();
        Upstream u = f.host(1);
        for (int i = 0; i < 25; i++) {
            u.setHealth(Upstream.Health.UNHEALTHY);
            advance(1);
            u.setHealth(Upstream.Health.HEALTHY);
            f.cluster.tick();
        }

        assertThat(u.recovery().timeline().history()).hasSize(RecoveryTracker.HISTORY_LIMIT);
        assertThat(f.events("recovered")).hasSize(25);
    }
}
