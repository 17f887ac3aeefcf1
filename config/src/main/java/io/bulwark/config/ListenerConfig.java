package io.bulwark.config;

import java.time.Duration;

/**
 * The downstream (client-facing) HTTP listener and its protective limits.
 *
 * @param maxInitialLineLength request line longer than this gets 414
 * @param maxHeaderSize request headers larger than this get 431
 * @param maxBodySize request body larger than this (declared or streamed) gets 413; 0 = no limit
 * @param requestHeaderTimeout headers not complete in this time get 408 and the connection is closed
 * @param idleTimeout an idle downstream keep-alive connection is closed after this
 * @param maxConnections downstream connections open at once; more are closed as they are accepted
 * @param bodyTimeout a request body that stalls this long (no byte arrives) gets 408 and the connection closes
 * @param tls TLS on the listener; empty for plain HTTP
 * @param trustForwardedFrom addresses and CIDR ranges (e.g. {@code 10.0.0.0/8}) whose
 *     {@code X-Forwarded-For} is believed when working out the client's address
 * @param passUnsafePathEscapes forward an encoded '/', '\', NUL or a malformed escape instead of refusing it
 * @param closeOnRefusal close the connection after a 429 or 503 refusal (a defence against clients
 *     that ignore them); by default a refused keep-alive client keeps its connection
 * @param http2 downstream HTTP/2 (h2 by ALPN, h2c with prior knowledge) and its limits
 */
public record ListenerConfig(
        String host,
        int port,
        int maxInitialLineLength,
        int maxHeaderSize,
        long maxBodySize,
        Duration requestHeaderTimeout,
        Duration idleTimeout,
        int maxConnections,
        Duration bodyTimeout,
        java.util.Optional<ServerTls> tls,
        java.util.List<String> trustForwardedFrom,
        boolean passUnsafePathEscapes,
        boolean closeOnRefusal,
        Http2Config http2) {

    public ListenerConfig {
        trustForwardedFrom = java.util.List.copyOf(trustForwardedFrom);
    }

    /** Without {@code http2}: the built-in HTTP/2 defaults. */
    public ListenerConfig(String host, int port, int maxInitialLineLength, int maxHeaderSize, long maxBodySize,
                          Duration requestHeaderTimeout, Duration idleTimeout, int maxConnections,
                          Duration bodyTimeout, java.util.Optional<ServerTls> tls,
                          java.util.List<String> trustForwardedFrom, boolean passUnsafePathEscapes,
                          boolean closeOnRefusal) {
        this(host, port, maxInitialLineLength, maxHeaderSize, maxBodySize, requestHeaderTimeout, idleTimeout,
                maxConnections, bodyTimeout, tls, trustForwardedFrom, passUnsafePathEscapes, closeOnRefusal,
                Http2Config.DEFAULTS);
    }

    /** A plain-HTTP listener. */
    public ListenerConfig(String host, int port, int maxInitialLineLength, int maxHeaderSize, long maxBodySize,
                          Duration requestHeaderTimeout, Duration idleTimeout, int maxConnections,
                          Duration bodyTimeout) {
        this(host, port, maxInitialLineLength, maxHeaderSize, maxBodySize, requestHeaderTimeout, idleTimeout,
                maxConnections, bodyTimeout, java.util.Optional.empty(), java.util.List.of(), false, false,
                Http2Config.DEFAULTS);
    }
}
