package io.bulwark.routing.limits;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/** One unit of a counter, given back on the first {@link #close()}. */
final class CounterSlot implements Permit {

    private static final AtomicIntegerFieldUpdater<CounterSlot> CLOSED =
            AtomicIntegerFieldUpdater.newUpdater(CounterSlot.class, "closed");

    private final AtomicInteger counter;
    private volatile int closed;

    CounterSlot(AtomicInteger counter) {
        this.counter = counter;
    }

    @Override
    public void close() {
        if (CLOSED.compareAndSet(this, 0, 1)) {
            counter.decrementAndGet();
        }
    }
}
