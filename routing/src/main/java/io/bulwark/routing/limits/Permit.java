package io.bulwark.routing.limits;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A held slot (a request, a pending request or a retry in flight) that {@link #close()} gives back.
 * Closing twice is harmless, so the proxy can close from every path that ends a try (response,
 * failure, timeout, cancel) without double counting.
 */
public interface Permit extends AutoCloseable {

    /** Gives the slot back; idempotent. */
    @Override
    void close();

    /** A permit that decrements {@code counter} on its first close. */
    static Permit decrementing(AtomicInteger counter) {
        return new CounterSlot(counter);
    }
}
