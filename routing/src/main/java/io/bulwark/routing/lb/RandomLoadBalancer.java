package io.bulwark.routing.lb;

import io.bulwark.routing.HostSet;
import io.bulwark.routing.RequestView;
import io.bulwark.routing.Upstream;

import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Weighted random: each candidate is chosen with probability {@code weight / sum(weights)}
 * (uniformly when the weights are equal). Stateless apart from the random source, so it suits
 * clusters whose host set changes often and very large clusters.
 */
public final class RandomLoadBalancer implements LoadBalancer {

    private final RandomGenerator random;
    private final Candidates candidates = new Candidates();

    public RandomLoadBalancer() {
        this(ThreadLocalRandomGenerator.INSTANCE);
    }

    /** @param random the source of randomness; tests pass a seeded one */
    public RandomLoadBalancer(RandomGenerator random) {
        this.random = random;
    }

    @Override
    public Upstream choose(HostSet hostSet, RequestView request, Set<Upstream> avoid) {
        Candidates c = candidates.select(hostSet.usable(), avoid);
        int m = c.size();
        if (m <= 1) {
            return m == 0 ? null : c.get(0);
        }
        double firstWeight = Candidates.weight(c.get(0));
        boolean equal = true;
        double total = 0;
        for (int i = 0; i < m; i++) {
            double w = Candidates.weight(c.get(i));
            total += w;
            equal &= w == firstWeight;
        }
        if (equal || total <= 0) {
            return c.get(random.nextInt(m));
        }
        double point = random.nextDouble() * total;
        Upstream last = null;
        for (int i = 0; i < m; i++) {
            Upstream u = c.get(i);
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
        return last; // only reached through floating-point rounding at the very top of the range
    }
}
