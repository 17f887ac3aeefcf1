package io.bulwark.proxy.reload;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Request counts, 5xx counts and a latency histogram of some requests: what a route's error rate
 * and p90 are computed from. Thread-safe for many recorders; a read is a consistent-enough sum.
 * The histogram has log buckets of factor 1.25 from 1ms (about 25% resolution, up to ~36s).
 */
final class Outcomes {

    static final int BUCKETS = 48;
    private static final double FACTOR = 1.25;
    private static final long[] UPPER_NANOS = new long[BUCKETS];

    static {
        double bound = 1_000_000; // 1ms
        for (int i = 0; i < BUCKETS; i++) {
            UPPER_NANOS[i] = (long) bound;
            bound *= FACTOR;
        }
    }

    private static final int REQUESTS = 0;
    private static final int ERRORS = 1;
    private static final int HISTOGRAM = 2;

    private final AtomicLongArray counts = new AtomicLongArray(HISTOGRAM + BUCKETS);

    void record(int status, long nanos) {
        counts.incrementAndGet(REQUESTS);
        if (status >= 500) {
            counts.incrementAndGet(ERRORS);
        }
        counts.incrementAndGet(HISTOGRAM + bucket(nanos));
    }

    void reset() {
        for (int i = 0; i < counts.length(); i++) {
            counts.set(i, 0);
        }
    }

    /** Adds this one's counts to {@code into} (an array of {@link #BUCKETS} + 2: requests, errors, histogram). */
    void addTo(long[] into) {
        for (int i = 0; i < into.length; i++) {
            into[i] += counts.get(i);
        }
    }

    static long[] empty() {
        return new long[HISTOGRAM + BUCKETS];
    }

    /** The figures of summed counts. */
    static Figures figures(long[] sum) {
        long requests = sum[REQUESTS];
        long p90 = 0;
        if (requests > 0) {
            long rank = (long) Math.ceil(requests * 0.9);
            long seen = 0;
            for (int i = 0; i < BUCKETS; i++) {
                seen += sum[HISTOGRAM + i];
                if (seen >= rank) {
                    p90 = UPPER_NANOS[i];
                    break;
                }
            }
        }
        return new Figures(requests, sum[ERRORS], p90);
    }

    private static int bucket(long nanos) {
        for (int i = 0; i < BUCKETS - 1; i++) {
            if (nanos <= UPPER_NANOS[i]) {
                return i;
            }
        }
        return BUCKETS - 1;
    }

    /**
     * @param p90Nanos the upper bound of the histogram bucket holding the 90th percentile; 0 without requests
     */
    record Figures(long requests, long errors, long p90Nanos) {

        static final Figures NONE = new Figures(0, 0, 0);

        /** 5xx as a percentage of requests; 0 without requests. */
        double errorRatePercent() {
            return requests == 0 ? 0 : 100.0 * errors / requests;
        }

        double p90Millis() {
            return p90Nanos / 1_000_000.0;
        }
    }
}
