package io.bulwark.routing.outlier;

import io.bulwark.config.HealthCheckConfig;
import io.bulwark.config.OutlierDetectionConfig.Readmit;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.health.HealthCheckState;
import io.bulwark.routing.health.ManualScheduler;
import io.bulwark.routing.health.ProbeResult;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.bulwark.routing.outlier.OutlierFixture.respond;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code readmit = probe}: an ejected host comes back as soon as {@code healthy-threshold} checks in a
 * row pass that all started after the ejection, and the anti-flap guard makes a host ejected again
 * within {@code readmit-guard} of such a readmission wait out its ejection time first. All on the
 * manual clock and scheduler.
 */
class ProbeReadmissionTest {

    private static final Duration CHECK_INTERVAL = Duration.ofMillis(500);

    private final OutlierFixture f = new OutlierFixture();
    private ManualScheduler timers;

    @BeforeEach
    void probeModeWithChecksEveryHalfSecondTwoToRise() {
        f.readmit = Readmit.PROBE;
        f.healthCheck = new HealthCheckConfig("/health", CHECK_INTERVAL, Duration.ofMillis(200), 2, 2);
        f.slowStart = Duration.ofSeconds(10);
        timers = new ManualScheduler(f.clock);
        f.timers = timers;
        f.build();
    }

    private void advance(Duration d) {
        timers.advance(d);
    }

    /** One check every 500 ms that passes, each started 100 ms before it reports. */
    private void passingChecks(Upstream u, int n) {
        for (int i = 0; i < n; i++) {
            advance(CHECK_INTERVAL);
            f.checkPassed(u, Duration.ofMillis(100));
        }
    }

    private StateEvent lastUneject() {
        var unejected = f.events("unejected");
        return unejected.get(unejected.size() - 1);
    }

    @Test
    void readmittedAfterHealthyThresholdPassesThatStartedAfterTheEjectionLongBeforeItsEjectionTime() {
        Upstream u = f.host(1);
        respond(u, 500, 5);
        long ejectedAt = f.clock.currentTimeMillis();
        assertThat(f.ejectionLeftMillis(u)).isEqualTo(30_000);

        passingChecks(u, 1);
        assertThat(u.outlier()).as("one pass is below healthy-threshold").isPresent();
        passingChecks(u, 1);

        assertThat(u.outlier()).isEmpty();
        assertThat(u.eligible()).isTrue();
        assertThat(f.cluster.hostSet().usable()).contains(u);
        assertThat(lastUneject()).satisfies(e -> {
            assertThat(e.reason()).isEqualTo("health_check_passed");
            assertThat(e.timeMillis()).isEqualTo(ejectedAt + 1_000);
            assertThat(e.detail()).containsEntry("readmitted_by", "probe").containsEntry("passing_checks", 2)
                    .containsEntry("healthy_threshold", 2).containsEntry("readmit_guarded", false)
                    .containsEntry("ejection_time_left_ms", 29_000L);
        });
        assertThat(timers.pending()).as("the deadline's timer is called off").isZero();
    }

    @Test
    void theDetectorAsksForTheNextCheckSoonOnlyWhileAReadmissionIsHalfWay() {
        Upstream u = f.host(1);
        Upstream healthy = f.host(2);
        assertThat(f.detector().probeReadmissionUnderway(u)).as("not ejected").isFalse();
        respond(u, 500, 5);
        assertThat(f.detector().probeReadmissionUnderway(u)).as("ejected, no pass yet").isFalse();

        passingChecks(u, 1);
        assertThat(f.detector().probeReadmissionUnderway(u)).as("one of two passes in").isTrue();
        assertThat(f.detector().healthCheckListener().confirming(u)).isTrue();
        passingChecks(u, 1);
        assertThat(f.detector().probeReadmissionUnderway(u)).as("readmitted").isFalse();
        assertThat(f.detector().probeReadmissionUnderway(healthy)).isFalse();
    }

    @Test
    void aReturningHostRampsUpThroughSlowStart() {
        Upstream u = f.host(1);
        respond(u, 500, 5);
        passingChecks(u, 2);

        assertThat(u.warmingUp()).isTrue();
        assertThat(u.effectiveWeight()).isEqualTo(0.1);
        advance(Duration.ofSeconds(5));
        assertThat(u.effectiveWeight()).isEqualTo(0.5);
    }

