package io.bulwark.routing.outlier;

import io.bulwark.config.OutlierDetectionConfig.Readmit;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.health.ManualScheduler;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.bulwark.routing.outlier.OutlierFixture.respond;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * With a scheduler, an ejection ends at its {@code ejected_until}, not at the next outlier tick:
 * the time the admin API promises is the time the upstream comes back.
 */
class ReadmissionTimerTest {

    private final OutlierFixture f = new OutlierFixture();
    private ManualScheduler timers;

    @BeforeEach
    void timers() {
        timers = new ManualScheduler(f.clock);
        f.timers = timers;
    }

    @Test
    void timerReadmitsAtEjectedUntilWithoutWaitingForATick() {
        f.build(); // interval 10s, base ejection 30s
        Upstream u = f.host(1);
        f.clock.advance(Duration.ofMillis(5_700)); // mid-interval, as in the report: the next ticks are at 10s, 20s...
        respond(u, 500, 5);
        long until = u.outlier().orElseThrow().ejectedUntil().toEpochMilli();
        assertThat(until - f.clock.currentTimeMillis()).isEqualTo(30_000);

        timers.advance(Duration.ofMillis(29_999));
        assertThat(u.outlier()).isPresent();

        timers.advance(Duration.ofMillis(1));

        assertThat(u.outlier()).isEmpty();
        assertThat(u.eligible()).isTrue();
        assertThat(f.cluster.hostSet().usable()).contains(u);
        assertThat(f.events("unejected")).singleElement().satisfies(e -> {
            assertThat(e.timeMillis()).isEqualTo(until);
            assertThat(e.reason()).isEqualTo("ejection_expired");
            assertThat(e.detail()).containsEntry("ejected_for_ms", 30_000L);
        });
        assertThat(timers.pending()).isZero();
    }

    @Test
    void aTickAfterTheTimerDoesNotReadmitTwice() {
        f.build();
        Upstream u = f.host(1);
        respond(u, 500, 5);
        timers.advance(Duration.ofSeconds(31));
        f.cluster.tick();

        assertThat(f.events("unejected")).hasSize(1);
    }

    @Test
    void aReEjectionGetsItsOwnLongerDeadline() {
        f.build();
        Upstream u = f.host(1);
        respond(u, 500, 5);
        timers.advance(Duration.ofSeconds(30)); // back
        respond(u, 500, 5); // out again: 2 x 30s
        long until = u.outlier().orElseThrow().ejectedUntil().toEpochMilli();
        assertThat(until - f.clock.currentTimeMillis()).isEqualTo(60_000);

        timers.advance(Duration.ofSeconds(59));
        assertThat(u.outlier()).isPresent();
        timers.advance(Duration.ofSeconds(1));
        assertThat(u.outlier()).isEmpty();
        assertThat(f.events("unejected")).last().satisfies(e -> assertThat(e.timeMillis()).isEqualTo(until));
    }

    @Test
    void anOperatorUnejectCallsTheTimerOff() {
        f.build();
        Upstream u = f.host(1);
        respond(u, 500, 5);
        assertThat(timers.pending()).isEqualTo(1);

        f.detector().uneject(u);

        assertThat(timers.pending()).isZero();
        timers.advance(Duration.ofMinutes(1));
        assertThat(f.events("unejected")).singleElement()
                .satisfies(e -> assertThat(e.reason()).isEqualTo("operator_uneject"));
    }

    @Test
    void probeModeAwaitsTheProbeFromEjectedUntil() {
        f.readmit = Readmit.PROBE;
        f.build();
        Upstream u = f.host(1);
        respond(u, 500, 5);

        timers.advance(Duration.ofSeconds(30));

        assertThat(u.outlier()).hasValueSatisfying(s -> assertThat(s.awaitingProbe()).isTrue());
        assertThat(u.reasons()).contains("outlier_ejected_awaiting_probe");
        f.checkPassed(u, Duration.ZERO);
        assertThat(u.outlier()).isEmpty();
    }

    @Test
    void aRemovedHostsTimerDoesNothing() {
        f.build();
        Upstream u = f.host(1);
        respond(u, 500, 5);

        f.detector().setHosts(java.util.List.of(f.host(2), f.host(3)));
        timers.advance(Duration.ofMinutes(1));

        assertThat(f.events("unejected")).isEmpty();
    }
}
