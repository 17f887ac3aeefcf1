package io.bulwark.routing.health;

import io.bulwark.routing.Clock;

import java.util.Arrays;

/**
 * The grid points with something due, for a {@link HealthCheckScheduler}: a ring of buckets and one
 * {@link DelayScheduler} timer for the nearest non-empty one. An item is filed under a grid point
 * (a check's start, a check's deadline); an item whose time has since moved (the check answered, the
 * upstream was removed) is still handed its old grid point and ignores it, so nothing is ever searched
 * for or cancelled. Starting 50 checks is one timer and a walk of one bucket, not 50 timers in the
 * event loop's queue plus 50 timeouts to cancel.
 *
 * <p>Grid point {@code t} is {@code origin + t * tick} on the clock. Thread-safe: filing takes the
 * wheel's lock; items are handed their grid point outside it, on the timer's thread.
 */
final class TimingWheel implements Runnable {

    /** Something filed under a grid point. */
    interface Timed {
        /** Grid point {@code tick}, under which this was filed, has come. */
        void onTick(long tick);
    }

    private final Bucket[] buckets;
    private final DelayScheduler timers;
    private final Clock clock;
    private final long originNanos;
    private final long tickNanos;
    /** The first grid point not yet handed out. */
    private long next = Long.MIN_VALUE;
    private long armedTick = Long.MAX_VALUE;
    private DelayScheduler.Cancellable armed;
    private boolean closed;
    /** What one firing hands out, and what it files again; reused. */
    private final Bucket firing = new Bucket();
    private final Bucket later = new Bucket();

    /** @param size grid points ahead the ring holds: more than the longest wait, in ticks */
    TimingWheel(int size, DelayScheduler timers, Clock clock, long originNanos, long tickNanos) {
        this.buckets = new Bucket[Math.max(4, size)];
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = new Bucket();
        }
        this.timers = timers;
        this.clock = clock;
        this.originNanos = originNanos;
        this.tickNanos = tickNanos;
    }

    /** The grid point nearest to {@code delayNanos} from now ({@code up}: the first at or after it). */
    long tickAfter(long delayNanos, boolean up) {
        long due = clock.nanoTime() + delayNanos - originNanos;
        return Math.floorDiv(due + (up ? tickNanos - 1 : tickNanos / 2), tickNanos);
    }

    /** Files {@code item} under grid point {@code tick} (under the next one to come, if that is past). */
    synchronized void add(Timed item, long tick) {
        if (closed) {
            return;
        }
        if (next == Long.MIN_VALUE) {
            next = tickAfter(0, false);
        }
        file(item, tick);
    }

    /**
     * Under the lock. A time beyond the ring (never, with the ring sized for the longest wait) is
     * filed in the ring's last bucket and filed again from there.
     */
    private void file(Timed item, long tick) {
        long at = Math.min(Math.max(tick, next), next + buckets.length - 1);
        buckets[(int) Math.floorMod(at, buckets.length)].add(item, tick);
        if (at < armedTick) {
            if (armed != null) {
                armed.cancel();
            }
            arm(at);
        }
    }

    private void arm(long tick) {
        armedTick = tick;
        armed = timers.schedule(this, Math.max(0, originNanos + tick * tickNanos - clock.nanoTime()));
    }

    /** The timer: hands out every item due by now, then arms for the nearest bucket still filled. */
    @Override
    public void run() {
        synchronized (this) {
            armed = null;
            armedTick = Long.MAX_VALUE;
            if (closed) {
                return;
            }
            long now = tickAfter(0, false);
            long last = Math.min(now, next + buckets.length - 1);
            for (long t = next; t <= last; t++) {
                Bucket bucket = buckets[(int) Math.floorMod(t, buckets.length)];
                for (int i = 0; i < bucket.size; i++) {
                    (bucket.ticks[i] > now ? later : firing).add(bucket.items[i], bucket.ticks[i]);
                }
                bucket.clear();
            }
            next = last + 1;
            for (int i = 0; i < later.size; i++) {
                file(later.items[i], later.ticks[i]);
            }
            later.clear();
            for (long t = next; t < next + buckets.length && armed == null; t++) {
                if (buckets[(int) Math.floorMod(t, buckets.length)].size > 0) {
                    arm(t);
                }
            }
        }
        try {
            for (int i = 0; i < firing.size; i++) {
                firing.items[i].onTick(firing.ticks[i]);
            }
        } finally {
            firing.clear();
        }
    }

    /** Calls off the timer and forgets everything filed; later filings are ignored. */
    synchronized void close() {
        closed = true;
        if (armed != null) {
            armed.cancel();
            armed = null;
        }
        armedTick = Long.MAX_VALUE;
        for (Bucket bucket : buckets) {
            bucket.clear();
        }
    }

    /** Items and the grid point each was filed for; arrays that grow and are reused. */
    private static final class Bucket {
        Timed[] items = new Timed[8];
        long[] ticks = new long[8];
        int size;

        void add(Timed item, long tick) {
            if (size == items.length) {
                items = Arrays.copyOf(items, size * 2);
                ticks = Arrays.copyOf(ticks, size * 2);
            }
            items[size] = item;
            ticks[size++] = tick;
        }

        void clear() {
            Arrays.fill(items, 0, size, null);
            size = 0;
        }
    }
}