    @Test
    void passesThatMayHaveStartedBeforeTheEjectionNeverCount() {
        Upstream u = f.host(1);
        respond(u, 500, 5);

        for (int i = 0; i < 10; i++) {
            advance(CHECK_INTERVAL);
            // each check started right before the ejection: a host that passed /health then says nothing now
            f.checkPassed(u, Duration.ofMillis(500L * (i + 1) + 1));
        }

        assertThat(u.outlier()).isPresent();
        assertThat(f.events("unejected")).isEmpty();
    }

    @Test
    void aPassThatStartedAtTheInstantOfTheEjectionCounts() {
        Upstream u = f.host(1);
        respond(u, 500, 5);
        advance(CHECK_INTERVAL);
        f.checkPassed(u, CHECK_INTERVAL); // started exactly at the ejection
        advance(CHECK_INTERVAL);
        f.checkPassed(u, Duration.ZERO);

        assertThat(u.outlier()).isEmpty();
    }

    @Test
    void aFailedCheckStartsTheCountAgain() {
        Upstream u = f.host(1);
        respond(u, 500, 5);
        passingChecks(u, 1);
        advance(CHECK_INTERVAL);
        f.checkFailed(u);
        passingChecks(u, 1);
        assertThat(u.outlier()).as("passes in a row only").isPresent();

        passingChecks(u, 1);

        assertThat(u.outlier()).isEmpty();
    }

    @Test
    void withNoPassesByTheEjectionTimeItAwaitsThemAndComesBackOnThem() {
        Upstream u = f.host(1);
        respond(u, 500, 5);
        advance(Duration.ofSeconds(30));

        assertThat(u.outlier()).hasValueSatisfying(s -> assertThat(s.awaitingProbe()).isTrue());
        assertThat(u.reasons()).containsExactly("outlier_ejected", "outlier_ejected_awaiting_probe");
        advance(Duration.ofMinutes(5));
        assertThat(u.outlier()).as("probe mode never readmits by the timer alone").isPresent();

        passingChecks(u, 2);

        assertThat(u.outlier()).isEmpty();
    }

    @Test
    void checksDrivenByTheHealthCheckerCountOnlyOnceTheyStartedAfterTheEjection() {
        Upstream u = f.host(1);
        HealthCheckState checks = new HealthCheckState(u, f.healthCheck, f.clock, EventSink.NONE,
                f.detector().healthCheckListener());
        advance(CHECK_INTERVAL);
        checks.onResult(ProbeResult.response(200)); // healthy before the trouble
        advance(Duration.ofMillis(300));
        respond(u, 500, 5); // ejected while the next check may already be under way

        advance(Duration.ofMillis(200));
        checks.onResult(ProbeResult.response(200)); // began after the last result, maybe before the ejection
        advance(CHECK_INTERVAL);
        checks.onResult(ProbeResult.response(200)); // began after a result that came after the ejection
        assertThat(u.outlier()).isPresent();
        advance(CHECK_INTERVAL);
        checks.onResult(ProbeResult.response(200));

        assertThat(u.outlier()).isEmpty();
        assertThat(lastUneject().detail()).containsEntry("passing_checks", 2);
    }

    // ---- the anti-flap guard ----

    /** Ejects {@code u}, readmits it by two passes, and returns when that was (ms). */
    private long ejectAndReadmitByProbe(Upstream u) {
        respond(u, 500, 5);
        passingChecks(u, 2);
        assertThat(u.outlier()).isEmpty();
        return f.clock.currentTimeMillis();
    }

