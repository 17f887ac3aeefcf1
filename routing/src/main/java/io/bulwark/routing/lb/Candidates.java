package io.bulwark.routing.lb;

import io.bulwark.routing.Upstream;

import java.util.List;
import java.util.Set;

/**
 * The hosts a balancer may pick from for one try: the usable ones not in {@code avoid}, or every
 * usable one when {@code avoid} covers them all (a retry then goes back to a tried host rather than
 * nowhere). Each balancer owns one and reuses it for every pick, so selecting never allocates once
 * its buffer has grown to the cluster's size; with nothing to avoid it is just a view of the list.
 */
final class Candidates {

    private List<Upstream> usable = List.of();
    private Upstream[] filtered = new Upstream[8];
    private boolean isFiltered;
    private int size;

    /** Selects the candidates for one try; returns this for chaining. */
    Candidates select(List<Upstream> usable, Set<Upstream> avoid) {
        this.usable = usable;
        this.isFiltered = false;
        this.size = usable.size();
        if (avoid == null || avoid.isEmpty() || size == 0) {
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

    int size() {
        return size;
    }

    Upstream get(int index) {
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
