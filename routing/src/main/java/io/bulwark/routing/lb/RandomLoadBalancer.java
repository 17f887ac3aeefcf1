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
    /** Weight classes of the indexed snapshot; null with more than 16 distinct weights. */
    private double[] classWeights;
    private int[] classCounts;
    private int[] classOf;

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
        if (usable != indexed) {
            index(usable);
        }
        if (avoid == null || avoid.isEmpty()) {
            if (cumulative != null) {
                return pickIndexed(usable);
            }
        }
        Candidates c = candidates.select(usable, avoid);
        if (cumulative != null && classWeights != null && c.byPosition()) {
            return pickAvoiding(usable, c);
        }
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
     * The scan's draw over the candidates when a few hosts are avoided: the same equal-weights test
     * (by weight class counts less the avoided), the same total less the avoided weights, and the
     * first position whose running sum less the avoided weights before it is above the point.
     */
    private Upstream pickAvoiding(List<Upstream> usable, Candidates c) {
        int m = c.size();
        if (m <= 1) {
            return m == 0 ? null : c.get(0);
        }
        int[] remaining = classCounts.clone();
        double total = cumulative[usable.size() - 1];
        for (int k = 0; k < c.skippedCount(); k++) {
            int at = c.skipped(k);
            remaining[classOf[at]]--;
            total -= weightAt(at);
        }
        int classesLeft = 0;
        for (int count : remaining) {
            classesLeft += count > 0 ? 1 : 0;
        }
        if (classesLeft <= 1 || total <= 0) {
            return c.get(random.nextInt(m));
        }
        double point = random.nextDouble() * total;
        int low = 0;
        int high = usable.size() - 1;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (point < sumLessSkipped(c, mid)) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        if (point < sumLessSkipped(c, low)) {
            return usable.get(low);
        }
        for (int i = usable.size() - 1; i >= 0; i--) { // rounding at the very top: the last positive candidate
            if (weightAt(i) > 0 && !isSkipped(c, i)) {
                return usable.get(i);
            }
        }
        return c.get(m - 1);
    }

    private double sumLessSkipped(Candidates c, int position) {
        double sum = cumulative[position];
        for (int k = 0; k < c.skippedCount() && c.skipped(k) <= position; k++) {
            sum -= weightAt(c.skipped(k));
        }
        return sum;
    }

    private static boolean isSkipped(Candidates c, int position) {
        for (int k = 0; k < c.skippedCount(); k++) {
            if (c.skipped(k) == position) {
                return true;
            }
        }
        return false;
    }

    private double weightAt(int position) {
        return position == 0 ? cumulative[0] : cumulative[position] - cumulative[position - 1];
    }

    /**
     * Prepares binary-search picks for {@code usable} when its weights hold still (no host ramping up
     * under slow start, which only a new snapshot starts or ends); otherwise every pick scans.
     */
    private void index(List<Upstream> usable) {
        indexed = usable;
        cumulative = null;
        classWeights = null;
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
        classify(usable);
    }

    /** Weight classes (at most 16) and their sizes, for the equal-weights test of a pick that avoids hosts. */
    private void classify(List<Upstream> usable) {
        int m = usable.size();
        double[] distinct = new double[16];
        int[] counts = new int[16];
        int[] of = new int[m];
        int classes = 0;
        for (int i = 0; i < m; i++) {
            double w = Candidates.weight(usable.get(i));
            int k = 0;
            while (k < classes && distinct[k] != w) {
                k++;
            }
            if (k == classes) {
                if (classes == distinct.length) {
                    classWeights = null;
                    return;
                }
                distinct[classes++] = w;
            }
            of[i] = k;
            counts[k]++;
        }
        classWeights = java.util.Arrays.copyOf(distinct, classes);
        classCounts = java.util.Arrays.copyOf(counts, classes);
        classOf = of;
    }
}
