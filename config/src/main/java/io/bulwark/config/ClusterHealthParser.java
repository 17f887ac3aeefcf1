package io.bulwark.config;

import com.typesafe.config.ConfigObject;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a cluster's three health policies: active health checks, passive outlier detection
 * and the circuit breaker. Cross-field rules live here too (max-ejection-time is at least
 * base-ejection-time; readmit = probe needs active checks to probe with).
 * {@code outlier-detection.latency} is optional (absent = off); a block that is written takes the
 * reference defaults for the keys it leaves out.
 */
final class ClusterHealthParser {

    private static final List<String> HEALTH_CHECK_KEYS = List.of(
            "path", "interval", "timeout", "unhealthy-threshold", "healthy-threshold", "transition-interval",
            "grpc-service");
    private static final List<String> OUTLIER_KEYS = List.of(
            "consecutive-5xx", "consecutive-gateway-failure", "success-rate", "failure-percentage", "interval",
            "base-ejection-time", "max-ejection-time", "max-ejection-percent", "readmit", "readmit-guard", "latency");
    private static final List<String> LATENCY_KEYS = List.of(
            "threshold", "factor", "window", "request-volume", "minimum-hosts");
    /** The latency window is kept in one-second slices, so it is whole seconds; and bounded, as it costs memory. */
    private static final Duration MAX_LATENCY_WINDOW = Duration.ofSeconds(60);
    private static final List<String> SUCCESS_RATE_KEYS = List.of("minimum-hosts", "request-volume", "stdev-factor");
    private static final List<String> FAILURE_PERCENTAGE_KEYS = List.of("threshold", "minimum-hosts", "request-volume");
    private static final List<String> CIRCUIT_BREAKER_KEYS = List.of(
            "enabled", "failure-rate-threshold", "slow-call-duration", "slow-call-rate-threshold",
            "sliding-window-type", "sliding-window-duration", "sliding-window-size", "minimum-calls", "wait-in-open",
            "half-open-calls");

    /** In a fixed order, because the order shows up in messages. */
    private static final Map<String, OutlierDetectionConfig.Readmit> READMIT = new LinkedHashMap<>();

    static {
        READMIT.put("timer", OutlierDetectionConfig.Readmit.TIMER);
        READMIT.put("probe", OutlierDetectionConfig.Readmit.PROBE);
    }

    private static final Map<String, CircuitBreakerConfig.WindowType> WINDOW_TYPES = new LinkedHashMap<>();

    static {
        WINDOW_TYPES.put("time", CircuitBreakerConfig.WindowType.TIME);
        WINDOW_TYPES.put("count", CircuitBreakerConfig.WindowType.COUNT);
    }

    private static final int MAX = Integer.MAX_VALUE;

    private ClusterHealthParser() {
    }

    static HealthCheckConfig healthCheck(ConfigReader h) {
        h.rejectUnknownKeys(HEALTH_CHECK_KEYS);
        ConfigReader.Slot pathSlot = h.slot("path");
        String path = h.string(pathSlot, "a path starting with \"/\"").orElse("/");
        if (!RouteMatchParser.isRequestPath(path)) {
            h.problemAt(pathSlot, ConfigReader.render(pathSlot.value())
                    + " (expected: a path starting with \"/\", without spaces or control characters)");
        }
        // null (the default) = an HTTP check of path; a string, even "", = the gRPC health check for that service
        Optional<String> grpcService = h.optionalString("grpc-service", "a gRPC service name, or \"\" for the whole server");
        return new HealthCheckConfig(
                path,
                h.positiveDuration("interval"),
                h.positiveDuration("timeout"),
                h.integer("unhealthy-threshold", 1, MAX),
                h.integer("healthy-threshold", 1, MAX),
                h.positiveDuration("transition-interval"),
                grpcService);
    }

