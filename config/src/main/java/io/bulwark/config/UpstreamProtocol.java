package io.bulwark.config;

import java.util.Locale;

/**
 * The protocol Bulwark speaks to a cluster's upstreams ({@code protocol}, {@code http2 { ... }}).
 *
 * @param version HTTP/1.1 (one request at a time per pooled connection) or HTTP/2 (requests
 *     multiplexed as streams over few connections: h2c with prior knowledge, or h2 by ALPN when
 *     the cluster has {@code tls = true})
 * @param maxConcurrentStreams HTTP/2 only: streams open at once on one upstream connection; the
 *     upstream's own {@code SETTINGS_MAX_CONCURRENT_STREAMS} lowers it further
 */
public record UpstreamProtocol(Version version, int maxConcurrentStreams) {

    /** {@code protocol = http1}, and the default stream cap should the cluster switch to http2. */
    public static final UpstreamProtocol DEFAULT = new UpstreamProtocol(Version.HTTP1, 100);

    /** The values of {@code protocol}. */
    public enum Version {
        HTTP1, HTTP2;

        /** The name in the config file and the admin API: {@code http1}, {@code http2}. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public boolean http2() {
        return version == Version.HTTP2;
    }
}
