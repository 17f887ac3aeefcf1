package io.bulwark.routing;

/**
 * How a try can fail without a usable response from the upstream: the one list that retry
 * conditions ({@code retry-on}), the outlier detector, the circuit breaker, metrics and local
 * replies all use, so a kind can never mean one thing to one layer and another to the next.
 */
public enum FailureKind {
    /** The connection could not be made (refused, unreachable, connect timeout, TLS handshake): nothing was sent. */
    CONNECT_FAILURE("connect_failure"),
    /** The connection closed or reset before a whole response head arrived. */
    RESET("reset"),
    /** The upstream sent something that is not valid HTTP (a garbled status line, bad framing). */
    PROTOCOL_ERROR("protocol_error"),
    /** No response head within the per-try or route timeout. */
    TIMEOUT("timeout");

    private final String tag;

    FailureKind(String tag) {
        this.tag = tag;
    }

    /** The name in metrics ({@code outcome}), retry reasons and the access log's {@code error}. */
    public String tag() {
        return tag;
    }
}
