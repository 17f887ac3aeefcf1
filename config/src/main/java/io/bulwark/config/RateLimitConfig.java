package io.bulwark.config;

/**
 * A token-bucket rate limit on a route.
 *
 * @param key what a bucket is kept per: the whole route, each client IP, or each value of a header
 */
public record RateLimitConfig(double requestsPerSecond, int burst, Key key) {

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
