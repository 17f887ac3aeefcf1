package io.bulwark.routing.health;

import io.bulwark.config.HealthCheckConfig;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.TestHosts;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.Upstream.Health;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HealthCheckStateTest {

    /** Unhealthy after 3 failures in a row, healthy again after 2 passes in a row. */
    private static final HealthCheckConfig CONFIG =
            new HealthCheckConfig("/health", Duration.ofSeconds(5), Duration.ofSeconds(1), 3, 2);

    private final TestHosts hosts = new TestHosts();
    private final Upstream upstream = hosts.upstream("10.0.0.1:8080", 1);
    private final List<StateEvent> events = new ArrayList<>();
    private final List<String> heard = new ArrayList<>();
    private final HealthCheckState state = new HealthCheckState(upstream, CONFIG, hosts.clock(), events::add,
            HealthCheckListener.of(u -> heard.add("passed"), u -> heard.add("failed")));

    private static final ProbeResult OK = ProbeResult.response(200);
    private static final ProbeResult DOWN = ProbeResult.response(503);

    private void results(ProbeResult... results) {
        for (ProbeResult r : results) {
            state.onResult(r);
        }
    }

    @Test
    void anUnknownUpstreamBecomesHealthyOnItsFirstPass() {
        assertThat(upstream.health()).isEqualTo(Health.UNKNOWN);

        results(OK);

        assertThat(upstream.health()).isEqualTo(Health.HEALTHY);
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.type()).isEqualTo("health_flip");
            assertThat(e.from()).isEqualTo("unknown");
            assertThat(e.to()).isEqualTo("healthy");
            assertThat(e.reason()).isEqualTo("health_check_passed");
        });
    }

    @Test
    void anUnknownUpstreamBecomesUnhealthyOnlyAfterTheUnhealthyThreshold() {
        results(DOWN, DOWN);
        assertThat(upstream.health()).isEqualTo(Health.UNKNOWN);
        assertThat(upstream.eligible()).isTrue();

        results(DOWN);

        assertThat(upstream.health()).isEqualTo(Health.UNHEALTHY);
        assertThat(upstream.eligible()).isFalse();
        assertThat(upstream.reasons()).containsExactly("health_check_failed");
    }

    @Test
    void aHealthyUpstreamFlipsAfterThresholdConsecutiveFailuresAndAPassResetsTheCount() {
        results(OK, DOWN, DOWN, OK, DOWN, DOWN);
        assertThat(upstream.health()).isEqualTo(Health.HEALTHY);

        results(DOWN);

        assertThat(upstream.health()).isEqualTo(Health.UNHEALTHY);
        assertThat(events).last().satisfies(e -> {
            assertThat(e.from()).isEqualTo("healthy");
            assertThat(e.to()).isEqualTo("unhealthy");
            assertThat(e.reason()).isEqualTo("health_check_failed");
            assertThat(e.cluster()).isEqualTo("test");
            assertThat(e.upstream()).isEqualTo("10.0.0.1:8080");
            assertThat(e.detail()).containsEntry("consecutive", 3).containsEntry("unhealthy_threshold", 3)
                    .containsEntry("healthy_threshold", 2).containsEntry("last_result", "status 503");
        });
    }

    @Test
    void anUnhealthyUpstreamNeedsHealthyThresholdPassesInARow() {
        results(DOWN, DOWN, DOWN);

        results(OK, DOWN, OK);
        assertThat(upstream.health()).isEqualTo(Health.UNHEALTHY);

        results(OK);
        assertThat(upstream.health()).isEqualTo(Health.HEALTHY);
        assertThat(events).extracting(e -> e.from() + "->" + e.to()).containsExactly("unknown->unhealthy", "unhealthy->healthy");
    }

    @Test
    void only2xxPasses() {
        for (int status : new int[] {200, 204, 299}) {
            assertThat(ProbeResult.response(status).passed()).as("status " + status).isTrue();
        }
        for (int status : new int[] {199, 301, 404, 500, 503}) {
            assertThat(ProbeResult.response(status).passed()).as("status " + status).isFalse();
        }
        assertThat(ProbeResult.timeout().passed()).isFalse();
        assertThat(ProbeResult.connectFailure("refused").passed()).isFalse();
        assertThat(ProbeResult.error("reset").passed()).isFalse();
    }

    @Test
    void timeoutsAndConnectFailuresCountAsFailures() {
        results(OK, ProbeResult.timeout(), ProbeResult.connectFailure("Connection refused"), ProbeResult.response(302));

        assertThat(upstream.health()).isEqualTo(Health.UNHEALTHY);
        assertThat(state.consecutiveFailures()).isEqualTo(3);
        assertThat(state.lastResult()).hasValue(ProbeResult.response(302));
    }

    @Test
    void theListenerHearsEveryCheckNotOnlyFlips() {
        results(OK, OK, DOWN, OK);

        assertThat(heard).containsExactly("passed", "passed", "failed", "passed");
        assertThat(events).hasSize(1);
    }

    @Test
    void checksKeepTheFlagCurrentUnderAnOperatorOverride() {
        upstream.setOverride(Upstream.HealthOverride.HEALTHY);

        results(DOWN, DOWN, DOWN);

        assertThat(upstream.health()).isEqualTo(Health.UNHEALTHY);
        assertThat(upstream.eligible()).as("the operator's word beats the checks").isTrue();
    }

    @Test
    void anEjectedUpstreamPassingAProbeIsReportedToTheListenerEvenWhenAlreadyHealthy() {
        results(OK);
        heard.clear();

        results(OK);

        assertThat(upstream.health()).isEqualTo(Health.HEALTHY);
        assertThat(heard).containsExactly("passed");
        assertThat(events).hasSize(1);
    }

    @Test
    void aPassIsHeardWithTheEarliestItsCheckCanHaveStartedTheResultBeforeIt() {
        List<Long> startedAfter = new ArrayList<>();
        long made = hosts.clock().nanoTime();
        HealthCheckState timed = new HealthCheckState(upstream, CONFIG, hosts.clock(), events::add,
                new HealthCheckListener() {
                    @Override
                    public void onCheckPassed(Upstream u, long startedAfterNanos) {
                        startedAfter.add(startedAfterNanos);
                    }
                });

        hosts.clock().advance(Duration.ofSeconds(5));
        timed.onResult(OK); // the first check started after the state was made
        long firstResult = hosts.clock().nanoTime();
        hosts.clock().advance(Duration.ofSeconds(5));
        timed.onResult(DOWN);
        long secondResult = hosts.clock().nanoTime();
        hosts.clock().advance(Duration.ofSeconds(5));
        timed.onResult(OK); // checks never overlap: this one started after the failed one came in

        assertThat(startedAfter).containsExactly(made, secondResult);
        assertThat(secondResult).isGreaterThan(firstResult);
    }
}
