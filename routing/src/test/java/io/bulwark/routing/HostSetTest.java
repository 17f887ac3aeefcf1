package io.bulwark.routing;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HostSetTest {

    private final TestHosts hosts = new TestHosts();

    @Test
    void usableHostsAreTheEligibleOnesAboveThePanicThreshold() {
        List<Upstream> all = hosts.upstreams(4);
        all.get(3).setHealth(Upstream.Health.UNHEALTHY);

        HostSet set = HostSet.of(all, 50);

        assertThat(set.panic()).isFalse();
        assertThat(set.all()).containsExactlyElementsOf(all);
        assertThat(set.usable()).containsExactly(all.get(0), all.get(1), all.get(2));
    }

    @Test
    void exactlyAtTheThresholdIsNotPanic() {
        List<Upstream> all = hosts.upstreams(4);
        all.get(0).setHealth(Upstream.Health.UNHEALTHY);
        all.get(1).setHealth(Upstream.Health.UNHEALTHY);

        HostSet set = HostSet.of(all, 50);

        assertThat(set.panic()).isFalse();
        assertThat(set.usable()).containsExactly(all.get(2), all.get(3));
    }

    @Test
    void belowThePanicThresholdEveryNonDrainedHostIsUsable() {
        List<Upstream> all = hosts.upstreams(5);
        all.get(0).setHealth(Upstream.Health.UNHEALTHY);
        all.get(1).setOverride(Upstream.HealthOverride.UNHEALTHY);
        all.get(2).setHealth(Upstream.Health.UNHEALTHY);
        all.get(3).setAdmin(Upstream.AdminState.DRAINING);

        HostSet set = HostSet.of(all, 50); // 1 of 5 eligible

        assertThat(set.panic()).isTrue();
        assertThat(set.usable()).containsExactly(all.get(0), all.get(1), all.get(2), all.get(4));
    }

    @Test
    void drainedHostsAreNeverUsableEvenInPanic() {
        List<Upstream> all = hosts.upstreams(2);
        all.get(0).setAdmin(Upstream.AdminState.DRAINING);
        all.get(1).setAdmin(Upstream.AdminState.DRAINED);

        HostSet set = HostSet.of(all, 50);

        // Every upstream drained is the operator's intent, not a failure: nothing to panic over.
        assertThat(set.panic()).isFalse();
        assertThat(set.usable()).isEmpty();
    }

    @Test
    void operatorDrainsAreNotCountedTowardsPanic() {
        List<Upstream> all = hosts.upstreams(3);
        all.get(0).setAdmin(Upstream.AdminState.DRAINING);
        all.get(1).setAdmin(Upstream.AdminState.DRAINED);

        HostSet set = HostSet.of(all, 50); // one of three eligible, but one of one not drained

        assertThat(set.panic()).isFalse();
        assertThat(set.usable()).containsExactly(all.get(2));
    }

    @Test
    void aDrainPlusAnEjectionOfTheRestStillPanicsOverTheUndrained() {
        List<Upstream> all = hosts.upstreams(3);
        all.get(0).setAdmin(Upstream.AdminState.DRAINING);
        all.get(1).setHealth(Upstream.Health.UNHEALTHY);

        HostSet set = HostSet.of(all, 60); // one of the two undrained is eligible: 50% < 60%

        assertThat(set.panic()).isTrue();
        assertThat(set.usable()).containsExactly(all.get(1), all.get(2));
    }

    @Test
    void zeroThresholdNeverPanics() {
        List<Upstream> all = hosts.upstreams(3);
        all.forEach(u -> u.setHealth(Upstream.Health.UNHEALTHY));

        HostSet set = HostSet.of(all, 0);

        assertThat(set.panic()).isFalse();
        assertThat(set.usable()).isEmpty();
    }

    @Test
    void operatorHealthyOverrideBeatsFailingChecks() {
        List<Upstream> all = hosts.upstreams(2);
        all.get(0).setHealth(Upstream.Health.UNHEALTHY);
        all.get(0).setOverride(Upstream.HealthOverride.HEALTHY);

        assertThat(HostSet.of(all, 50).usable()).containsExactlyElementsOf(all);
    }
}
