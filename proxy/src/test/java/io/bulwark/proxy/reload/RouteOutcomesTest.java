package io.bulwark.proxy.reload;

import io.bulwark.routing.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The per-route and per-cluster time buckets a reload's baseline is read from. */
class RouteOutcomesTest {

    private final ManualClock clock = new ManualClock();
    private final RouteOutcomes outcomes = new RouteOutcomes(clock, Duration.ofSeconds(10));

    @Test
    void onlyTheRequestsOfTheLastWindowCountAndOldBucketsAreReused() {
        for (int i = 0; i < 100; i++) {
            outcomes.record("api", "c", 503, 1_000_000);
            clock.advance(Duration.ofMillis(100));
        }
        assertThat(outcomes.route("api", Duration.ofSeconds(10)).errors()).isBetween(90L, 100L);
        clock.advance(Duration.ofSeconds(11));
        for (int i = 0; i < 40; i++) {
            outcomes.record("api", "c", 200, 20_000_000);
            clock.advance(Duration.ofMillis(100));
        }
        Outcomes.Figures f = outcomes.route("api", Duration.ofSeconds(10));
        assertThat(f.requests()).isEqualTo(40);
        assertThat(f.errorRatePercent()).isZero();
        assertThat(f.p90Millis()).isBetween(20.0, 25.0);
        // Two rounds of the ring later the old slots hold nothing stale.
        clock.advance(Duration.ofSeconds(130));
        outcomes.record("api", "c", 200, 1_000_000);
        assertThat(outcomes.route("api", Duration.ofSeconds(10)).requests()).isEqualTo(1);
    }

    @Test
    void clustersSumOverRoutesAndRequestsWithoutARouteAreNotKeptForARoute() {
        outcomes.record("a", "c1", 200, 1);
        outcomes.record("b", "c1", 500, 1);
        outcomes.record("b", "c2", 500, 1);
        outcomes.record("none", "none", 404, 1);
        assertThat(outcomes.clusters(Set.of("c1"), Duration.ofSeconds(10)).errorRatePercent()).isEqualTo(50.0);
        assertThat(outcomes.clusters(Set.of("c1", "c2"), Duration.ofSeconds(10)).requests()).isEqualTo(3);
        assertThat(outcomes.route("none", Duration.ofSeconds(10)).requests()).isZero();
    }

    @Test
    void watchedRoutesAreCountedExactlyFromTheWatchOn() {
        outcomes.record("api", "c", 500, 1);
        var watched = outcomes.watch(Set.of("api"));
        outcomes.record("api", "c", 200, 1);
        outcomes.record("other", "c", 500, 1);
        long[] sum = Outcomes.empty();
        watched.get("api").addTo(sum);
        assertThat(Outcomes.figures(sum).requests()).isEqualTo(1);
        assertThat(Outcomes.figures(sum).errors()).isZero();
        outcomes.unwatch();
        outcomes.record("api", "c", 500, 1);
        sum = Outcomes.empty();
        watched.get("api").addTo(sum);
        assertThat(Outcomes.figures(sum).requests()).isEqualTo(1);
    }
}
