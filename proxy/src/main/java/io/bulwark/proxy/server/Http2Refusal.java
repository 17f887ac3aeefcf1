package io.bulwark.proxy.server;

import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;

/**
 * Why Bulwark refused an HTTP/2 client a stream (RST_STREAM) or its connection (GOAWAY): the
 * {@code reason} tag of {@code bulwark_http2_refusals_total} (CONTRACT §7). Most limits are
 * Netty's own; {@link #of} reads which one fired from the error it raised.
 */
enum Http2Refusal {
    /** RST_STREAM past {@code max-resets-per-minute} (CVE-2023-44487), or too many resets we had to send. */
    RAPID_RESET("rapid_reset"),
    /** A header block spread over CONTINUATION frames: too many small ones, or past the GOAWAY size (CVE-2024-27316). */
    CONTINUATION_FLOOD("continuation_flood"),
    /** A request's header list over {@code max-header-list-size} (431 on the stream). */
    HEADER_LIST_TOO_LARGE("header_list_too_large"),
    /** SETTINGS frames past the per-connection rate, or control-frame acknowledgements the client leaves unread. */
    SETTINGS_FLOOD("settings_flood"),
    /** PING frames past the per-connection rate. */
    PING_FLOOD("ping_flood"),
    /** A stream past {@code max-concurrent-streams} (REFUSED_STREAM). */
    TOO_MANY_STREAMS("too_many_streams"),
    /** Data beyond the window the client was given (FLOW_CONTROL_ERROR). */
    FLOW_CONTROL("flow_control"),
    /** Any other malformed frame or request: bad pseudo-headers, connection-specific fields, Content-Length vs DATA. */
    PROTOCOL_ERROR("protocol_error");

    private final String tag;

    Http2Refusal(String tag) {
        this.tag = tag;
    }

    String tag() {
        return tag;
    }

    /**
     * Which refusal {@code e} is, or null when it is no refusal of the client (a stream it closed
     * itself, a frame that crossed our reset in flight).
     *
     * @param outbound the error came from writing, not from what the client sent: only our own
     *     limits ({@code ENHANCE_YOUR_CALM}) count then
     */
    static Http2Refusal of(Http2Exception e, boolean outbound) {
        Http2Error error = e.error();
        String message = String.valueOf(e.getMessage());
        if (outbound && error != Http2Error.ENHANCE_YOUR_CALM) {
            return null;
        }
        if (e instanceof Http2Exception.HeaderListSizeException) {
            return HEADER_LIST_TOO_LARGE;
        }
        if (message.startsWith("Header size exceeded")) {
            // The connection-level form: the header block grew 25% past the limit before it ended, which
            // with 16KiB frames means a run of CONTINUATION frames.
            return CONTINUATION_FLOOD;
        }
        return switch (error) {
            case ENHANCE_YOUR_CALM -> {
                if (message.contains("RST")) {
                    yield RAPID_RESET;
                }
                if (message.contains("continuation")) {
                    yield CONTINUATION_FLOOD;
                }
                if (message.contains("control frames")) {
                    yield SETTINGS_FLOOD;
                }
                yield PROTOCOL_ERROR; // empty DATA frames without end of stream
            }
            case REFUSED_STREAM -> TOO_MANY_STREAMS;
            case FLOW_CONTROL_ERROR -> FLOW_CONTROL;
            case NO_ERROR, CANCEL, STREAM_CLOSED -> null;
            default -> PROTOCOL_ERROR;
        };
    }
}
