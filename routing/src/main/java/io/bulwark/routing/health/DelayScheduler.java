package io.bulwark.routing.health;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a task after a delay. The proxy adapts an event loop ({@link #of(ScheduledExecutorService)});
 * tests drive a manual one, so no real thread is involved.
 */
@FunctionalInterface
public interface DelayScheduler {

    /** A scheduled task that can still be called off. */
    @FunctionalInterface
    interface Cancellable {
        /** Calls the task off if it has not run; harmless afterwards. */
        void cancel();
    }

    /** Runs {@code task} once after {@code delayNanos} (at once for 0); never blocks. */
    Cancellable schedule(Runnable task, long delayNanos);

    /** A scheduler over an executor, such as a Netty event loop. */
    static DelayScheduler of(ScheduledExecutorService executor) {
        return (task, delayNanos) -> {
            ScheduledFuture<?> future = executor.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
            return () -> future.cancel(false);
        };
    }
}
