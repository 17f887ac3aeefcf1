package io.bulwark.routing.lb;

import io.bulwark.routing.HostSet;
import io.bulwark.routing.TestHosts;
import io.bulwark.routing.TestRequest;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class LeastRequestLoadBalancerTest {

    private final TestHosts hosts = new TestHosts();
    private final TestRequest request = TestRequest.get("/");

    private static void busy(Upstream u, int active) {
        for (int i = 0; i < active; i++) {
            u.onRequestStart();
        }
    }

    @Test
    void leastRequestPrefersTheHostWithFewerActiveRequests() {
        List<Upstream> all = hosts.upstreams(2);
        busy(all.get(0), 5);
        busy(all.get(1), 1);
        HostSet set = TestHosts.hostSet(all);

        // Whichever order the two samples come in, the less busy host wins.
        ScriptedRandom random = new ScriptedRandom(0, 0, 1, 0);
        LeastRequestLoadBalancer lb = new LeastRequestLoadBalancer(random);
        assertThat(lb.choose(set, request, Set.of())).isSameAs(all.get(1));
        assertThat(lb.choose(set, request, Set.of())).isSameAs(all.get(1));
        assertThat(random.exhausted()).isTrue();
    }

    @Test
    void leastRequestComparesOnlyTheTwoSampledHosts() {
        List<Upstream> all = hosts.upstreams(3);
        busy(all.get(0), 3);
        busy(all.get(1), 0);
        busy(all.get(2), 2);
        HostSet set = TestHosts.hostSet(all);

        // Samples index 2, then index 0 (second draw 0 of the two others): host 1, the idlest, is not among them.
        LeastRequestLoadBalancer lb = new LeastRequestLoadBalancer(new ScriptedRandom(2, 0));
        assertThat(lb.choose(set, request, Set.of())).isSameAs(all.get(2));
    }

    @Test
    void secondSampleIsNeverTheFirst() {
        List<Upstream> all = hosts.upstreams(3);
        busy(all.get(1), 4);
        busy(all.get(2), 1);
        HostSet set = TestHosts.hostSet(all);

        // First sample index 1; second draw 1 of the remaining two maps past it to index 2.
        LeastRequestLoadBalancer lb = new LeastRequestLoadBalancer(new ScriptedRandom(1, 1));
        assertThat(lb.choose(set, request, Set.of())).isSameAs(all.get(2));
    }

    @Test
    void tieGoesToTheFirstSample() {
        List<Upstream> all = hosts.upstreams(2);
        HostSet set = TestHosts.hostSet(all);

        assertThat(new LeastRequestLoadBalancer(new ScriptedRandom(1, 0)).choose(set, request, Set.of())).isSameAs(all.get(1));
        assertThat(new LeastRequestLoadBalancer(new ScriptedRandom(0, 0)).choose(set, request, Set.of())).isSameAs(all.get(0));
    }

    @Test
    void differingWeightsCompareActiveRequestsPerWeight() {
        List<Upstream> all = hosts.weighted(3, 1);
        busy(all.get(0), 2); // (2 + 1) / 3 = 1
        busy(all.get(1), 1); // (1 + 1) / 1 = 2
        HostSet set = TestHosts.hostSet(all);

        LeastRequestLoadBalancer lb = new LeastRequestLoadBalancer(new ScriptedRandom(1, 0));
        assertThat(lb.choose(set, request, Set.of())).isSameAs(all.get(0));
    }

    @Test
    void idleEqualHostsShareTrafficEvenly() {
        List<Upstream> all = hosts.upstreams(4);
        HostSet set = TestHosts.hostSet(all);
        LeastRequestLoadBalancer lb = new LeastRequestLoadBalancer(new Random(7));

        Map<Upstream, Integer> counts = new IdentityHashMap<>();
        for (int i = 0; i < 8_000; i++) {
            counts.merge(lb.choose(set, request, Set.of()), 1, Integer::sum);
        }
        assertThat(counts.values()).hasSize(4).allSatisfy(n -> assertThat(n).isBetween(1_700, 2_300));
    }

    @Test
    void loadedHostGetsLittleTrafficUnderSampling() {
        List<Upstream> all = hosts.upstreams(4);
        busy(all.get(0), 10);
        HostSet set = TestHosts.hostSet(all);
        LeastRequestLoadBalancer lb = new LeastRequestLoadBalancer(new Random(11));

        for (int i = 0; i < 1_000; i++) {
            // Host 0 loses every comparison it is sampled into.
            assertThat(lb.choose(set, request, Set.of())).isNotSameAs(all.get(0));
        }
    }
}
