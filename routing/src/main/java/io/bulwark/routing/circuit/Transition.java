package io.bulwark.routing.circuit;

import io.bulwark.routing.StateEvent;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A circuit breaker changed state.
 *
 * @param cluster the cluster whose breaker it is
 * @param from the state before: {@code closed}, {@code open} or {@code half_open}
 * @param to the state after
 * @param reason why: {@code failure_rate} or {@code slow_call_rate} (closed to open),
 *     {@code wait_in_open_elapsed} (open to half-open), {@code half_open_calls_succeeded} or
 *     {@code half_open_calls_failed} (out of half-open)
 * @param timeMillis when, as {@link io.bulwark.routing.Clock#currentTimeMillis()}
 * @param failureRate the failure rate in percent in the window the breaker judged by (0 when it had
 *     not seen minimum-calls calls)
 * @param slowCallRate the slow-call rate in percent, likewise
 * @param failureRateThreshold the configured failure-rate threshold
 * @param slowCallRateThreshold the configured slow-call-rate threshold
 * @param calls the requests in the window the breaker judged by
 * @param failedCalls of those, the failed ones
 * @param slowCalls of those, the slow ones
 * @param eligibleUpstreams on a transition to open, how many upstreams of the cluster were still
 *     eligible (-1 when not known or not an opening)
 */
public record Transition(String cluster, String from, String to, String reason, long timeMillis,
                         double failureRate, double slowCallRate, double failureRateThreshold,
                         double slowCallRateThreshold, int calls, int failedCalls, int slowCalls,
                         int eligibleUpstreams) {

    /** The event type in the admin API's event log. */
    public static final String EVENT_TYPE = "circuit_breaker";

    /** The event published beside an opening while the cluster still had eligible upstreams. */
    public static final String OPEN_WITH_ELIGIBLE_EVENT_TYPE = "circuit_open_with_eligible_upstreams";

    /** Whether the breaker opened while some upstreams were still eligible: worth a WARN and an event. */
    public boolean openedWithEligibleUpstreams() {
        return "open".equals(to) && eligibleUpstreams > 0;
    }

    /** The WARN-worthy event of {@link #openedWithEligibleUpstreams()}, naming what the breaker judged. */
    public StateEvent toOpenWithEligibleEvent() {
        Map<String, Object> detail = counts();
        detail.put("eligible_upstreams", eligibleUpstreams);
        return new StateEvent(timeMillis, OPEN_WITH_ELIGIBLE_EVENT_TYPE, cluster, null, from, to, reason, detail);
    }

    private Map<String, Object> counts() {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("failure_rate", failureRate);
        detail.put("failure_rate_threshold", failureRateThreshold);
        detail.put("slow_call_rate", slowCallRate);
        detail.put("slow_call_rate_threshold", slowCallRateThreshold);
        detail.put("calls", calls);
        detail.put("failed_calls", failedCalls);
        detail.put("slow_calls", slowCalls);
        return detail;
    }

    /** This transition as an event-log entry (no upstream: the breaker is the cluster's). */
    public StateEvent toEvent() {
        Map<String, Object> detail = counts();
        if (eligibleUpstreams >= 0) {
            detail.put("eligible_upstreams", eligibleUpstreams);
        }
        return new StateEvent(timeMillis, EVENT_TYPE, cluster, null, from, to, reason, detail);
    }
}