    /**
     * @param latencyDefaults the reference defaults of a written {@code latency} block
     */
    static OutlierDetectionConfig outlierDetection(ConfigReader o, boolean hasHealthCheck, ConfigObject latencyDefaults) {
        o.rejectUnknownKeys(OUTLIER_KEYS);
        int consecutive5xx = o.integer("consecutive-5xx", 1, MAX);
        int consecutiveGatewayFailure = o.integer("consecutive-gateway-failure", 1, MAX);

        ConfigReader sr = o.object("success-rate");
        sr.rejectUnknownKeys(SUCCESS_RATE_KEYS);
        var successRate = new OutlierDetectionConfig.SuccessRateConfig(
                sr.integer("minimum-hosts", 1, MAX), sr.integer("request-volume", 1, MAX), sr.positiveNumber("stdev-factor"));

        ConfigReader fp = o.object("failure-percentage");
        fp.rejectUnknownKeys(FAILURE_PERCENTAGE_KEYS);
        var failurePercentage = new OutlierDetectionConfig.FailurePercentageConfig(
                fp.percent("threshold"), fp.integer("minimum-hosts", 1, MAX), fp.integer("request-volume", 1, MAX));

        Duration interval = o.positiveDuration("interval");
        Duration baseEjection = o.positiveDuration("base-ejection-time");
        ConfigReader.Slot maxSlot = o.slot("max-ejection-time");
        Duration maxEjection = o.positiveDuration("max-ejection-time");
        if (!baseEjection.isZero() && !maxEjection.isZero() && maxEjection.compareTo(baseEjection) < 0) {
            o.problemAt(maxSlot, ConfigReader.render(maxSlot.value())
                    + " (expected: a duration >= base-ejection-time, which is " + ConfigJson.duration(baseEjection) + ")");
        }
        double maxEjectionPercent = o.percent("max-ejection-percent");

        ConfigReader.Slot readmitSlot = o.slot("readmit");
        var readmit = o.choice("readmit", READMIT, OutlierDetectionConfig.Readmit.TIMER);
        if (readmit == OutlierDetectionConfig.Readmit.PROBE && !hasHealthCheck) {
            o.problemAt(readmitSlot, "probe needs a health-check in this cluster (expected: add a health-check block, or readmit = timer)");
        }
        Duration readmitGuard = o.duration("readmit-guard");
        Optional<OutlierDetectionConfig.LatencyConfig> latency = o.optionalObject("latency")
                .map(l -> latency(l.withDefaults(latencyDefaults)));
        return new OutlierDetectionConfig(consecutive5xx, consecutiveGatewayFailure, successRate, failurePercentage,
                interval, baseEjection, maxEjection, maxEjectionPercent, readmit, readmitGuard, latency);
    }

    private static OutlierDetectionConfig.LatencyConfig latency(ConfigReader l) {
        l.rejectUnknownKeys(LATENCY_KEYS);
        Duration threshold = l.positiveDuration("threshold");
        double factor = l.positiveNumber("factor");
        ConfigReader.Slot windowSlot = l.slot("window");
        Duration window = l.positiveDuration("window");
        if (!window.isZero() && (window.toNanos() % 1_000_000_000L != 0 || window.compareTo(MAX_LATENCY_WINDOW) > 0)) {
            l.problemAt(windowSlot, ConfigReader.render(windowSlot.value())
                    + " (expected: a whole number of seconds from 1s to 60s, e.g. 5s)");
        }
        return new OutlierDetectionConfig.LatencyConfig(threshold, factor, window,
                l.integer("request-volume", 1, MAX), l.integer("minimum-hosts", 1, MAX));
    }

    static CircuitBreakerConfig circuitBreaker(ConfigReader cb) {
        cb.rejectUnknownKeys(CIRCUIT_BREAKER_KEYS);
        // Resilience4j rejects a 0% threshold; checking here turns its exception into a config error.
        boolean enabled = cb.bool("enabled");
        double failureRate = cb.positivePercent("failure-rate-threshold");
        Duration slowCall = cb.positiveDuration("slow-call-duration");
        double slowCallRate = cb.positivePercent("slow-call-rate-threshold");
        var windowType = cb.choice("sliding-window-type", WINDOW_TYPES, CircuitBreakerConfig.WindowType.TIME);
        ConfigReader.Slot durationSlot = cb.slot("sliding-window-duration");
        Duration windowDuration = cb.positiveDuration("sliding-window-duration");
        // Resilience4j counts a time-based window in whole seconds.
        if (windowDuration.toNanos() % 1_000_000_000L != 0 && !windowDuration.isZero()) {
            cb.problemAt(durationSlot, ConfigReader.render(durationSlot.value())
                    + " (expected: a whole number of seconds, e.g. 10s)");
        }
        return new CircuitBreakerConfig(
                enabled,
                failureRate,
                slowCall,
                slowCallRate,
                windowType,
                windowDuration,
                cb.integer("sliding-window-size", 1, MAX),
                cb.integer("minimum-calls", 1, MAX),
                cb.positiveDuration("wait-in-open"),
                cb.integer("half-open-calls", 1, MAX));
    }
}
