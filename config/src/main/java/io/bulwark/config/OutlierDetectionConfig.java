package io.bulwark.config;

import java.time.Duration;

/**
 * Passive outlier detection with Envoy's semantics.
 *
 * @param maxEjectionPercent an ejection is allowed while the ejected share is below this percent
 *     (at least one host can always be ejected)
 */
public record OutlierDetectionConfig(
        int consecutive5xx,
        int consecutiveGatewayFailure,
        SuccessRateConfig successRate,
        FailurePercentageConfig failurePercentage,
        Duration interval,
        Duration baseEjectionTime,
        Duration maxEjectionTime,
        double maxEjectionPercent,
        Readmit readmit) {

    /** How an ejected host comes back: when its ejection time is over, or only after active checks pass. */
    public enum Readmit { TIMER, PROBE }

    public record SuccessRateConfig(int minimumHosts, int requestVolume, double stdevFactor) {
    }

    public record FailurePercentageConfig(double threshold, int minimumHosts, int requestVolume) {
    }
}
