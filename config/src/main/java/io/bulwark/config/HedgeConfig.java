package io.bulwark.config;

import java.time.Duration;
import java.util.Optional;

/**
 * A route's hedging ({@code hedge} block; absent = off): when a try of an idempotent request whose
 * body is whole in the replay buffer has no response head after {@code delay}, one more try goes
 * to another upstream, and the first response head wins.
 *
 * @param delay the fixed delay; empty for {@code delay = p95}, the route's recent p95 time to
 *     response head
 * @param maxExtra how many hedged tries a request may send beyond its first
 */
public record HedgeConfig(Optional<Duration> delay, int maxExtra) {

    /** Whether the delay follows the route's recent p95 latency. */
    public boolean adaptive() {
        return delay.isEmpty();
    }
}
