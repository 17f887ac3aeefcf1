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

/** Weighted random by binary search draws exactly what the scan over the weights drew (the reference here). */
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
            for (int pick = 0; pick < 2_000; pick++) {
                assertThat(balancer.choose(set, TestRequest.get("/"), Set.of()))
                        .as("trial %d pick %d", trial, pick).isSameAs(scan(usable, reference));
            }
        }
    }
}
