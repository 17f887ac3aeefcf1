package io.bulwark.routing.lb;

import io.bulwark.routing.HostSet;
import io.bulwark.routing.TestHosts;
import io.bulwark.routing.TestRequest;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class RoundRobinLoadBalancerTest {

    private final TestHosts hosts = new TestHosts();
    private final TestRequest request = TestRequest.get("/");

    private static List<Upstream> picks(LoadBalancer lb, HostSet set, int count) {
        List<Upstream> picked = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            picked.add(lb.choose(set, TestRequest.get("/"), Set.of()));
        }
        return picked;
    }

    private static Map<Upstream, Integer> counts(List<Upstream> picks) {
        Map<Upstream, Integer> counts = new IdentityHashMap<>();
        picks.forEach(u -> counts.merge(u, 1, Integer::sum));
        return counts;
    }

    @Test
    void roundRobinRotatesExactlyOverEqualHosts() {
        List<Upstream> all = hosts.upstreams(3);
        List<Upstream> picked = picks(new RoundRobinLoadBalancer(0), TestHosts.hostSet(all), 300);

        for (int i = 0; i < picked.size(); i++) {
            assertThat(picked.get(i)).isSameAs(all.get(i % 3));
        }
        assertThat(counts(picked)).containsOnly(Map.entry(all.get(0), 100), Map.entry(all.get(1), 100), Map.entry(all.get(2), 100));
    }

    @Test
    void eachInstancesOffsetStartsTheSameRotationAtAnotherHost() {
        List<Upstream> all = hosts.upstreams(3);
        HostSet set = TestHosts.hostSet(all);
        for (int offset = 0; offset < 3; offset++) {
            List<Upstream> picked = picks(new RoundRobinLoadBalancer(offset), set, 6);
            for (int i = 0; i < picked.size(); i++) {
                assertThat(picked.get(i)).isSameAs(all.get((i + offset) % 3));
            }
        }
    }

    @Test
    void randomStartOffsetStillRotatesExactly() {
        List<Upstream> all = hosts.upstreams(3);
        List<Upstream> picked = picks(new RoundRobinLoadBalancer(), TestHosts.hostSet(all), 300);

        assertThat(counts(picked).values()).containsExactly(100, 100, 100);
        for (int i = 3; i < picked.size(); i++) {
            assertThat(picked.get(i)).isSameAs(picked.get(i - 3));
        }
    }

    @Test
    void weightedRoundRobinGivesEachHostExactlyItsShare() {
        List<Upstream> all = hosts.weighted(1, 2, 3);
        Map<Upstream, Integer> counts = counts(picks(new RoundRobinLoadBalancer(0), TestHosts.hostSet(all), 600));

        assertThat(counts.get(all.get(0))).isEqualTo(100);
        assertThat(counts.get(all.get(1))).isEqualTo(200);
        assertThat(counts.get(all.get(2))).isEqualTo(300);
    }

    @Test
    void weightedRoundRobinFollowsNginxSmoothSequence() {
        List<Upstream> all = hosts.weighted(5, 1, 1);
        Upstream a = all.get(0);
        Upstream b = all.get(1);
        Upstream c = all.get(2);

        assertThat(picks(new RoundRobinLoadBalancer(0), TestHosts.hostSet(all), 14))
                .containsExactly(a, a, b, a, c, a, a, a, a, b, a, c, a, a);
    }

    @Test
    void weightedRoundRobinInterleavesRatherThanBunching() {
        List<Upstream> all = hosts.weighted(1, 2, 3);
        List<Upstream> picked = picks(new RoundRobinLoadBalancer(0), TestHosts.hostSet(all), 600);

        int longestRun = 1;
        int run = 1;
        for (int i = 1; i < picked.size(); i++) {
            run = picked.get(i) == picked.get(i - 1) ? run + 1 : 1;
            longestRun = Math.max(longestRun, run);
        }
        // A naive weighted rotation would send 3 in a row to the weight-3 host; smooth WRR at most 2 (across periods).
        assertThat(longestRun).isLessThanOrEqualTo(2);
    }

    @Test
    void rotationContinuesAcrossNewSnapshotsOfTheSameHosts() {
        List<Upstream> all = hosts.upstreams(3);
        RoundRobinLoadBalancer lb = new RoundRobinLoadBalancer(0);

        assertThat(lb.choose(TestHosts.hostSet(all), request, Set.of())).isSameAs(all.get(0));
        assertThat(lb.choose(TestHosts.hostSet(all), request, Set.of())).isSameAs(all.get(1));
        assertThat(lb.choose(TestHosts.hostSet(all), request, Set.of())).isSameAs(all.get(2));
        assertThat(lb.choose(TestHosts.hostSet(all), request, Set.of())).isSameAs(all.get(0));
    }

    @Test
    void hostSetChangesKeepExactSpreadOverTheHostsPresent() {
        List<Upstream> all = hosts.upstreams(4);
        RoundRobinLoadBalancer lb = new RoundRobinLoadBalancer(0);
        picks(lb, TestHosts.hostSet(all), 5);

        List<Upstream> withoutSecond = List.of(all.get(0), all.get(2), all.get(3));
        Map<Upstream, Integer> after = counts(picks(lb, new HostSet(withoutSecond, withoutSecond, false), 300));
        assertThat(after).doesNotContainKey(all.get(1));
        assertThat(after.values()).allSatisfy(n -> assertThat(n).isBetween(99, 101));

        Upstream newcomer = hosts.upstream("10.0.0.9:8080", 1);
        List<Upstream> grown = List.of(all.get(0), all.get(2), all.get(3), newcomer);
        Map<Upstream, Integer> grownCounts = counts(picks(lb, new HostSet(grown, grown, false), 400));
        assertThat(grownCounts.get(newcomer)).isBetween(99, 101);
        assertThat(grownCounts.values()).allSatisfy(n -> assertThat(n).isBetween(99, 101));
    }

    @Test
    void avoidedHostSitsOutWithoutDisturbingTheOthersRotation() {
        List<Upstream> all = hosts.upstreams(3);
        HostSet set = TestHosts.hostSet(all);
        RoundRobinLoadBalancer lb = new RoundRobinLoadBalancer(0);

        List<Upstream> picked = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            picked.add(lb.choose(set, request, Set.of(all.get(1))));
        }
        assertThat(picked).doesNotContain(all.get(1));
        assertThat(counts(picked).values()).containsExactlyInAnyOrder(50, 50);
    }

    @Test
    void zeroWeightHostIsSkippedUnlessEveryCandidateIsAtZero() {
        List<Upstream> all = hosts.weighted(1, 1);
        Upstream zero = hosts.upstream("10.0.0.3:8080", 1);
        zero.setWeight(0);
        List<Upstream> withZero = List.of(all.get(0), all.get(1), zero);
        RoundRobinLoadBalancer lb = new RoundRobinLoadBalancer(0);

        assertThat(picks(lb, new HostSet(withZero, withZero, true), 50)).doesNotContain(zero);
        assertThat(lb.choose(new HostSet(withZero, List.of(zero), true), request, Set.of())).isSameAs(zero);
    }
}
