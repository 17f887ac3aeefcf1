package io.bulwark.routing.outlier;

import io.bulwark.config.OutlierDetectionConfig.FailurePercentageConfig;
import io.bulwark.config.OutlierDetectionConfig.SuccessRateConfig;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.bulwark.routing.outlier.OutlierFixture.mixed;
import static io.bulwark.routing.outlier.OutlierFixture.respond;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class IntervalDetectorTest {

    private final OutlierFixture f = new OutlierFixture();

    private void tick() {
        f.clock.advance(Duration.ofSeconds(10));
        f.cluster.tick();
    }

    /*
     * Worked example, success-rate { minimum-hosts = 5, request-volume = 100, stdev-factor = 1.9 }:
     * five hosts with 100 requests each, success rates 100, 100, 100, 100, 50 (%).
     *   mean      = (4 * 100 + 50) / 5                       = 90
     *   variance  = (4 * (100 - 90)^2 + (50 - 90)^2) / 5      = (400 + 1600) / 5 = 400
     *   stdev     = sqrt(400)                                = 20
     *   threshold = mean - 1.9 * stdev = 90 - 38             = 52
     * Host 5 at 50 < 52 is ejected; the others (100) are not.
     */
    @Test
    void successRateEjectsHostsBelowMeanMinusFactorTimesStdev() {
        f.hosts = 5;
        f.build();
        for (int i = 1; i <= 4; i++) {
            respond(f.host(i), 200, 100);
        }
        mixed(f.host(5), 100, 50); // alternating, so never a consecutive-5xx run

        assertThat(f.host(5).outlier()).isEmpty();
        tick();

        assertThat(f.host(5).outlier().orElseThrow().reason()).isEqualTo(OutlierDetector.SUCCESS_RATE);
        for (int i = 1; i <= 4; i++) {
            assertThat(f.host(i).outlier()).isEmpty();
        }
        assertThat(f.events("ejected")).singleElement().satisfies(e -> {
            assertThat(e.reason()).isEqualTo("success_rate");
            assertThat((double) e.detail().get("success_rate")).isCloseTo(50, within(1e-9));
            assertThat((double) e.detail().get("mean")).isCloseTo(90, within(1e-9));
            assertThat((double) e.detail().get("stdev")).isCloseTo(20, within(1e-9));
            assertThat((double) e.detail().get("threshold")).isCloseTo(52, within(1e-9));
            assertThat(e.detail()).containsEntry("stdev_factor", 1.9).containsEntry("request_volume", 100)
                    .containsEntry("minimum_hosts", 5);
        });
    }

    @Test
    void successRateStatsMatchTheWorkedExample() {
        SuccessRateStats stats = SuccessRateStats.of(new double[] {100, 100, 100, 100, 50}, 1.9);

        assertThat(stats.mean()).isCloseTo(90, within(1e-9));
        assertThat(stats.stdev()).isCloseTo(20, within(1e-9));
        assertThat(stats.threshold()).isCloseTo(52, within(1e-9));
    }

    @Test
    void successRateDoesNothingWhenTooFewHostsHaveTheRequestVolume() {
        f.hosts = 5;
        f.build();
        for (int i = 1; i <= 3; i++) {
            respond(f.host(i), 200, 100);
        }
        respond(f.host(4), 200, 99); // one short of request-volume: only 4 hosts qualify, minimum is 5
        mixed(f.host(5), 100, 50);

        tick();

        assertThat(f.events).isEmpty();
        assertThat(f.cluster.upstreams()).allSatisfy(u -> assertThat(u.outlier()).isEmpty());
    }

    @Test
    void successRateUsesOnlyTheLastIntervalsCounts() {
        f.hosts = 5;
        f.build();
        for (int i = 1; i <= 4; i++) {
            respond(f.host(i), 200, 60);
        }
        mixed(f.host(5), 60, 30);
        tick(); // 60 requests each: below request-volume, nothing happens and the counts are dropped
        for (int i = 1; i <= 4; i++) {
            respond(f.host(i), 200, 60);
        }
        mixed(f.host(5), 60, 30);

        tick();

        assertThat(f.events).isEmpty();
    }

    @Test
    void equalSuccessRatesEjectNobody() {
        f.hosts = 5;
        f.build();
        for (int i = 1; i <= 5; i++) {
            mixed(f.host(i), 100, 30); // stdev 0: threshold = mean, and nobody is below it
        }

        tick();

        assertThat(f.events).isEmpty();
    }

    @Test
    void failurePercentageEjectsHostsAtOrAboveTheThreshold() {
        f.hosts = 5;
        f.maxEjectionPercent = 100;
        f.consecutive5xx = 1000;
        f.consecutiveGatewayFailure = 1000;
        f.successRate = new SuccessRateConfig(100, 100, 1.9); // out of the way
        f.failurePercentage = new FailurePercentageConfig(85, 5, 20);
        f.build();
        respond(f.host(1), 200, 20);
        respond(f.host(2), 200, 20);
        mixed(f.host(3), 20, 10); // 50%
        mixed(f.host(4), 20, 16); // 80%: below 85
        mixed(f.host(5), 20, 17); // 85%: at the threshold

        tick();

        assertThat(f.host(5).outlier().orElseThrow().reason()).isEqualTo(OutlierDetector.FAILURE_PERCENTAGE);
        assertThat(f.host(4).outlier()).isEmpty();
        assertThat(f.host(3).outlier()).isEmpty();
        assertThat(f.events("ejected")).singleElement().satisfies(e -> {
            assertThat((double) e.detail().get("failure_percentage")).isCloseTo(85, within(1e-9));
            assertThat(e.detail()).containsEntry("threshold", 85.0).containsEntry("request_volume", 20)
                    .containsEntry("minimum_hosts", 5);
        });
    }

    @Test
    void failurePercentageNeedsMinimumHostsWithTheRequestVolume() {
        f.hosts = 5;
        f.maxEjectionPercent = 100;
        f.consecutive5xx = 1000;
        f.consecutiveGatewayFailure = 1000;
        f.successRate = new SuccessRateConfig(100, 100, 1.9);
        f.failurePercentage = new FailurePercentageConfig(85, 5, 20);
        f.build();
        for (int i = 1; i <= 3; i++) {
            respond(f.host(i), 200, 20);
        }
        respond(f.host(4), 200, 19);
        mixed(f.host(5), 20, 20);

        tick();

        assertThat(f.host(5).outlier()).isEmpty();
    }

    @Test
    void anEjectedHostIsLeftOutOfTheStatistics() {
        f.hosts = 6;
        f.maxEjectionPercent = 100;
        f.build();
        Upstream ejected = f.host(6);
        respond(ejected, 500, 5); // consecutive-5xx ejection
        for (int i = 1; i <= 4; i++) {
            respond(f.host(i), 200, 100);
        }
        mixed(f.host(5), 100, 50);
        respond(ejected, 500, 200); // stragglers while ejected

        tick();

        // Only hosts 1-5 are evaluated (the worked example), so host 5 goes out too.
        assertThat(f.host(5).outlier()).isPresent();
        assertThat(f.events("ejected")).last().satisfies(e -> assertThat(e.detail()).containsEntry("hosts_evaluated", 5));
    }
}
