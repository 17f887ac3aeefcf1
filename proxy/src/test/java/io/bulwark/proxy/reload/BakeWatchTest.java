package io.bulwark.proxy.reload;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigDiff;
import io.bulwark.config.ConfigLoader;
import io.bulwark.routing.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Automatic rollback decisions, driven by a manual clock: no sleeps, no sockets. */
class BakeWatchTest {

    private record Call(int watched, int to, String reason, Map<String, Object> detail) {
    }

    private final ManualClock clock = new ManualClock();
    private final RouteOutcomes outcomes = new RouteOutcomes(clock, Duration.ofSeconds(30));
    private final List<Call> rollbacks = new ArrayList<>();
    private final BakeWatch watch = new BakeWatch(clock, outcomes, (watched, to, reason, detail) -> {
        rollbacks.add(new Call(watched, to, reason, detail));
        return true;
    });

    private static BulwarkConfig config(String apiCluster, String extraRoute, boolean autoRollback) throws Exception {
        return ConfigLoader.parse("""
                bulwark {
                  reload { auto-rollback = %s, bake-time = 30s, min-requests = 50 }
                  clusters {
                    good { endpoints = [ "127.0.0.1:1" ] }
                    bad { endpoints = [ "127.0.0.1:2" ] }
                  }
                  routes = [ { name = api, match { path-prefix = "/api" }, cluster = %s }
                             { name = web, cluster = good } %s ]
                }
                """.formatted(autoRollback, apiCluster, extraRoute));
    }

    /** {@code count} requests of a route, spread over {@code over}, each answering {@code status} in {@code ms}. */
    private void traffic(String route, String cluster, int count, int status, long ms, Duration over) {
        Duration step = over.dividedBy(count);
        for (int i = 0; i < count; i++) {
            outcomes.record(route, cluster, status, Duration.ofMillis(ms).toNanos());
            clock.advance(step);
            watch.check();
        }
    }

    private void reload(BulwarkConfig before, BulwarkConfig after) {
        watch.reloaded(1, before, 2, after, ConfigDiff.between(before, after));
    }

    @Test
    void aChangedRouteWhoseErrorRateJumpsIsRolledBackWithTheFigures() throws Exception {
        BulwarkConfig before = config("good", "", true);
        traffic("api", "good", 300, 200, 10, Duration.ofSeconds(30));
        reload(before, config("bad", "", true));
        assertThat(watch.watching()).isTrue();
        traffic("api", "bad", 49, 503, 1, Duration.ofSeconds(2));
        assertThat(rollbacks).as("not judged below min-requests").isEmpty();
        traffic("api", "bad", 1, 503, 1, Duration.ofMillis(10));
        assertThat(rollbacks).hasSize(1);
        Call call = rollbacks.get(0);
        assertThat(call.watched()).isEqualTo(2);
        assertThat(call.to()).isEqualTo(1);
        assertThat(call.reason()).isEqualTo("error_rate");
        assertThat(call.detail()).containsEntry("route", "api").containsEntry("before_error_rate", 0.0)
                .containsEntry("after_error_rate", 100.0).containsEntry("after_requests", 50L)
                .containsEntry("baseline", "route");
        assertThat(watch.watching()).isFalse();
    }

    @Test
    void anErrorRateWithinTheAllowedIncreaseStaysAndTheWatchEndsAfterBakeTime() throws Exception {
        BulwarkConfig before = config("good", "", true);
        for (int i = 0; i < 10; i++) { // 2% errors before
            traffic("api", "good", 49, 200, 10, Duration.ofSeconds(1));
            traffic("api", "good", 1, 503, 10, Duration.ofMillis(100));
        }
        reload(before, config("bad", "", true));
        for (int i = 0; i < 28; i++) { // 6% after: 4 points up, the limit is 5
            traffic("api", "bad", 47, 200, 10, Duration.ofMillis(900));
            traffic("api", "bad", 3, 503, 10, Duration.ofMillis(100));
        }
        assertThat(rollbacks).isEmpty();
        assertThat(watch.watching()).isTrue();
        clock.advance(Duration.ofSeconds(3));
        watch.check();
        assertThat(watch.watching()).as("bake-time over").isFalse();
        traffic("api", "bad", 100, 503, 10, Duration.ofSeconds(1));
        assertThat(rollbacks).as("after the bake nothing is judged").isEmpty();
    }

    @Test
    void aP90MoreThanTheFactorAboveIsRolledBackForLatencyWithEnoughRequests() throws Exception {
        BulwarkConfig before = config("good", "", true);
        traffic("api", "good", 400, 200, 20, Duration.ofSeconds(20));
        reload(before, config("bad", "", true));
        traffic("api", "bad", 199, 200, 100, Duration.ofSeconds(10));
        assertThat(rollbacks).as("latency needs 200 requests").isEmpty();
        traffic("api", "bad", 1, 200, 100, Duration.ofMillis(10));
        assertThat(rollbacks).singleElement().satisfies(c -> {
            assertThat(c.reason()).isEqualTo("latency");
            assertThat((Double) c.detail().get("after_p90_ms")).isGreaterThan(90.0);
            assertThat((Double) c.detail().get("before_p90_ms")).isBetween(15.0, 30.0);
        });
    }

    @Test
    void aNewRouteIsJudgedAgainstItsClusterBeforeTheReload() throws Exception {
        BulwarkConfig before = config("good", "", true);
        // the cluster "bad" already failed 40% before the reload (through another route)
        traffic("old", "bad", 60, 200, 5, Duration.ofSeconds(10));
        traffic("old", "bad", 40, 503, 5, Duration.ofSeconds(10));
        reload(before, config("good", ", { name = fresh, match { path-prefix = \"/fresh\" }, cluster = bad }", true));
        traffic("fresh", "bad", 60, 200, 5, Duration.ofSeconds(3));
        traffic("fresh", "bad", 40, 503, 5, Duration.ofSeconds(3));
        assertThat(rollbacks).as("40% as before on its cluster: not worse").isEmpty();
        traffic("fresh", "bad", 100, 503, 5, Duration.ofSeconds(3));
        assertThat(rollbacks).singleElement().satisfies(c -> {
            assertThat(c.reason()).isEqualTo("error_rate");
            assertThat(c.detail()).containsEntry("route", "fresh").containsEntry("baseline", "clusters bad")
                    .containsEntry("before_error_rate", 40.0);
        });
    }

    @Test
    void nothingIsWatchedWhenAutoRollbackIsOffOrNoRouteChanged() throws Exception {
        BulwarkConfig before = config("good", "", false);
        reload(before, config("bad", "", false));
        assertThat(watch.watching()).isFalse();
        traffic("api", "bad", 100, 503, 1, Duration.ofSeconds(1));
        assertThat(rollbacks).isEmpty();

        BulwarkConfig on = config("good", "", true);
        reload(on, config("good", "", true));
        assertThat(watch.watching()).as("same routes: nothing to watch").isFalse();
    }

    @Test
    void stopEndsTheWatch() throws Exception {
        BulwarkConfig before = config("good", "", true);
        reload(before, config("bad", "", true));
        watch.stop();
        traffic("api", "bad", 100, 503, 1, Duration.ofSeconds(1));
        assertThat(rollbacks).isEmpty();
    }
}
