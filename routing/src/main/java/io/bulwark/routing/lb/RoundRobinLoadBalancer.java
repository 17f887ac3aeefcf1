package io.bulwark.routing.lb;

import io.bulwark.routing.HostSet;
import io.bulwark.routing.RequestView;
import io.bulwark.routing.Upstream;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Smooth weighted round robin, nginx's algorithm: on every pick each candidate's current weight
 * grows by its weight, the largest wins, and the winner gives back the total. Over any run of
 * {@code sum(weights)} picks each host is chosen exactly {@code weight} times, and the picks are
 * spread out rather than bunched ({5, 1, 1} gives a a b a c a a). Equal weights give a strict rotation.
 *
 * <p>The current weights are kept per {@link Upstream} identity, so when the cluster publishes a
 * new {@link HostSet} the hosts still present keep their place and those gone are forgotten.
 * Avoided hosts sit out a pick entirely (their current weight does not grow), as nginx skips
 * peers already tried. Ties go to the first host in scan order; the scan starts at an offset per
 * instance (the cluster numbers its event loops' balancers 0, 1, 2...), so event loops do not all send
 * their first request to one host. The offset only breaks ties: each instance's weighted sequence is
 * the same rotation, started at another host.
 */
public final class RoundRobinLoadBalancer implements LoadBalancer {

    private final int startOffset;
    private List<Upstream> hosts = List.of();
    private double[] current = new double[0];

    /** A balancer whose scan starts at a random offset. */
    public RoundRobinLoadBalancer() {
        this(ThreadLocalRandom.current().nextInt(1 << 16));
    }

    /** A balancer whose scan starts at {@code startOffset} (modulo the host count); 0 in tests. */
    public RoundRobinLoadBalancer(int startOffset) {
        this.startOffset = Math.max(0, startOffset);
    }

    @Override
    public Upstream choose(HostSet hostSet, RequestView request, Set<Upstream> avoid) {
        List<Upstream> usable = hostSet.usable();
        int n = usable.size();
        if (n == 0) {
            return null;
        }
        if (usable != hosts) {
            adopt(usable);
        }
        boolean skip = Candidates.mustSkip(usable, avoid);
        double positive = 0;
        for (int i = 0; i < n; i++) {
            Upstream u = usable.get(i);
            if (!(skip && avoid.contains(u))) {
                positive += Candidates.weight(u);
            }
        }
        boolean uniform = positive <= 0; // every candidate at weight 0: rotate over them evenly

        double total = 0;
        int best = -1;
        int start = startOffset % n;
        for (int k = 0; k < n; k++) {
            int i = start + k < n ? start + k : start + k - n;
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

    /** Takes on a new snapshot, carrying each surviving host's current weight over by identity. */
    private void adopt(List<Upstream> usable) {
        Map<Upstream, Integer> previous = new IdentityHashMap<>(hosts.size() * 2);
        for (int i = 0; i < hosts.size(); i++) {
            previous.put(hosts.get(i), i);
        }
        double[] next = new double[usable.size()];
        for (int i = 0; i < next.length; i++) {
            Integer old = previous.get(usable.get(i));
            next[i] = old == null ? 0 : current[old];
        }
        hosts = usable;
        current = next;
    }
}
