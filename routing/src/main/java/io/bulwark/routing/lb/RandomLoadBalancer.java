package io.bulwark.routing.lb;

import io.bulwark.routing.HostSet;
import io.bulwark.routing.RequestView;
import io.bulwark.routing.Upstream;

import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Weighted random: each candidate is chosen with probability {@code weight / sum(weights)}
 * (uniformly when the weights are equal). Stateless apart from the random source, so it suits
 * clusters whose host set changes often and very large clusters: a pick is one draw and a binary
 * search over the snapshot's running weight sums (built once per snapshot), or a walk over the
 * candidates while weights move under slow start or a retry avoids some hosts.
 */
public final class RandomLoadBalancer implements LoadBalancer {

    private final RandomGenerator random;
    private final Candidates candidates = new Candidates();
    /** The snapshot {@link #cumulative} was built for; null sums when its weights may move. */
    private List<Upstream> indexed;
    private double[] cumulative;
    private boolean equalWeights;
    private int lastPositive;

    public RandomLoadBalancer() {
        this(ThreadLocalRandomGenerator.INSTANCE);
    }

    /** @param random the source of randomness; tests pass a seeded one */
    public RandomLoadBalancer(RandomGenerator random) {
        this.random = random;
    }

    @Override
    public Upstream choose(HostSet hostSet, RequestView request, Set<Upstream> avoid) {
        List<Upstream> usable = hostSet.usable();
        if (avoid == null || avoid.isEmpty()) {
            if (usable != indexed) {
                index(usable);
            }
            if (cumulative != null) {
                return pickIndexed(usable);
            }
        }
        Candidates c = candidates.select(usable, avoid);
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

    /** The same draw as the scan above, by binary search over the snapshot's running weight sums. */
    private Upstream pickIndexed(List<Upstream> usable) {
        int m = usable.size();
        if (m <= 1) {
            return m == 0 ? null : usable.get(0);
        }
        double total = cumulative[m - 1];
        if (equalWeights || total <= 0) {
            return usable.get(random.nextInt(m));
        }
        double point = random.nextDouble() * total;
        int low = 0;
        int high = m - 1;
        while (low < high) { // the first host whose running sum is above the point
            int mid = (low + high) >>> 1;
            if (point < cumulative[mid]) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        if (point < cumulative[low]) {
            return usable.get(low);
        }
        return usable.get(lastPositive); // floating-point rounding at the very top of the range
    }

    /**
     * Prepares binary-search picks for {@code usable} when its weights hold still (no host ramping up
     * under slow start, which only a new snapshot starts or ends); otherwise every pick scans.
     */
    private void index(List<Upstream> usable) {
        indexed = usable;
        cumulative = null;
        int m = usable.size();
        double[] sums = new double[m];
        double sum = 0;
        boolean equal = true;
        double first = m == 0 ? 0 : Candidates.weight(usable.get(0));
        int positive = -1;
        for (int i = 0; i < m; i++) {
            Upstream u = usable.get(i);
            if (u.warmingUp()) {
                return;
            }
            double w = Candidates.weight(u);
            equal &= w == first;
            if (w > 0) {
                positive = i;
            }
            sum += w;
            sums[i] = sum;
        }
        cumulative = sums;
        equalWeights = equal;
        lastPositive = positive;
    }
}
