package io.bulwark.config;

import java.time.Duration;

/** Active HTTP health checks: GET {@code path} every {@code interval}, with thresholds for flipping state. */
public record HealthCheckConfig(
        String path, Duration interval, Duration timeout, int unhealthyThreshold, int healthyThreshold) {
}
