package io.bulwark.routing.lb;

import io.bulwark.routing.HostSet;
import io.bulwark.routing.TestHosts;
import io.bulwark.routing.TestRequest;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class EwmaLoadBalancerTest {

    private static final long MS = 1_000_000L;

    private final TestHosts hosts = new TestHosts();
    private final TestRequest request = TestRequest.get("/");

    private static EwmaLoadBalancer seeded(long seed) {
        return new EwmaLoadBalancer(new Random(seed), EwmaLoadBalancer.DEFAULT_RTT_NANOS);
    }

    @Test
    void ewmaPrefersTheFasterHostAfterObservations() {
        List<Upstream> all = hosts.upstreams(2);
        all.get(0).onResponse(200, 200 * MS);
        all.get(1).onResponse(200, 10 * MS);
        HostSet set = TestHosts.hostSet(all);
        EwmaLoadBalancer lb = seeded(1);

        for (int i = 0; i < 500; i++) {
            assertThat(lb.choose(set, request, Set.of())).isSameAs(all.get(1));
        }
    }

    @Test
    void slowHostLosesEveryComparisonItIsSampledInto() {
        List<Upstream> all = hosts.upstreams(4);
        all.get(0).onResponse(200, 5 * MS);
        all.get(1).onResponse(200, 6 * MS);
        all.get(2).onResponse(500, 900 * MS);
        all.get(3).onResponse(200, 7 * MS);
        HostSet set = TestHosts.hostSet(all);
        EwmaLoadBalancer lb = seeded(2);

        for (int i = 0; i < 1_000; i++) {
            assertThat(lb.choose(set, request, Set.of())).isNotSameAs(all.get(2));
        }
    }

    @Test
    void activeRequestsRaiseAHostsCost() {
        List<Upstream> all = hosts.upstreams(2);
        all.get(0).onResponse(200, 10 * MS);
        all.get(1).onResponse(200, 20 * MS);
        for (int i = 0; i < 3; i++) {
            all.get(0).onRequestStart(); // 10ms * 4 = 40ms > 20ms * 1
        }
        HostSet set = TestHosts.hostSet(all);

        assertThat(seeded(3).choose(set, request, Set.of())).isSameAs(all.get(1));
    }

    @Test
    void peakLatencyCountsAtOnce() {
        List<Upstream> all = hosts.upstreams(2);
        all.get(0).onResponse(200, 10 * MS);
        all.get(1).onResponse(200, 20 * MS);
        all.get(0).onResponse(200, 80 * MS); // one slow answer moves the estimate straight to the peak
        HostSet set = TestHosts.hostSet(all);

        assertThat(seeded(4).choose(set, request, Set.of())).isSameAs(all.get(1));
    }

    @Test
    void hostWithoutObservationsIsCostedAtTheDefaultRtt() {
        List<Upstream> all = hosts.upstreams(3);
        all.get(0).onResponse(200, 10 * MS); // slower than the 1 ms default
        all.get(1).onResponse(200, MS / 2);  // faster than it
        EwmaLoadBalancer lb = seeded(5);

        assertThat(lb.cost(all.get(2))).isEqualTo((double) EwmaLoadBalancer.DEFAULT_RTT_NANOS);
        List<Upstream> newVsSlow = List.of(all.get(0), all.get(2));
        assertThat(lb.choose(new HostSet(newVsSlow, newVsSlow, false), request, Set.of())).isSameAs(all.get(2));
        List<Upstream> newVsFast = List.of(all.get(1), all.get(2));
        assertThat(lb.choose(new HostSet(newVsFast, newVsFast, false), request, Set.of())).isSameAs(all.get(1));
    }

    @Test
    void slowHostIsTriedAgainOnceItsEstimateHasDecayed() {
        List<Upstream> all = hosts.upstreams(2);
        all.get(0).onResponse(200, 10 * MS);
        all.get(1).onResponse(200, 200 * MS);
        HostSet set = TestHosts.hostSet(all);
        EwmaLoadBalancer lb = seeded(6);
        assertThat(lb.choose(set, request, Set.of())).isSameAs(all.get(0));

        // A minute on, the fast host has kept answering; the slow one has not been asked since.
        hosts.clock().advance(Duration.ofSeconds(60));
        all.get(0).onResponse(200, 10 * MS);

        assertThat(all.get(1).decayedEwmaLatencyNanos()).isLessThan(all.get(0).decayedEwmaLatencyNanos());
        assertThat(lb.choose(set, request, Set.of())).isSameAs(all.get(1));
    }

    @Test
    void higherWeightLowersTheCost() {
        List<Upstream> all = hosts.weighted(3, 1);
        all.get(0).onResponse(200, 10 * MS);
        all.get(1).onResponse(200, 10 * MS);
        all.get(0).onRequestStart(); // 10ms * 2 / 3 < 10ms * 1 / 1
        HostSet set = TestHosts.hostSet(all);

        assertThat(new EwmaLoadBalancer(new ScriptedRandom(1, 0), EwmaLoadBalancer.DEFAULT_RTT_NANOS)
                .choose(set, request, Set.of())).isSameAs(all.get(0));
    }
}
