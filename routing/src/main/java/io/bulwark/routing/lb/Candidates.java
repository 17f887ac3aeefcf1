package io.bulwark.routing.lb;

import io.bulwark.routing.Upstream;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The hosts a balancer may pick from for one try: the usable ones not in {@code avoid}, or every
 * usable one when {@code avoid} covers them all (a retry then goes back to a tried host rather than
 * nowhere). Each balancer owns one and reuses it for every pick, so selecting never allocates once
 * its buffers have grown; with nothing to avoid it is just a view of the list, and with a few hosts
 * to avoid it is the list less their positions (found through an identity index built once per
 * snapshot), so a retry's pick costs what the avoided hosts cost, not a walk of the cluster.
 */
final class Candidates {

    private List<Upstream> usable = List.of();
    private Upstream[] filtered = new Upstream[8];
    private boolean isFiltered;
    private int size;
    /** Positions in {@link #indexed} by identity, so a retry's few avoided hosts are found without a walk. */
    private List<Upstream> indexed;
    private final Map<Upstream, Integer> positions = new IdentityHashMap<>();
    private boolean distinct;
    /** The avoided hosts' positions, ascending, while {@link #byPosition} is in use; reused. */
    private int[] skipped = new int[4];
    private int skippedCount;
    private boolean byPosition;

    /** Selects the candidates for one try; returns this for chaining. */
    Candidates select(List<Upstream> usable, Set<Upstream> avoid) {
        this.usable = usable;
        this.isFiltered = false;
        this.byPosition = false;
        this.size = usable.size();
        if (avoid == null || avoid.isEmpty() || size == 0) {
            return this;
        }
        if (index(usable)) {
            // A few avoided hosts in a large set: the k-th candidate is found past the avoided positions.
            int count = 0;
            if (skipped.length < avoid.size()) {
                skipped = new int[avoid.size()];
            }
            for (Upstream u : avoid) {
                Integer at = positions.get(u);
                if (at != null) {
                    skipped[count++] = at;
                }
            }
            if (count > 0 && count < size) {
                java.util.Arrays.sort(skipped, 0, count);
                skippedCount = count;
                byPosition = true;
                isFiltered = true;
                size -= count;
            }
            return this;
        }
        if (filtered.length < size) {
            filtered = new Upstream[Math.max(size, filtered.length * 2)];
        }
        int kept = 0;
        for (int i = 0; i < size; i++) {
            Upstream u = usable.get(i);
            if (!avoid.contains(u)) {
                filtered[kept++] = u;
            }
        }
        if (kept > 0 && kept < size) {
            isFiltered = true;
            size = kept;
        }
        return this;
    }

    /** Indexes {@code usable} by identity once per snapshot; false when a host is listed twice (a walk then). */
    private boolean index(List<Upstream> usable) {
        if (usable != indexed) {
            indexed = usable;
            positions.clear();
            for (int i = 0; i < usable.size(); i++) {
                positions.put(usable.get(i), i);
            }
            distinct = positions.size() == usable.size();
        }
        return distinct;
    }

    /** The position in the usable list of candidate {@code index}. */
    int positionOf(int index) {
        if (!byPosition) {
            return index;
        }
        int at = index;
        for (int k = 0; k < skippedCount && skipped[k] <= at; k++) {
            at++;
        }
        return at;
    }

    /** True when the candidates are the usable list less a few avoided positions ({@link #positionOf}). */
    boolean byPosition() {
        return byPosition;
    }

    /** The avoided positions, ascending; valid while {@link #byPosition()}. */
    int skippedCount() {
        return skippedCount;
    }

    int skipped(int k) {
        return skipped[k];
    }

    int size() {
        return size;
    }

    Upstream get(int index) {
        if (byPosition) {
            return usable.get(positionOf(index));
        }
        return isFiltered ? filtered[index] : usable.get(index);
    }

    /**
     * True when {@code avoid} rules out some but not all of {@code usable}, i.e. when a balancer that
     * walks the usable list itself must skip the avoided hosts.
     */
    /**
     * Power of two choices over these candidates: two distinct ones at random, the better of the
     * two by {@code better} (which returns one of its arguments); the sole candidate, or null.
     */
    Upstream powerOfTwoChoices(java.util.random.RandomGenerator random,
                               java.util.function.BinaryOperator<Upstream> better) {
        int m = size();
        if (m <= 1) {
            return m == 0 ? null : get(0);
        }
        int first = random.nextInt(m);
        int second = random.nextInt(m - 1);
        if (second >= first) {
            second++;
        }
        return better.apply(get(first), get(second));
    }

    /** {@link #mustSkip(List, Set)} through the identity index: the cost of {@code avoid}, not of the list. */
    boolean mustSkipIndexed(List<Upstream> usable, Set<Upstream> avoid) {
        if (avoid == null || avoid.isEmpty()) {
            return false;
        }
        if (!index(usable)) {
            return mustSkip(usable, avoid);
        }
        int count = 0;
        for (Upstream u : avoid) {
            if (positions.containsKey(u)) {
                count++;
            }
        }
        return count > 0 && count < usable.size();
    }

    static boolean mustSkip(List<Upstream> usable, Set<Upstream> avoid) {
        if (avoid == null || avoid.isEmpty()) {
            return false;
        }
        boolean someAvoided = false;
        boolean someNot = false;
        for (int i = 0, n = usable.size(); i < n; i++) {
            if (avoid.contains(usable.get(i))) {
                someAvoided = true;
            } else {
                someNot = true;
            }
            if (someAvoided && someNot) {
                return true;
            }
        }
        return false;
    }

    /**
     * The weight a balancer uses for {@code u}: its {@link Upstream#effectiveWeight()}, with anything
     * not positive and finite read as 0 (such a host only gets traffic when every candidate is at 0,
     * which can happen in panic mode, and then they share it evenly).
     */
    static double weight(Upstream u) {
        double w = u.effectiveWeight();
        return w > 0 && w < Double.POSITIVE_INFINITY ? w : 0;
    }
}
