package io.bulwark.routing.outlier;

import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.bulwark.routing.outlier.OutlierFixture.respond;
import static org.assertj.core.api.Assertions.assertThat;

class EjectionTimeTest {

    private final OutlierFixture f = new OutlierFixture();

    /** Ejects {@code u} with 5 straight 5xx and returns the ejection time it got. */
    private long eject(Upstream u) {
        respond(u, 500, 5);
        assertThat(u.outlier()).isPresent();
        return f.ejectionLeftMillis(u);
    }

    /** Lets the ejection run out and readmits at a tick. */
    private void readmit(Upstream u, long ejectionMillis) {
        f.clock.advance(Duration.ofMillis(ejectionMillis));
        f.cluster.tick();
        assertThat(u.outlier()).isEmpty();
    }

    @Test
    void ejectionTimeIsBaseTimesTimesEjectedCappedAtMax() {
        f.build();
        Upstream u = f.host(1);
        List<Long> times = new ArrayList<>();

        for (int i = 0; i < 12; i++) {
            long ejection = eject(u);
            times.add(ejection / 1000);
            readmit(u, ejection); // re-ejected before any healthy tick, so no decay in between
        }

        assertThat(times).containsExactly(30L, 60L, 90L, 120L, 150L, 180L, 210L, 240L, 270L, 300L, 300L, 300L);
    }

    @Test
    void theCapHoldsWhenBaseDoesNotDivideMax() {
        f.baseEjectionTime = Duration.ofSeconds(40);
        f.maxEjectionTime = Duration.ofSeconds(100);
        f.build();
        Upstream u = f.host(1);
        List<Long> times = new ArrayList<>();

        for (int i = 0; i < 4; i++) {
            long ejection = eject(u);
            times.add(ejection / 1000);
            readmit(u, ejection);
        }

        assertThat(times).containsExactly(40L, 80L, 100L, 100L);
        assertThat(f.detector().timesEjected(u)).isEqualTo(3); // stops growing once at the cap
    }

    @Test
    void multiplierDecaysByOnePerHealthyInterval() {
        f.build();
        Upstream u = f.host(1);
        for (int i = 0; i < 3; i++) {
            readmit(u, eject(u));
        }
        assertThat(f.detector().timesEjected(u)).isEqualTo(3);

        f.clock.advance(Duration.ofSeconds(10));
        f.cluster.tick();
        assertThat(f.detector().timesEjected(u)).isEqualTo(2);

        f.clock.advance(Duration.ofSeconds(10));
        f.cluster.tick();
        assertThat(f.detector().timesEjected(u)).isEqualTo(1);

        assertThat(eject(u)).isEqualTo(60_000); // back up to 2: base * 2
    }

    @Test
    void multiplierNeverDecaysBelowZeroAndAFreshEjectionIsBaseAgain() {
        f.build();
        Upstream u = f.host(1);
        readmit(u, eject(u));
        for (int i = 0; i < 3; i++) {
            f.clock.advance(Duration.ofSeconds(10));
            f.cluster.tick();
        }
        assertThat(f.detector().timesEjected(u)).isZero();
        assertThat(eject(u)).isEqualTo(30_000);
    }

    @Test
    void anEjectionRefusedByMaxEjectionPercentStopsTheDecay() {
        f.build(); // 10% of 3 hosts: only one ejection at a time
        Upstream first = f.host(1);
        Upstream second = f.host(2);
        readmit(second, eject(second)); // second: multiplier 1
        eject(first);

        respond(second, 500, 5); // refused: first is out
        assertThat(second.outlier()).isEmpty();
        f.clock.advance(Duration.ofSeconds(10));
        f.cluster.tick();
        assertThat(f.detector().timesEjected(second)).isEqualTo(1);

        f.clock.advance(Duration.ofSeconds(10));
        f.cluster.tick(); // a quiet interval
        assertThat(f.detector().timesEjected(second)).isZero();
    }

    @Test
    void operatorUnejectEndsTheEjectionAndResetsTheMultiplier() {
        f.build();
        Upstream u = f.host(1);
        readmit(u, eject(u));
        eject(u);
        assertThat(f.detector().timesEjected(u)).isEqualTo(2);

        assertThat(f.detector().uneject(u)).isTrue();

        assertThat(u.outlier()).isEmpty();
        assertThat(u.eligible()).isTrue();
        assertThat(f.cluster.hostSet().usable()).contains(u);
        assertThat(f.detector().timesEjected(u)).isZero();
        assertThat(f.events("unejected")).last().satisfies(e -> {
            assertThat(e.reason()).isEqualTo("operator_uneject");
            assertThat(e.from()).isEqualTo("ejected");
            assertThat(e.to()).isEqualTo("eligible");
        });
        assertThat(eject(u)).isEqualTo(30_000);
        assertThat(f.detector().uneject(f.host(2))).isFalse();
    }
}
