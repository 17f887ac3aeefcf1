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
 *
 * <h2>Without a scan</h2>
 * Read literally the algorithm touches every host on every pick. While a snapshot's weights hold
 * still (no host ramping up under slow start, which the cluster answers with a new snapshot anyway)
 * the same sequence comes from a heap per distinct weight: every host of a group grows by the same
 * weight, so a group keeps one shared offset and each host only its current weight minus that
 * offset, ordered by (current weight, scan position). A pick compares the tops of the groups,
 * moves the offsets and sifts the winner down: {@code O(groups + log n)}. Weights are whole numbers
 * and the sums stay far below 2^53, so the doubles are exact and the sequence is the scan's to the
 * pick. Avoided hosts leave their heap for the pick and come back unchanged. While weights move
 * (slow start), with more than {@value #MAX_GROUPS} distinct weights, or when every candidate is at
 * weight 0, the balancer scans as the algorithm reads.
 */
public final class RoundRobinLoadBalancer implements LoadBalancer {

    /** Beyond this many distinct weights in one snapshot, picks scan. */
    static final int MAX_GROUPS = 16;
    /** Offsets are folded back into the hosts' values past this, keeping every value an exact integer. */
    private static final double RENORMALIZE_AT = 0x1p40;

    private final int startOffset;
    private List<Upstream> hosts = List.of();
    private final Map<Upstream, Integer> positions = new IdentityHashMap<>();
    private int start;
    /** Current weights; the truth while {@link #lazy} is false, and for hosts in no heap. */
    private double[] current = new double[0];
    /** Weights fixed at adoption; null when the snapshot's weights may move (slow start) or are too varied. */
    private double[] weights;
    /** True while the current weights of heap hosts live in {@link #groups} as value + group offset. */
    private boolean lazy;
    private Group[] groups = new Group[0];
    private int[] groupOf = new int[0];
    private double[] value = new double[0];
    private int[] heapIndex = new int[0];
    /** Avoided hosts taken out of their heaps for one pick, and their current weights; reused. */
    private int[] avoidedBuffer = new int[4];
    private double[] avoidedCurrentBuffer = new double[4];

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
        // Some but not all avoided: skip those; all avoided: a retry goes back to a tried host.
        boolean skip;
        if (positions.size() == n) {
            int avoided = avoidedCount(avoid);
            skip = avoided > 0 && avoided < n;
        } else {
            skip = Candidates.mustSkip(usable, avoid); // the same host twice in one list
        }
        if (weights != null) {
            int picked = pickFromHeaps(skip ? avoid : null);
            if (picked >= 0) {
                return usable.get(picked);
            }
        }
        return usable.get(scan(skip, avoid));
    }

    /** How many of {@code avoid} are in the current snapshot, without walking the snapshot. */
    private int avoidedCount(Set<Upstream> avoid) {
        if (avoid == null || avoid.isEmpty()) {
            return 0;
        }
        int count = 0;
        for (Upstream u : avoid) {
            if (positions.containsKey(u)) {
                count++;
            }
        }
        return count;
    }

    // ---- the algorithm as it reads: a scan over every host ----

    private int scan(boolean skip, Set<Upstream> avoid) {
        materialize();
        List<Upstream> usable = hosts;
        int n = usable.size();
        double positive = 0;
        for (int i = 0; i < n; i++) {
            Upstream u = usable.get(i);
            if (!(skip && avoid.contains(u))) {
                positive += weightOf(i);
            }
        }
        boolean uniform = positive <= 0; // every candidate at weight 0: rotate over them evenly

        double total = 0;
        int best = -1;
        for (int k = 0; k < n; k++) {
            int i = start + k < n ? start + k : start + k - n;
            Upstream u = usable.get(i);
            if (skip && avoid.contains(u)) {
                continue;
            }
            double w = uniform ? 1 : weightOf(i);
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
        return best;
    }

    private double weightOf(int i) {
        return weights != null ? weights[i] : Candidates.weight(hosts.get(i));
    }

    // ---- the same sequence from one heap per distinct weight ----

    /** The pick, or -1 when this one must scan (every candidate at weight 0). */
    private int pickFromHeaps(Set<Upstream> avoid) {
        if (!lazy) {
            buildHeaps();
        }
        int[] out = avoidedBuffer;
        double[] outCurrent = avoidedCurrentBuffer;
        int outCount = 0;
        if (avoid != null) {
            if (out.length < avoid.size()) {
                out = avoidedBuffer = new int[avoid.size()];
                outCurrent = avoidedCurrentBuffer = new double[avoid.size()];
            }
            for (Upstream u : avoid) {
                Integer i = positions.get(u);
                if (i != null && groupOf[i] >= 0) {
                    Group g = groups[groupOf[i]];
                    outCurrent[outCount] = value[i] + g.offset;
                    out[outCount++] = i;
                    g.remove(i);
                }
            }
        }
        double total = 0;
        for (Group g : groups) {
            total += g.weight * g.size;
        }
        if (total <= 0) {
            restore(out, outCurrent, outCount);
            return -1;
        }
        int best = -1;
        double bestCurrent = 0;
        for (Group g : groups) {
            if (g.size == 0) {
                continue;
            }
            int top = g.heap[0];
            double c = value[top] + g.offset + g.weight;
            if (best < 0 || c > bestCurrent || (c == bestCurrent && scanPosition(top) < scanPosition(best))) {
                best = top;
                bestCurrent = c;
            }
        }
        for (Group g : groups) {
            if (g.size > 0) {
                g.offset += g.weight;
            }
        }
        Group winner = groups[groupOf[best]];
        value[best] -= total;
        winner.siftDown(heapIndex[best]);
        restore(out, outCurrent, outCount);
        for (Group g : groups) {
            if (g.offset > RENORMALIZE_AT) {
                g.renormalize();
            }
        }
        return best;
    }

    /** Puts avoided hosts back with the current weight they had: they sat the pick out. */
    private void restore(int[] out, double[] outCurrent, int count) {
        for (int k = 0; k < count; k++) {
            int i = out[k];
            Group g = groups[groupOf[i]];
            value[i] = outCurrent[k] - g.offset;
            g.add(i);
        }
    }

    private int scanPosition(int i) {
        int n = hosts.size();
        return i >= start ? i - start : i - start + n;
    }

    private void buildHeaps() {
        for (Group g : groups) {
            g.size = 0;
            g.offset = 0;
        }
        for (int i = 0; i < groupOf.length; i++) {
            if (groupOf[i] >= 0) {
                value[i] = current[i];
                Group g = groups[groupOf[i]];
                heapIndex[i] = g.size;
                g.heap[g.size++] = i;
            }
        }
        for (Group g : groups) {
            for (int k = g.size / 2 - 1; k >= 0; k--) {
                g.siftDown(k);
            }
        }
        lazy = true;
    }

    /** Writes the heaps' current weights back into {@link #current}, for a scan or a new snapshot. */
    private void materialize() {
        if (!lazy) {
            return;
        }
        for (int i = 0; i < groupOf.length; i++) {
            if (groupOf[i] >= 0) {
                current[i] = value[i] + groups[groupOf[i]].offset;
            }
        }
        lazy = false;
    }

    /** Takes on a new snapshot, carrying each surviving host's current weight over by identity. */
    private void adopt(List<Upstream> usable) {
        materialize();
        int n = usable.size();
        double[] next = new double[n];
        for (int i = 0; i < n; i++) {
            Integer old = positions.get(usable.get(i));
            next[i] = old == null ? 0 : current[old];
        }
        positions.clear();
        for (int i = 0; i < n; i++) {
            positions.put(usable.get(i), i); // the last of a duplicated host carries over, as before
        }
        hosts = usable;
        current = next;
        start = startOffset % n;
        lazy = false;
        weights = steadyWeights(usable);
        if (weights != null && !group(n)) {
            weights = null;
        }
    }

    /** Sorts the hosts into groups by weight (no boxing: a short list of distinct weights); false past {@link #MAX_GROUPS}. */
    private boolean group(int n) {
        double[] distinct = new double[MAX_GROUPS];
        int[] sizes = new int[MAX_GROUPS];
        int count = 0;
        if (groupOf.length != n) {
            groupOf = new int[n];
            value = new double[n];
            heapIndex = new int[n];
        }
        for (int i = 0; i < n; i++) {
            double w = weights[i];
            if (w <= 0) {
                groupOf[i] = -1;
                continue;
            }
            int g = 0;
            while (g < count && distinct[g] != w) {
                g++;
            }
            if (g == count) {
                if (count == MAX_GROUPS) {
                    return false;
                }
                distinct[count++] = w;
            }
            groupOf[i] = g;
            sizes[g]++;
        }
        groups = new Group[count];
        for (int g = 0; g < count; g++) {
            groups[g] = new Group(distinct[g], sizes[g]);
        }
        return true;
    }

    /**
     * The snapshot's weights, if they hold still while it is in force: whole numbers, and no host
     * ramping up (a ramp ends or starts only with a new snapshot). Duplicates of one host (a test's
     * hand-made list) scan too, since identity then names two places.
     */
    private double[] steadyWeights(List<Upstream> usable) {
        int n = usable.size();
        if (positions.size() != n) {
            return null;
        }
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            Upstream u = usable.get(i);
            if (u.warmingUp()) {
                return null;
            }
            w[i] = Candidates.weight(u);
            if (w[i] != Math.rint(w[i]) || w[i] > 0x1p31) {
                return null;
            }
        }
        return w;
    }

    /** The hosts of one weight: a max-heap by (current weight, scan position) over a shared offset. */
    private final class Group {
        final double weight;
        final int[] heap;
        int size;
        double offset;

        Group(double weight, int capacity) {
            this.weight = weight;
            this.heap = new int[capacity];
        }

        /** True when host {@code a} beats host {@code b}: larger current weight, else earlier in the scan. */
        private boolean beats(int a, int b) {
            return value[a] > value[b] || (value[a] == value[b] && scanPosition(a) < scanPosition(b));
        }

        void add(int i) {
            heap[size] = i;
            heapIndex[i] = size;
            size++;
            siftUp(size - 1);
        }

        void remove(int i) {
            int at = heapIndex[i];
            int last = heap[--size];
            if (at != size) {
                heap[at] = last;
                heapIndex[last] = at;
                siftDown(at);
                siftUp(heapIndex[last]);
            }
        }

        void siftUp(int at) {
            int i = heap[at];
            while (at > 0) {
                int parent = (at - 1) >>> 1;
                if (!beats(i, heap[parent])) {
                    break;
                }
                heap[at] = heap[parent];
                heapIndex[heap[at]] = at;
                at = parent;
            }
            heap[at] = i;
            heapIndex[i] = at;
        }

        void siftDown(int at) {
            if (size == 0) {
                return;
            }
            int i = heap[at];
            while (true) {
                int child = 2 * at + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && beats(heap[child + 1], heap[child])) {
                    child++;
                }
                if (!beats(heap[child], i)) {
                    break;
                }
                heap[at] = heap[child];
                heapIndex[heap[at]] = at;
                at = child;
            }
            heap[at] = i;
            heapIndex[i] = at;
        }

        /** Folds the offset into the members' values; their order does not change. */
        void renormalize() {
            for (int k = 0; k < size; k++) {
                value[heap[k]] += offset;
            }
            offset = 0;
        }
    }
}
