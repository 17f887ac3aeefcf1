package io.bulwark.proxy.server;

import io.bulwark.config.json.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The responses Bulwark makes itself (listed in the README's "Wire behaviour"): a status, the
 * header {@code x-bulwark-error: <code>} and the JSON body
 * {@code {"error":"<code>","message":"...","request_id":"..."}}.
 */
public enum LocalReply {
    BAD_REQUEST(400, "bad_request"),
    NO_ROUTE(404, "no_route"),
    REQUEST_TIMEOUT(408, "request_timeout"),
    BODY_TOO_LARGE(413, "body_too_large"),
    URI_TOO_LONG(414, "uri_too_long"),
    RATE_LIMITED(429, "rate_limited"),
    HEADERS_TOO_LARGE(431, "headers_too_large"),
    UPSTREAM_CONNECT_FAILURE(502, "upstream_connect_failure"),
    UPSTREAM_RESET(502, "upstream_reset"),
    UPSTREAM_PROTOCOL_ERROR(502, "upstream_protocol_error"),
    NO_HEALTHY_UPSTREAM(503, "no_healthy_upstream"),
    CIRCUIT_OPEN(503, "circuit_open"),
    OVERLOADED(503, "overloaded"),
    FAULT_INJECTED(503, "fault_injected"),
    UPSTREAM_TIMEOUT(504, "upstream_timeout");

    public static final String ERROR_HEADER = "x-bulwark-error";

    private final int status;
    private final String code;
    private final AsciiString codeValue;
    private final HttpResponseStatus responseStatus;

    LocalReply(int status, String code) {
        this.status = status;
        this.code = code;
        this.codeValue = AsciiString.cached(code);
        this.responseStatus = HttpResponseStatus.valueOf(status);
    }

    private static final AsciiString ERROR_HEADER_NAME = AsciiString.cached("x-bulwark-error");
    private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SUFFIX = "}\n".getBytes(StandardCharsets.US_ASCII);
    /** The body up to the request id, per message: refusal messages repeat (one per route or cluster). */
    private final ConcurrentHashMap<String, byte[]> prefixes = new ConcurrentHashMap<>();
    private static final int MAX_CACHED_PREFIXES = 256;

    /**
     * {@code {"error":"<code>","message":"<message>","request_id":} encoded once per message and
     * kept (a bounded number of them: messages naming an upstream or a cause are built each time).
     */
    private byte[] prefix(String message) {
        byte[] cached = prefixes.get(message);
        if (cached != null) {
            return cached;
        }
        byte[] built = ("{\"error\":\"" + code + "\",\"message\":" + Json.quote(message) + ",\"request_id\":")
                .getBytes(StandardCharsets.UTF_8);
        if (prefixes.size() < MAX_CACHED_PREFIXES) {
            prefixes.putIfAbsent(message, built);
        }
        return built;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** The reply for a try that failed {@code kind} when no retry follows. */
    public static LocalReply of(io.bulwark.routing.FailureKind kind) {
        return switch (kind) {
            case CONNECT_FAILURE -> UPSTREAM_CONNECT_FAILURE;
            case RESET -> UPSTREAM_RESET;
            case PROTOCOL_ERROR -> UPSTREAM_PROTOCOL_ERROR;
            case TIMEOUT -> UPSTREAM_TIMEOUT;
        };
    }

    /** The message of the reply to a try that failed {@code kind} on the upstream at {@code where}. */
    static String describe(io.bulwark.routing.FailureKind kind, String where, Throwable cause) {
        String detail = cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage();
        return switch (kind) {
            case CONNECT_FAILURE -> "could not connect to " + where + detail;
            case RESET -> "upstream " + where + " closed the connection before responding";
            case PROTOCOL_ERROR -> "upstream " + where + " sent a malformed response" + detail;
            case TIMEOUT -> "upstream " + where + " did not respond in time";
        };
    }

    /**
     * Whether this reply reports the upstreams failing the request (after its retries): what the
     * cluster's circuit breaker records as a failed request. Every other local reply is a refusal
     * or a client problem, which the breaker does not judge.
     */
    public boolean upstreamFailure() {
        return this == UPSTREAM_CONNECT_FAILURE || this == UPSTREAM_RESET || this == UPSTREAM_PROTOCOL_ERROR
                || this == UPSTREAM_TIMEOUT;
    }

    /**
     * Builds the full response.
     *
     * @param statusOverride a different status for the same code (a fault abort's configured status), or 0
     */
    public FullHttpResponse build(ByteBufAllocator alloc, HttpVersion version, String message, String requestId,
                                  int statusOverride) {
        byte[] prefix = prefix(message);
        String id = requestId == null ? null : Json.quote(requestId);
        int idLength = id == null ? 4 : id.length();
        ByteBuf body = alloc.buffer(prefix.length + idLength + SUFFIX.length);
        body.writeBytes(prefix);
        if (id == null) {
            body.writeBytes(NULL);
        } else if (id.length() == requestId.length() + 2) {
            body.writeCharSequence(id, StandardCharsets.US_ASCII); // nothing escaped: plain ASCII, the usual id
        } else {
            body.writeCharSequence(id, StandardCharsets.UTF_8);
        }
        body.writeBytes(SUFFIX);
        HttpResponseStatus responseStatus = statusOverride > 0 ? HttpResponseStatus.valueOf(statusOverride)
                : this.responseStatus;
        FullHttpResponse response = new DefaultFullHttpResponse(
                version == HttpVersion.HTTP_1_0 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1, responseStatus, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(ERROR_HEADER_NAME, codeValue)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        if (requestId != null) {
            response.headers().set(Headers.X_REQUEST_ID, requestId);
        }
        return response;
    }
}
