package io.bulwark.routing.health;

import io.bulwark.routing.ManualClock;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A {@link DelayScheduler} on a {@link ManualClock}: tasks run only inside {@link #advance}, in due
 * order, on the test's thread.
 */
public final class ManualScheduler implements DelayScheduler {

    private final ManualClock clock;
    private final List<Task> tasks = new ArrayList<>();
    private long sequence;

    public ManualScheduler(ManualClock clock) {
        this.clock = clock;
    }

    private final class Task implements Cancellable {
        final long due;
        final long order = sequence++;
        final Runnable runnable;
        boolean cancelled;

        Task(long due, Runnable runnable) {
            this.due = due;
            this.runnable = runnable;
        }

        @Override
        public void cancel() {
            cancelled = true;
            tasks.remove(this);
        }
    }

    @Override
    public Cancellable schedule(Runnable task, long delayNanos) {
        Task t = new Task(clock.nanoTime() + delayNanos, task);
        tasks.add(t);
        return t;
    }

    /** Runs what is due now (including tasks due now that those schedule). */
    public void runDue() {
        advance(Duration.ZERO);
    }

    /** Moves time forward, stopping at each task's due time to run it. */
    public void advance(Duration duration) {
        long end = clock.nanoTime() + duration.toNanos();
        while (true) {
            Task next = tasks.stream()
                    .filter(t -> t.due - end <= 0)
                    .min(Comparator.<Task>comparingLong(t -> t.due - end).thenComparingLong(t -> t.order))
                    .orElse(null);
            if (next == null) {
                break;
            }
            tasks.remove(next);
            long wait = next.due - clock.nanoTime();
            if (wait > 0) {
                clock.advance(Duration.ofNanos(wait));
            }
            next.runnable.run();
        }
        long rest = end - clock.nanoTime();
        if (rest > 0) {
            clock.advance(Duration.ofNanos(rest));
        }
    }

    /** Tasks waiting to run. */
    public int pending() {
        return tasks.size();
    }
}
