package io.bulwark.routing.outlier;

import org.junit.jupiter.api.Test;

import static io.bulwark.routing.outlier.OutlierFixture.respond;
import static org.assertj.core.api.Assertions.assertThat;

class MaxEjectionPercentTest {

    private final OutlierFixture f = new OutlierFixture();

    @Test
    void tenPercentOfThreeHostsStillAllowsTheFirstEjectionButNotTheSecond() {
        f.hosts = 3;
        f.maxEjectionPercent = 10;
        f.build();

        respond(f.host(1), 500, 5);
        respond(f.host(2), 500, 5);

        assertThat(f.host(1).outlier()).isPresent();
        assertThat(f.host(2).outlier()).isEmpty(); // 1 of 3 = 33% is not below 10%
        assertThat(f.detector().ejectionsSkipped()).isEqualTo(1);
        assertThat(f.events("ejected")).hasSize(1);
    }

    @Test
    void fiftyPercentOfFourHostsAllowsTwo() {
        f.hosts = 4;
        f.maxEjectionPercent = 50;
        f.build();

        respond(f.host(1), 500, 5);
        respond(f.host(2), 500, 5); // 1 of 4 = 25% < 50%: allowed
        respond(f.host(3), 500, 5); // 2 of 4 = 50%: refused

        assertThat(f.host(1).outlier()).isPresent();
        assertThat(f.host(2).outlier()).isPresent();
        assertThat(f.host(3).outlier()).isEmpty();
    }

    @Test
    void aRefusedHostIsEjectedOnItsNextBoutOnceThereIsRoom() {
        f.hosts = 3;
        f.build();
        respond(f.host(1), 500, 5);
        respond(f.host(2), 500, 5);
        f.detector().uneject(f.host(1));

        respond(f.host(2), 500, 5); // the counter was reset after the refused attempt

        assertThat(f.host(2).outlier()).isPresent();
    }
}
