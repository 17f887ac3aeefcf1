package io.bulwark.config;

import java.time.Duration;
import java.util.Optional;

/**
 * Active health checks: GET {@code path} every {@code interval} — or, with {@code grpc-service}
 * set, the standard gRPC health check {@code grpc.health.v1.Health/Check} for that service — with
 * thresholds for flipping state.
 *
 * @param transitionInterval the wait between checks while a decision is underway (some but not all of
 *        the checks that flip the upstream, or that readmit an ejected one by probe, have come in),
 *        when shorter than {@code interval}: HAProxy's {@code fastinter}
 * @param grpcService the service a gRPC health check asks about ("" = the server as a whole); empty
 *        for an HTTP check of {@code path}
 */
public record HealthCheckConfig(
        String path, Duration interval, Duration timeout, int unhealthyThreshold, int healthyThreshold,
        Duration transitionInterval, Optional<String> grpcService) {

    public static final Duration DEFAULT_TRANSITION_INTERVAL = Duration.ofMillis(100);

    /** An HTTP check. */
    public HealthCheckConfig(String path, Duration interval, Duration timeout, int unhealthyThreshold,
                             int healthyThreshold, Duration transitionInterval) {
        this(path, interval, timeout, unhealthyThreshold, healthyThreshold, transitionInterval, Optional.empty());
    }

    /** An HTTP check with the default {@code transition-interval}. */
    public HealthCheckConfig(String path, Duration interval, Duration timeout, int unhealthyThreshold,
                             int healthyThreshold) {
        this(path, interval, timeout, unhealthyThreshold, healthyThreshold, DEFAULT_TRANSITION_INTERVAL);
    }

    /** Whether the check is the gRPC health check rather than a GET of {@code path}. */
    public boolean grpc() {
        return grpcService.isPresent();
    }
}
