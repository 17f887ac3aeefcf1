package io.bulwark.config;

/**
 * Downstream HTTP/2 on the listener ({@code listener.http2}): h2 negotiated by ALPN on a TLS
 * listener, h2c with prior knowledge on a plaintext one, and the limits that bound what one
 * client connection can cost.
 *
 * @param enabled false: the listener speaks HTTP/1 only (no {@code h2} in ALPN, no h2c preface)
 * @param maxConcurrentStreams streams a client may have open at once on one connection
 *     ({@code SETTINGS_MAX_CONCURRENT_STREAMS}); a stream past it is refused
 * @param initialWindowSize the flow-control window of each stream, in bytes
 *     ({@code SETTINGS_INITIAL_WINDOW_SIZE}); the connection's window is bounded as well
 * @param maxHeaderListSize the largest header list a request may have
 *     ({@code SETTINGS_MAX_HEADER_LIST_SIZE}); larger gets 431
 * @param maxResetsPerMinute RST_STREAM frames a client may send per minute on one connection; past
 *     it the connection gets GOAWAY {@code ENHANCE_YOUR_CALM} (rapid reset, CVE-2023-44487)
 */
public record Http2Config(
        boolean enabled,
        int maxConcurrentStreams,
        int initialWindowSize,
        int maxHeaderListSize,
        int maxResetsPerMinute) {

    /** The built-in defaults (those of {@code reference.conf}). */
    public static final Http2Config DEFAULTS = new Http2Config(true, 128, 64 * 1024, 16 * 1024, 600);
}
