package io.bulwark.routing.outlier;

import io.bulwark.routing.HostSet;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Instant;

import static io.bulwark.routing.outlier.OutlierFixture.respond;
import static org.assertj.core.api.Assertions.assertThat;

class PanicTest {

    private final OutlierFixture f = new OutlierFixture();

    @Test
    void ejectedHostsAreNotEligibleButInPanicEveryNonDrainedHostIsUsable() {
        f.hosts = 4;
        f.maxEjectionPercent = 100;
        f.panicThreshold = 50;
        f.build();
        f.host(4).setAdmin(Upstream.AdminState.DRAINING);

        respond(f.host(1), 500, 5);
        HostSet oneOut = f.cluster.hostSet(); // eligible: 2 and 3 of 4 = 50%, not below
        respond(f.host(2), 500, 5);
        HostSet twoOut = f.cluster.hostSet(); // eligible: 3 only = 25%

        assertThat(oneOut.panic()).isFalse();
        assertThat(oneOut.usable()).containsExactly(f.host(2), f.host(3));
        assertThat(twoOut.panic()).isTrue();
        assertThat(twoOut.usable()).containsExactly(f.host(1), f.host(2), f.host(3));
    }

    @Test
    void eligibleAgreesWithReasonsWithAnOutlierEjection() {
        Upstream u = new Upstream("c", "a:1", InetSocketAddress.createUnresolved("a", 1), 1, f.clock, () -> { });
        u.setOutlier(new OutlierState(Instant.EPOCH, "consecutive_5xx", 1));

        assertThat(u.eligible()).isFalse();
        assertThat(u.reasons()).containsExactly("outlier_ejected");

        u.setOverride(Upstream.HealthOverride.HEALTHY); // an operator's healthy does not end an ejection
        assertThat(u.eligible()).isFalse();
        u.setOutlier(null);
        assertThat(u.eligible()).isTrue();
        assertThat(u.reasons()).isEmpty();
    }
}
