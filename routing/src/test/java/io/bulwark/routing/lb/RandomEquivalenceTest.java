package io.bulwark.routing.lb;

import io.bulwark.routing.HostSet;
import io.bulwark.routing.TestHosts;
import io.bulwark.routing.TestRequest;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Weighted random by binary search, and the power-of-two-choices balancers, draw exactly what the
 * scan over the (avoid-filtered) candidates drew — the reference here — with and without avoided hosts.
 */
class RandomEquivalenceTest {

    private final TestHosts hosts = new TestHosts();

    private static Upstream scan(List<Upstream> c, RandomGenerator random) {
        int m = c.size();
        if (m <= 1) {
            return m == 0 ? null : c.get(0);
        }
        double first = Candidates.weight(c.get(0));
        boolean equal = true;
        double total = 0;
        for (Upstream u : c) {
            double w = Candidates.weight(u);
            total += w;
            equal &= w == first;
        }
        if (equal || total <= 0) {
            return c.get(random.nextInt(m));
        }
        double point = random.nextDouble() * total;
        Upstream last = null;
        for (Upstream u : c) {
            double w = Candidates.weight(u);
            if (w <= 0) {
                continue;
            }
            if (point < w) {
                return u;
            }
            point -= w;
            last = u;
        }
        return last;
    }

    /** The candidates as the filtering walk made them: the usable less the avoided, unless that leaves none. */
    private static List<Upstream> candidates(List<Upstream> usable, Set<Upstream> avoid) {
        List<Upstream> kept = usable.stream().filter(u -> !avoid.contains(u)).toList();
        return kept.isEmpty() ? usable : kept;
    }

    private static Set<Upstream> randomAvoid(Random random, List<Upstream> usable) {
        Set<Upstream> avoid = new java.util.HashSet<>();
        for (int k = random.nextInt(3); k >= 0; k--) {
            avoid.add(usable.get(random.nextInt(usable.size())));
        }
        return avoid;
    }

    private static Upstream twoChoices(List<Upstream> c, RandomGenerator random) {
        int m = c.size();
        if (m <= 1) {
            return m == 0 ? null : c.get(0);
        }
        int first = random.nextInt(m);
        int second = random.nextInt(m - 1);
        if (second >= first) {
            second++;
        }
        return LeastRequestLoadBalancer.lessLoaded(c.get(first), c.get(second));
    }

    @Test
    void drawsWhatTheScanDraws() {
        Random shape = new Random(14);
        for (int trial = 0; trial < 40; trial++) {
            List<Upstream> usable = new ArrayList<>();
            int n = 1 + shape.nextInt(trial % 4 == 0 ? 3 : 1_000);
            boolean equal = trial % 5 == 0;
            for (int i = 0; i < n; i++) {
                int weight = equal ? 2 : shape.nextInt(6) == 0 ? 0 : 1 + shape.nextInt(9);
                usable.add(hosts.upstream("10.3." + (i / 250) + "." + (i % 250) + ":" + (8000 + trial), weight));
            }
            HostSet set = new HostSet(usable, usable, false);
            RandomLoadBalancer balancer = new RandomLoadBalancer(new Random(trial));
            Random reference = new Random(trial);
            LeastRequestLoadBalancer leastRequest = new LeastRequestLoadBalancer(new Random(trial));
            Random leastReference = new Random(trial);
            for (int pick = 0; pick < 2_000; pick++) {
                Set<Upstream> avoid = pick % 3 == 0 ? Set.of() : randomAvoid(shape, usable);
                List<Upstream> candidates = candidates(usable, avoid);
                assertThat(balancer.choose(set, TestRequest.get("/"), avoid))
                        .as("random: trial %d pick %d", trial, pick).isSameAs(scan(candidates, reference));
                assertThat(leastRequest.choose(set, TestRequest.get("/"), avoid))
                        .as("least-request: trial %d pick %d", trial, pick)
                        .isSameAs(twoChoices(candidates, leastReference));
            }
        }
    }
}
