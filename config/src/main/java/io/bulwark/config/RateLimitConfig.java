package io.bulwark.config;

/**
 * A token-bucket rate limit on a route.
 *
 * @param key what a bucket is kept per: the whole route, each client IP, or each value of a header
 * @param scope whether the bucket is this process's or the fleet's
 */
public record RateLimitConfig(double requestsPerSecond, int burst, Key key, Scope scope) {

    /** A route-local limit ({@code scope = local}). */
    public RateLimitConfig(double requestsPerSecond, int burst, Key key) {
        this(requestsPerSecond, burst, key, Scope.LOCAL);
    }

    /**
     * {@code local}: each sidecar counts alone; {@code global}: one bucket per key for the whole fleet,
     * kept in Redis (needs {@code bulwark.fleet}).
     */
    public enum Scope { LOCAL, GLOBAL }

    /** @param headerName lower-case header name for {@link Kind#HEADER}, empty otherwise */
    public record Key(Kind kind, String headerName) {
        public enum Kind { ROUTE, CLIENT_IP, HEADER }

        @Override
        public String toString() {
            return switch (kind) {
                case ROUTE -> "route";
                case CLIENT_IP -> "client-ip";
                case HEADER -> "header:" + headerName;
            };
        }
    }
}
