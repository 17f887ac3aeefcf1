package io.bulwark.config;

import java.time.Duration;

/**
 * Upstream connection pooling.
 *
 * @param maxConnectionsPerUpstream open connections (busy and idle) to one upstream address, all event loops together
 * @param idleTimeout a pooled connection idle this long is closed
 */
public record PoolConfig(int maxConnectionsPerUpstream, Duration idleTimeout) {
}
