package io.bulwark.config;

import java.time.Duration;
import java.util.Optional;

/**
 * Passive outlier detection with Envoy's semantics, plus Bulwark's latency detector and the
 * anti-flap guard of probe readmission.
 *
 * @param maxEjectionPercent an ejection is allowed while the ejected share is below this percent
 *     (at least one host can always be ejected)
 * @param readmitGuard with {@code readmit = probe}: a host ejected again within this long after a probe
 *     readmitted it must wait out its ejection time before probes may readmit it again; zero = no guard
 * @param latency the latency detector; empty = off
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
        Readmit readmit,
        Duration readmitGuard,
        Optional<LatencyConfig> latency) {

    /** The built-in {@code readmit-guard}. */
    public static final Duration DEFAULT_READMIT_GUARD = Duration.ofSeconds(60);

    /** With the default readmit guard and no latency detector. */
    public OutlierDetectionConfig(int consecutive5xx, int consecutiveGatewayFailure, SuccessRateConfig successRate,
                                  FailurePercentageConfig failurePercentage, Duration interval,
                                  Duration baseEjectionTime, Duration maxEjectionTime, double maxEjectionPercent,
                                  Readmit readmit) {
        this(consecutive5xx, consecutiveGatewayFailure, successRate, failurePercentage, interval, baseEjectionTime,
                maxEjectionTime, maxEjectionPercent, readmit, DEFAULT_READMIT_GUARD, Optional.empty());
    }

    /** How an ejected host comes back: when its ejection time is over, or as soon as active checks pass. */
    public enum Readmit { TIMER, PROBE }

    public record SuccessRateConfig(int minimumHosts, int requestVolume, double stdevFactor) {
    }

    public record FailurePercentageConfig(double threshold, int minimumHosts, int requestVolume) {
    }

    /**
     * The latency detector, checked every second: a host whose p90 time to response head over
     * {@code window} is above {@code threshold} and above {@code factor} times the median host's p90
     * is ejected (reason {@code latency}).
     *
     * @param window whole seconds, 1s..60s
     * @param requestVolume tries a host needs in the window to take part
     * @param minimumHosts hosts that must take part for the check to run
     */
    public record LatencyConfig(Duration threshold, double factor, Duration window, int requestVolume,
                                int minimumHosts) {
    }
}
