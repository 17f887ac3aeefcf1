package io.bulwark.routing.outlier;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * One upstream's recent times to response head, for the latency detector: a histogram per
 * one-second slice over the last {@code window} slices, from which the detector reads a percentile.
 * Buckets are log-linear, eight per power of two of microseconds (HdrHistogram's layout with three
 * significant bits), so a percentile is known to within 1/16 of its value; times from 2^26 µs (about
 * 67 s) up share the last bucket.
 *
 * <p>{@link #record} is the data plane's, lock-free: one atomic increment in the open slice.
 * {@link #closeSlice}, {@link #count}, {@link #percentileNanos} and {@link #clear} are the detector's,
 * under its lock. Closing takes each bucket's count with {@code getAndSet(0)}, so a time recorded while
 * a slice closes lands in this slice or the next, never nowhere. A window of n seconds costs about
 * (n + 3) x 800 bytes per upstream, and only when the detector is on.
 */
final class LatencyWindow {

    private static final int SUB_BITS = 3;
    private static final int SUB = 1 << SUB_BITS;
    private static final int MAX_EXPONENT = 26;
    static final int BUCKETS = SUB + (MAX_EXPONENT - SUB_BITS + 1) * SUB;

    private final AtomicIntegerArray open = new AtomicIntegerArray(BUCKETS);
    /** Closed slices, a ring: {@code slices[next]} is the oldest, replaced at the next close. */
    private final int[][] slices;
    private final long[] sliceCounts;
    /** Per bucket, the sum over the closed slices. */
    private final long[] window = new long[BUCKETS];
    private long count;
    private int next;

    /** @param seconds the window, in one-second slices (at least one) */
    LatencyWindow(int seconds) {
        this.slices = new int[Math.max(1, seconds)][BUCKETS];
        this.sliceCounts = new long[slices.length];
    }

    /** A try's time to response head (or a lower bound of it). Lock-free. */
    void record(long nanos) {
        open.incrementAndGet(bucket(nanos));
    }

    /** Closes the open slice into the window, dropping the oldest. Once a second, by the detector. */
    void closeSlice() {
        int[] slice = slices[next];
        if (sliceCounts[next] > 0) {
            for (int i = 0; i < BUCKETS; i++) {
                window[i] -= slice[i];
            }
            count -= sliceCounts[next];
        }
        long added = 0;
        for (int i = 0; i < BUCKETS; i++) {
            int v = open.get(i) == 0 ? 0 : open.getAndSet(i, 0);
            slice[i] = v;
            window[i] += v;
            added += v;
        }
        sliceCounts[next] = added;
        count += added;
        next = (next + 1) % slices.length;
    }

    /** Times recorded in the closed slices of the window. */
    long count() {
        return count;
    }

    /** The {@code q}-quantile (0 < q <= 1) of the window, to within 1/16; 0 when it is empty. */
    long percentileNanos(double q) {
        if (count == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(q * count));
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += window[i];
            if (seen >= rank) {
                return valueNanos(i);
            }
        }
        return valueNanos(BUCKETS - 1);
    }

    /** Forgets everything: a readmitted host starts afresh, not with the times that got it ejected. */
    void clear() {
        for (int i = 0; i < BUCKETS; i++) {
            if (open.get(i) != 0) {
                open.getAndSet(i, 0);
            }
            window[i] = 0;
        }
        for (int[] slice : slices) {
            Arrays.fill(slice, 0);
        }
        Arrays.fill(sliceCounts, 0);
        count = 0;
    }

    static int bucket(long nanos) {
        long micros = Math.max(0, nanos / 1_000);
        if (micros < SUB) {
            return (int) micros;
        }
        int exponent = 63 - Long.numberOfLeadingZeros(micros);
        if (exponent > MAX_EXPONENT) {
            return BUCKETS - 1;
        }
        int sub = (int) (micros >>> (exponent - SUB_BITS)) & (SUB - 1);
        return SUB + (exponent - SUB_BITS) * SUB + sub;
    }

    /** The middle of bucket {@code i}, in nanoseconds. */
    static long valueNanos(int i) {
        if (i < SUB) {
            return i * 1_000L;
        }
        int exponent = (i - SUB) / SUB + SUB_BITS;
        int sub = (i - SUB) % SUB;
        long width = 1L << (exponent - SUB_BITS);
        long lower = (SUB + sub) * width;
        return (lower + width / 2) * 1_000L;
    }
}
