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

class RandomLoadBalancerTest {

    private final TestHosts hosts = new TestHosts();

    private static Map<Upstream, Integer> counts(LoadBalancer lb, HostSet set, int picks) {
        Map<Upstream, Integer> counts = new IdentityHashMap<>();
        for (int i = 0; i < picks; i++) {
            counts.merge(lb.choose(set, TestRequest.get("/"), Set.of()), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void randomFollowsWeightRatios() {
        List<Upstream> all = hosts.weighted(1, 3, 6);
        Map<Upstream, Integer> counts = counts(new RandomLoadBalancer(new Random(42)), TestHosts.hostSet(all), 20_000);

        // Expected 2,000 / 6,000 / 12,000; binomial sd at most ~71.
        assertThat(counts.get(all.get(0))).isBetween(1_700, 2_300);
        assertThat(counts.get(all.get(1))).isBetween(5_600, 6_400);
        assertThat(counts.get(all.get(2))).isBetween(11_600, 12_400);
    }

    @Test
    void randomSpreadsEvenlyOverEqualWeights() {
        List<Upstream> all = hosts.upstreams(5);
        Map<Upstream, Integer> counts = counts(new RandomLoadBalancer(new Random(3)), TestHosts.hostSet(all), 10_000);

        assertThat(counts.values()).hasSize(5).allSatisfy(n -> assertThat(n).isBetween(1_800, 2_200));
    }

    @Test
    void randomNeverPicksAZeroWeightHostBesideWeightedOnes() {
        List<Upstream> all = hosts.weighted(1, 1);
        Upstream zero = hosts.upstream("10.0.0.3:8080", 1);
        zero.setWeight(0);
        List<Upstream> usable = List.of(all.get(0), zero, all.get(1));

        Map<Upstream, Integer> counts = counts(new RandomLoadBalancer(new Random(5)), new HostSet(usable, usable, true), 2_000);
        assertThat(counts).doesNotContainKey(zero);
    }
}
