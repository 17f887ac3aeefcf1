package io.bulwark.routing.lb;

import io.bulwark.config.HashKey;
import io.bulwark.routing.HostSet;
import io.bulwark.routing.RequestView;
import io.bulwark.routing.Upstream;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Consistent hashing on a Ketama-style ring, for session affinity and cache locality: requests
 * with the same key ({@code header:NAME}, {@code cookie:NAME} or {@code client-ip}) go to the same
 * upstream while the host set stays the same, and when a host leaves only its keys move.
 *
 * <h2>The ring</h2>
 * Each usable host gets {@value #POINTS_PER_UNIT_WEIGHT} points per unit of weight relative to the
 * lightest host (so 160 each when weights are equal), each at
 * {@code xxHash64("<address>_<i>")}. A key goes to the owner of the first point at or after
 * {@code xxHash64(key)}, wrapping around. A host's points depend only on its address and that
 * ratio, never on how many other hosts there are, so removing a host moves exactly the keys it
 * held and adding one moves only the keys it takes over (about 1/N). Because points come from
 * the address, every Bulwark replica maps a key to the same upstream. If the ring would exceed
 * {@value #MAX_RING_POINTS} points (very uneven weights) every host's count is scaled down in
 * proportion, at the cost of that guarantee while the scaling applies.
 *
 * <p>The ring is built once per distinct usable host list: a new {@link HostSet} snapshot with the
 * same hosts (by identity) and weights reuses it. A weight that changes without a new snapshot
 * (slow start) is therefore picked up at the next snapshot, not continuously.
 *
 * <h2>Misses and retries</h2>
 * A request without the key (or with an empty one) goes to a random point on the ring, i.e. a
 * weighted random host. Avoided hosts are passed over by walking the ring forward to the next
 * point of a host not avoided, so a retry for the same key always lands on the same second choice.
 */
public final class RingHashLoadBalancer implements LoadBalancer {

    /** Ring points of a host with the smallest weight. */
    static final int POINTS_PER_UNIT_WEIGHT = 160;

    /** Upper bound on ring size (a ring lives per event loop, at 12 bytes a point). */
    static final int MAX_RING_POINTS = 1 << 16;

    private final HashKey hashKey;
    private final RandomGenerator random;
    private final XxHash64 hasher = new XxHash64();
    private final Candidates candidates = new Candidates();

    /** The usable list the ring was built for, and its hosts and weights then, to detect real changes. */
    private List<Upstream> ringFor = null;
    private Upstream[] builtHosts = new Upstream[0];
    private double[] builtWeights = new double[0];
    private long[] pointHashes = new long[0];
    private Upstream[] pointHosts = new Upstream[0];
    private int builds;

    public RingHashLoadBalancer(HashKey hashKey) {
        this(hashKey, ThreadLocalRandomGenerator.INSTANCE);
    }

    /** @param random where keyless requests land; tests pass a seeded one */
    public RingHashLoadBalancer(HashKey hashKey, RandomGenerator random) {
        this.hashKey = hashKey;
        this.random = random;
    }

    @Override
    public Upstream choose(HostSet hostSet, RequestView request, Set<Upstream> avoid) {
        List<Upstream> usable = hostSet.usable();
        if (usable.isEmpty()) {
            return null;
        }
        if (usable != ringFor) {
            ensureRing(usable);
        }
        String key = keyOf(request);
        long point = key == null || key.isEmpty() ? random.nextLong() : hasher.hash(key);
        int index = ceilingIndex(point);
        if (!candidates.mustSkipIndexed(usable, avoid)) {
            return pointHosts[index];
        }
        for (int step = 0, n = pointHosts.length; step < n; step++) {
            Upstream u = pointHosts[index + step < n ? index + step : index + step - n];
            if (!avoid.contains(u)) {
                return u;
            }
        }
        // Every host on the ring is avoided; a usable one not avoided has no points (weight 0 in panic).
        for (Upstream u : usable) {
            if (!avoid.contains(u)) {
                return u;
            }
        }
        return pointHosts[index];
    }

    private String keyOf(RequestView request) {
        return switch (hashKey.source()) {
            case HEADER -> request.header(hashKey.name());
            case COOKIE -> request.cookie(hashKey.name());
            case CLIENT_IP -> request.clientIp();
        };
    }

    /** Index of the first point at or after {@code hash}, wrapping to 0 past the last. */
    private int ceilingIndex(long hash) {
        int low = 0;
        int high = pointHashes.length;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (pointHashes[mid] < hash) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low == pointHashes.length ? 0 : low;
    }

    private void ensureRing(List<Upstream> usable) {
        int n = usable.size();
        boolean same = n == builtHosts.length;
        for (int i = 0; same && i < n; i++) {
            Upstream u = usable.get(i);
            same = u == builtHosts[i] && Candidates.weight(u) == builtWeights[i];
        }
        if (!same) {
            build(usable);
        }
        ringFor = usable;
    }

    private void build(List<Upstream> usable) {
        int n = usable.size();
        Upstream[] hosts = usable.toArray(new Upstream[0]);
        double[] weights = new double[n];
        double lightest = Double.POSITIVE_INFINITY;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            weights[i] = Candidates.weight(hosts[i]);
            if (weights[i] > 0) {
                lightest = Math.min(lightest, weights[i]);
                sum += weights[i];
            }
        }
        double[] shares = weights.clone();
        if (sum <= 0) { // every host at weight 0 (panic): share evenly
            Arrays.fill(shares, 1);
            lightest = 1;
            sum = n;
        }
        double scale = Math.min(POINTS_PER_UNIT_WEIGHT / lightest, MAX_RING_POINTS / sum);

        int[] counts = new int[n];
        int total = 0;
        for (int i = 0; i < n; i++) {
            counts[i] = shares[i] > 0 ? Math.max(1, (int) Math.round(shares[i] * scale)) : 0;
            total += counts[i];
        }
        Point[] points = new Point[total];
        int p = 0;
        StringBuilder label = new StringBuilder();
        for (int i = 0; i < n; i++) {
            String address = hosts[i].address();
            for (int j = 0; j < counts[i]; j++) {
                label.setLength(0);
                label.append(address).append('_').append(j);
                points[p++] = new Point(hasher.hash(label), i, address);
            }
        }
        // Address breaks (astronomically rare) hash ties so the ring does not depend on list order.
        Arrays.sort(points, Comparator.comparingLong(Point::hash).thenComparing(Point::address));
        long[] hashes = new long[total];
        Upstream[] owners = new Upstream[total];
        for (int i = 0; i < total; i++) {
            hashes[i] = points[i].hash();
            owners[i] = hosts[points[i].host()];
        }
        builtHosts = hosts;
        builtWeights = weights;
        pointHashes = hashes;
        pointHosts = owners;
        builds++;
    }

    /** Number of ring points each of the current hosts holds; for tests and diagnostics. */
    int pointsOf(Upstream host) {
        int count = 0;
        for (Upstream u : pointHosts) {
            if (u == host) {
                count++;
            }
        }
        return count;
    }

    /** How many times this instance has built its ring; for tests. */
    int ringBuilds() {
        return builds;
    }

    private record Point(long hash, int host, String address) {
    }
}
