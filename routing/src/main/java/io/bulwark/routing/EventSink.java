package io.bulwark.routing;

/**
 * Where state machines report their transitions (outlier ejections and readmissions, recoveries),
 * for the admin API's event log and for metrics. Called on whatever thread made the transition,
 * event-loop threads included, so an implementation must be thread-safe and must never block
 * (append to a bounded buffer, bump a counter).
 */
@FunctionalInterface
public interface EventSink {

    void publish(StateEvent event);

    /** Drops every event. */
    EventSink NONE = event -> { };
}
