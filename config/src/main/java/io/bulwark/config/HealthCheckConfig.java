package io.bulwark.config;

import java.time.Duration;

/**
 * Active HTTP health checks: GET {@code path} every {@code interval}, with thresholds for flipping state.
 *
 * @param transitionInterval the wait between checks while a decision is underway (some but not all of
 *        the checks that flip the upstream, or that readmit an ejected one by probe, have come in),
 *        when shorter than {@code interval}: HAProxy's {@code fastinter}
 */
public record HealthCheckConfig(
        String path, Duration interval, Duration timeout, int unhealthyThreshold, int healthyThreshold,
        Duration transitionInterval) {

    public static final Duration DEFAULT_TRANSITION_INTERVAL = Duration.ofMillis(100);

    /** With the default {@code transition-interval}. */
    public HealthCheckConfig(String path, Duration interval, Duration timeout, int unhealthyThreshold,
                             int healthyThreshold) {
        this(path, interval, timeout, unhealthyThreshold, healthyThreshold, DEFAULT_TRANSITION_INTERVAL);
    }
}
