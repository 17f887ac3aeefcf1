package io.bulwark.routing.health;

import io.bulwark.routing.Upstream;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * Sends one health check to an upstream; the proxy implements it with Netty ({@code GET path}
 * over a kept-alive connection per upstream, honouring the cluster's TLS setting).
 */
@FunctionalInterface
public interface Prober {

    /**
     * Starts a check of {@code upstream} and returns at once (never blocks). Calls {@code done}
     * exactly once, from any thread, with the status of the response or how the check failed; it
     * should give up (and free its connection) after {@code timeout}. A result later than
     * {@code timeout} is ignored: the scheduler has then already counted a
     * {@link ProbeResult#timeout()}.
     */
    void probe(Upstream upstream, String path, Duration timeout, Consumer<ProbeResult> done);

    /**
     * The check of {@code upstream} in flight ran out of time and has been counted as a timeout: the
     * prober drops it and frees what it holds for it (a connection with a request outstanding cannot
     * be reused), so the next check starts clean. Called on the scheduler's timer.
     */
    default void timedOut(Upstream upstream) {
    }

    /** {@code upstream} is no longer checked (removed, or the scheduler closed): free what is kept for it. */
    default void release(Upstream upstream) {
    }
}
