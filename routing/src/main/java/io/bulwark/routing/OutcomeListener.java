package io.bulwark.routing;

/**
 * Receives what the data plane reports about one upstream, for a detector to decide on. Attached
 * to an {@link Upstream} by its cluster's outlier detector. Called on the event-loop threads that
 * forward requests, concurrently, so implementations record with atomics and never lock or block
 * on the common path.
 */
public interface OutcomeListener {

    /** The upstream answered with {@code status}. */
    void onResponse(int status);

    /** The try failed before a response arrived. */
    void onLocalFailure(FailureKind kind);

    /**
     * A try's time to response head, or a lower bound of it: the age of a try that timed out, or of
     * one cancelled because its hedge won. For latency detection only; comes alongside
     * {@link #onResponse} or {@link #onLocalFailure} for the same try, or alone for a cancelled one.
     */
    default void onLatency(long latencyNanos) {
    }

    /** Ignores everything; the listener of an upstream no detector watches. */
    OutcomeListener NONE = new OutcomeListener() {
        @Override
        public void onResponse(int status) {
        }

        @Override
        public void onLocalFailure(FailureKind kind) {
        }
    };
}
