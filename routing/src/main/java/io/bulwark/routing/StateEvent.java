package io.bulwark.routing;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One state transition of an upstream, as the admin API's {@code GET /api/v1/events} shows it.
 *
 * @param timeMillis wall-clock time of the transition ({@link Clock#currentTimeMillis()})
 * @param type what happened: {@code "ejected"}, {@code "unejected"}, {@code "recovered"}, ...
 * @param from the state before, e.g. {@code "eligible"}
 * @param to the state after, e.g. {@code "ejected"}
 * @param reason why, e.g. {@code "consecutive_5xx"} or {@code "ejection_expired"}
 * @param detail the numbers behind the decision (the thresholds in force, the measured rates), in a
 *     stable order; values are numbers or strings
 */
public record StateEvent(long timeMillis, String type, String cluster, String upstream, String from, String to,
                         String reason, Map<String, Object> detail) {

    public StateEvent {
        detail = Collections.unmodifiableMap(new LinkedHashMap<>(detail));
    }
}
