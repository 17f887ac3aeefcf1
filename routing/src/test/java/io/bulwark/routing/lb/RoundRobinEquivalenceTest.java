package io.bulwark.routing.lb;

import io.bulwark.routing.HostSet;
import io.bulwark.routing.TestHosts;
import io.bulwark.routing.TestRequest;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The round robin picks exactly what the plain smooth weighted round robin scan picks — kept here
 * as the reference — through snapshot changes, avoided hosts, zero weights, many distinct weights
 * and slow start.
 */
class RoundRobinEquivalenceTest {

    private final TestHosts hosts = new TestHosts();

    /** The algorithm as it reads: every host on every pick (the balancer before it used heaps). */
    static final class ScanRoundRobin {
        private final int startOffset;
        private List<Upstream> hosts = List.of();
        private double[] current = new double[0];

        ScanRoundRobin(int startOffset) {
            this.startOffset = startOffset;
        }

        Upstream choose(HostSet hostSet, Set<Upstream> avoid) {
            List<Upstream> usable = hostSet.usable();
            int n = usable.size();
            if (n == 0) {
                return null;
            }
            if (usable != hosts) {
                Map<Upstream, Integer> previous = new IdentityHashMap<>();
                for (int i = 0; i < hosts.size(); i++) {
                    previous.put(hosts.get(i), i);
                }
                double[] next = new double[n];
                for (int i = 0; i < n; i++) {
                    Integer old = previous.get(usable.get(i));
                    next[i] = old == null ? 0 : current[old];
                }
                hosts = usable;
                current = next;
            }
            boolean skip = Candidates.mustSkip(usable, avoid);
            double positive = 0;
            for (Upstream u : usable) {
                if (!(skip && avoid.contains(u))) {
                    positive += Candidates.weight(u);
                }
            }
            boolean uniform = positive <= 0;
            double total = 0;
            int best = -1;
            int start = startOffset % n;
            for (int k = 0; k < n; k++) {
                int i = (start + k) % n;
                Upstream u = usable.get(i);
                if (skip && avoid.contains(u)) {
                    continue;
                }
                double w = uniform ? 1 : Candidates.weight(u);
                if (w <= 0) {
                    continue;
                }
                current[i] += w;
                total += w;
                if (best < 0 || current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= total;
            return usable.get(best);
        }
    }

    @Test
    void picksExactlyWhatTheScanPicks() {
        Random random = new Random(14);
        for (int trial = 0; trial < 60; trial++) {
            int offset = random.nextInt(1000);
            RoundRobinLoadBalancer balancer = new RoundRobinLoadBalancer(offset);
            ScanRoundRobin reference = new ScanRoundRobin(offset);
            int distinctWeights = trial % 3 == 0 ? 30 : 1 + random.nextInt(4); // sometimes beyond MAX_GROUPS
            List<Upstream> pool = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                int weight = random.nextInt(8) == 0 ? 0 : 1 + random.nextInt(distinctWeights);
                pool.add(hosts.upstream("10.0." + trial + "." + i + ":8080", weight));
            }
            List<Upstream> usable = new ArrayList<>(pool.subList(0, 5 + random.nextInt(40)));
            HostSet set = new HostSet(usable, usable, false);
            for (int pick = 0; pick < 3_000; pick++) {
                if (random.nextInt(200) == 0) { // a new snapshot: hosts leave, join, reorder or change weight
                    usable = new ArrayList<>(usable);
                    switch (random.nextInt(4)) {
                        case 0 -> usable.remove(random.nextInt(usable.size()));
                        case 1 -> usable.add(random.nextInt(usable.size() + 1), pool.get(random.nextInt(pool.size())));
                        case 2 -> Collections.swap(usable, random.nextInt(usable.size()), random.nextInt(usable.size()));
                        default -> usable.get(random.nextInt(usable.size())).setWeight(random.nextInt(4));
                    }
                    if (usable.isEmpty()) {
                        usable.add(pool.get(0));
                    }
                    set = new HostSet(usable, usable, false);
                }
                Set<Upstream> avoid = Set.of();
                if (random.nextInt(10) == 0) {
                    Set<Upstream> tried = Collections.newSetFromMap(new IdentityHashMap<>());
                    for (int k = random.nextInt(4); k >= 0; k--) {
                        tried.add(usable.get(random.nextInt(usable.size())));
                    }
                    avoid = tried;
                }
                Upstream expected = reference.choose(set, avoid);
                assertThat(balancer.choose(set, TestRequest.get("/"), avoid))
                        .as("trial %d pick %d", trial, pick).isSameAs(expected);
            }
        }
    }

    @Test
    void followsTheScanThroughASlowStartRamp() {
        List<Upstream> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            all.add(new Upstream("test", "10.1.0." + i + ":8080",
                    java.net.InetSocketAddress.createUnresolved("10.1.0." + i, 8080), 1 + i % 3,
                    Duration.ofSeconds(10), hosts.clock(), () -> { }));
        }
        RoundRobinLoadBalancer balancer = new RoundRobinLoadBalancer(3);
        ScanRoundRobin reference = new ScanRoundRobin(3);
        all.get(4).startSlowStart();
        HostSet set = new HostSet(all, all, false);
        for (int pick = 0; pick < 2_000; pick++) {
            if (pick % 100 == 0) {
                hosts.clock().advance(Duration.ofSeconds(1));
                if (pick == 1_200) {
                    set = new HostSet(all, all, false); // the ramp is over: the cluster republishes
                }
            }
            assertThat(balancer.choose(set, TestRequest.get("/"), Set.of())).as("pick %d", pick)
                    .isSameAs(reference.choose(set, Set.of()));
        }
    }

    @Test
    void aThousandEqualHostsRotateInScanOrderFromTheOffset() {
        List<Upstream> all = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            all.add(hosts.upstream("10.2." + (i / 250) + "." + (i % 250) + ":8080", 1));
        }
        HostSet set = new HostSet(all, all, false);
        RoundRobinLoadBalancer balancer = new RoundRobinLoadBalancer(7);
        for (int pick = 0; pick < 2_500; pick++) {
            assertThat(balancer.choose(set, TestRequest.get("/"), Set.of())).isSameAs(all.get((7 + pick) % 1_000));
        }
    }
}
