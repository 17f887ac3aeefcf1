package io.bulwark.routing.retry;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A route's recent times to response head, for a hedge delay that adapts ({@code delay = p95}):
 * the last {@value #SIZE} tries in a ring, their p95 recomputed every {@value #RECOMPUTE_EVERY}
 * samples (and once at {@value #MIN_SAMPLES}). Recording is two atomic writes, from any event
 * loop; a recompute that races a write reads a sample of either age, which does not matter for a
 * percentile of a thousand.
 */
public final class RecentLatency {

    static final int SIZE = 1024;
    static final int RECOMPUTE_EVERY = 64;
    /** Below this many samples there is no p95 yet, and an adaptive hedge waits. */
    static final int MIN_SAMPLES = 20;

    private final AtomicLongArray ring = new AtomicLongArray(SIZE);
    private final AtomicLong count = new AtomicLong();
    private volatile long p95 = -1;

    /** One try's time from its start to its response head. */
    public void record(long nanos) {
        long n = count.getAndIncrement();
        ring.set((int) (n & (SIZE - 1)), nanos);
        long seen = n + 1;
        if (seen == MIN_SAMPLES || seen % RECOMPUTE_EVERY == 0) {
            recompute((int) Math.min(seen, SIZE));
        }
    }

    private void recompute(int samples) {
        long[] values = new long[samples];
        for (int i = 0; i < samples; i++) {
            values[i] = ring.get(i);
        }
        Arrays.sort(values);
        p95 = values[Math.max(0, (int) Math.ceil(samples * 0.95) - 1)];
    }

    /** The recent p95 in nanoseconds, or -1 while fewer than {@value #MIN_SAMPLES} tries were seen. */
    public long p95Nanos() {
        return p95;
    }
}
