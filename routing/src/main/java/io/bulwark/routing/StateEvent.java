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
 * @param source who made the change: {@code local} (an operator on this sidecar, its TTLs and state
 *     file), {@code fleet} (an operator's fleet-wide override, through Redis), {@code detector}
 *     (outlier detection, circuit breakers, adaptive limits, panic), {@code health-check} or
 *     {@code config} (reloads and versions)
 */
public record StateEvent(long timeMillis, String type, String cluster, String upstream, String from, String to,
                         String reason, Map<String, Object> detail, String source) {

    public static final String LOCAL = "local";
    public static final String FLEET = "fleet";
    public static final String DETECTOR = "detector";
    public static final String HEALTH_CHECK = "health-check";
    public static final String CONFIG = "config";

    public StateEvent {
        detail = Collections.unmodifiableMap(new LinkedHashMap<>(detail));
        if (source == null) {
            source = sourceOf(type, reason);
        }
    }

    /** An event whose source follows from its type ({@link #sourceOf}). */
    public StateEvent(long timeMillis, String type, String cluster, String upstream, String from, String to,
                      String reason, Map<String, Object> detail) {
        this(timeMillis, type, cluster, upstream, from, to, reason, detail, null);
    }

    /** The source of an event by its type: the detectors', health checks' and config's own types, else local. */
    static String sourceOf(String type, String reason) {
        return switch (type) {
            case "ejected", "unejected", "recovered", "adaptive_limit", "panic_entered", "panic_left",
                 "circuit_breaker", "circuit_open_with_eligible_upstreams" -> DETECTOR;
            case "health_flip" -> HEALTH_CHECK;
            case "reload", "config_version", "config_rollback" -> CONFIG;
            default -> LOCAL;
        };
    }
}