    @Test
    void ejectedAgainWithinTheGuardItWaitsOutItsEjectionTimeBeforeProbesReadmitIt() {
        Upstream u = f.host(1);
        long readmitted = ejectAndReadmitByProbe(u);
        advance(Duration.ofSeconds(5)); // /health passes, real traffic still fails
        respond(u, 500, 5);
        long reejected = f.clock.currentTimeMillis();

        assertThat(u.outlier()).hasValueSatisfying(s -> {
            assertThat(s.readmitGuarded()).isTrue();
            assertThat(s.timesEjected()).isEqualTo(2);
        });
        assertThat(f.ejectionLeftMillis(u)).as("base x times ejected").isEqualTo(60_000);
        assertThat(f.events("ejected").get(1).detail()).containsEntry("readmit_guarded", true)
                .containsEntry("probe_readmitted_ms_ago", reejected - readmitted)
                .containsEntry("readmit_guard_ms", 60_000L);

        passingChecks(u, 20);
        assertThat(u.outlier()).as("passes do not readmit a guarded host early").isPresent();

        advance(Duration.ofMillis(reejected + 60_000 - f.clock.currentTimeMillis()));

        assertThat(u.outlier()).as("back at the deadline: the passes held").isEmpty();
        assertThat(lastUneject()).satisfies(e -> {
            assertThat(e.timeMillis()).isEqualTo(reejected + 60_000);
            assertThat(e.reason()).isEqualTo("health_check_passed");
            assertThat(e.detail()).containsEntry("readmit_guarded", true).containsEntry("ejection_time_left_ms", 0L);
        });
    }

    @Test
    void aGuardedHostWhoseChecksFailAtItsDeadlineWaitsForFreshPasses() {
        Upstream u = f.host(1);
        ejectAndReadmitByProbe(u);
        advance(Duration.ofSeconds(5));
        respond(u, 500, 5);
        passingChecks(u, 3);
        advance(Duration.ofSeconds(50));
        f.checkFailed(u);

        advance(Duration.ofSeconds(10)); // the deadline
        assertThat(u.outlier()).hasValueSatisfying(s -> assertThat(s.awaitingProbe()).isTrue());

        passingChecks(u, 2);
        assertThat(u.outlier()).isEmpty();
    }

    @Test
    void ejectedAgainAfterTheGuardWindowProbesAreFastAgain() {
        Upstream u = f.host(1);
        ejectAndReadmitByProbe(u);
        advance(Duration.ofSeconds(61));
        respond(u, 500, 5);

        assertThat(u.outlier()).hasValueSatisfying(s -> assertThat(s.readmitGuarded()).isFalse());
        assertThat(f.events("ejected").get(1).detail()).containsEntry("readmit_guarded", false);
        passingChecks(u, 2);

        assertThat(u.outlier()).isEmpty();
        assertThat((Long) lastUneject().detail().get("ejection_time_left_ms")).isEqualTo(59_000L);
    }

    @Test
    void anOperatorUnejectClearsTheGuard() {
        Upstream u = f.host(1);
        ejectAndReadmitByProbe(u);
        advance(Duration.ofSeconds(5));
        respond(u, 500, 5);
        f.detector().uneject(u);
        advance(Duration.ofSeconds(5));

        respond(u, 500, 5);

        assertThat(u.outlier()).hasValueSatisfying(s -> assertThat(s.readmitGuarded()).isFalse());
        passingChecks(u, 2);
        assertThat(u.outlier()).isEmpty();
    }

    @Test
    void aZeroGuardNeverHoldsAHostBack() {
        OutlierFixture g = new OutlierFixture();
        g.readmit = Readmit.PROBE;
        g.readmitGuard = Duration.ZERO;
        g.build();
        Upstream u = g.host(1);
        respond(u, 500, 5);
        g.checkPassed(u, Duration.ZERO);
        assertThat(u.outlier()).as("healthy-threshold 1 without a health-check block").isEmpty();

        respond(u, 500, 5);

        assertThat(u.outlier()).hasValueSatisfying(s -> assertThat(s.readmitGuarded()).isFalse());
        g.checkPassed(u, Duration.ZERO);
        assertThat(u.outlier()).isEmpty();
    }

    @Test
    void aReloadCarriesTheGuardOver() {
        Upstream u = f.host(1);
        ejectAndReadmitByProbe(u);
        advance(Duration.ofSeconds(5));
        respond(u, 500, 5);
        OutlierFixture next = new OutlierFixture();
        next.readmit = Readmit.PROBE;
        next.healthCheck = f.healthCheck;
        next.build();
        next.clock.advance(Duration.ofNanos(f.clock.nanoTime() - next.clock.nanoTime())); // one time line
        Upstream same = next.host(1);

        next.detector().adopt(f.detector(), u, same);

        assertThat(same.outlier()).hasValueSatisfying(s -> assertThat(s.readmitGuarded()).isTrue());
        next.checkPassed(same, Duration.ZERO);
        next.checkPassed(same, Duration.ZERO);
        assertThat(same.outlier()).isPresent();
    }
}
