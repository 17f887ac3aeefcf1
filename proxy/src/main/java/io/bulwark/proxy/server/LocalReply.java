package io.bulwark.proxy.server;

import io.bulwark.config.json.Json;
import io.bulwark.routing.GrpcStatus;
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
 *
 * <p>To a gRPC call ({@code content-type: application/grpc*}) the replies made once the request is
 * known to be one are gRPC errors instead ({@link #buildGrpc}): HTTP 200, {@code grpc-status},
 * {@code grpc-message}, no body — a trailers-only response — and still {@code x-bulwark-error}.
 * The refusals of a request that could not be read as a call (400, 408, 413, 414, 431)
 * stay plain HTTP.
 */
public enum LocalReply {
    BAD_REQUEST(400, "bad_request", LocalReply.PLAIN),
    NO_ROUTE(404, "no_route", GrpcStatus.UNIMPLEMENTED),
    REQUEST_TIMEOUT(408, "request_timeout", LocalReply.PLAIN),
    BODY_TOO_LARGE(413, "body_too_large", LocalReply.PLAIN),
    URI_TOO_LONG(414, "uri_too_long", LocalReply.PLAIN),
    RATE_LIMITED(429, "rate_limited", GrpcStatus.RESOURCE_EXHAUSTED),
    HEADERS_TOO_LARGE(431, "headers_too_large", LocalReply.PLAIN),
    UPSTREAM_CONNECT_FAILURE(502, "upstream_connect_failure", GrpcStatus.UNAVAILABLE),
    UPSTREAM_RESET(502, "upstream_reset", GrpcStatus.UNAVAILABLE),
    UPSTREAM_PROTOCOL_ERROR(502, "upstream_protocol_error", GrpcStatus.UNAVAILABLE),
    NO_HEALTHY_UPSTREAM(503, "no_healthy_upstream", GrpcStatus.UNAVAILABLE),
    CIRCUIT_OPEN(503, "circuit_open", GrpcStatus.UNAVAILABLE),
    OVERLOADED(503, "overloaded", GrpcStatus.UNAVAILABLE),
    /** To a gRPC call: the configured abort status through gRPC's HTTP-to-gRPC table. */
    FAULT_INJECTED(503, "fault_injected", LocalReply.FROM_HTTP),
    UPSTREAM_TIMEOUT(504, "upstream_timeout", GrpcStatus.DEADLINE_EXCEEDED);

    public static final String ERROR_HEADER = "x-bulwark-error";

    private final int status;
    private final String code;
    private final AsciiString codeValue;
    private final HttpResponseStatus responseStatus;
    /** The gRPC status of this reply to a gRPC call; {@link #PLAIN} or {@link #FROM_HTTP}. */
    private final int grpcStatus;

    LocalReply(int status, String code, int grpcStatus) {
        this.status = status;
        this.code = code;
        this.codeValue = AsciiString.cached(code);
        this.responseStatus = HttpResponseStatus.valueOf(status);
        this.grpcStatus = grpcStatus;
    }

    /** A reply that stays plain HTTP to a gRPC call too. */
    private static final int PLAIN = -1;
    /** A reply whose gRPC status is its HTTP status through gRPC's table. */
    private static final int FROM_HTTP = -2;
    private static final AsciiString GRPC_STATUS = AsciiString.cached(GrpcStatus.HEADER);
    private static final AsciiString GRPC_MESSAGE = AsciiString.cached(GrpcStatus.MESSAGE_HEADER);
    private static final AsciiString APPLICATION_GRPC = AsciiString.cached("application/grpc");

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

    /** Whether this reply to a gRPC call is a gRPC error rather than plain HTTP. */
    public boolean grpcForm() {
        return grpcStatus != PLAIN;
    }

    /**
     * The {@code grpc-status} of this reply to a gRPC call.
     *
     * @param statusOverride the HTTP status the reply would have had instead of its own (a fault abort's), or 0
     */
    public int grpcStatus(int statusOverride) {
        if (grpcStatus == FROM_HTTP) {
            return GrpcStatus.fromHttp(statusOverride > 0 ? statusOverride : status);
        }
        return grpcStatus;
    }

    /** The HTTP status of this reply: 200 for a gRPC error, else its own (or the override). */
    public int httpStatus(boolean grpcCall, int statusOverride) {
        if (grpcCall && grpcForm()) {
            return 200;
        }
        return statusOverride > 0 ? statusOverride : status;
    }

    /** {@link #buildGrpc} for a gRPC call when this reply has a gRPC form, else {@link #build}. */
    public FullHttpResponse build(ByteBufAllocator alloc, HttpVersion version, String message, String requestId,
                                  int statusOverride, boolean grpcCall) {
        return grpcCall && grpcForm() ? buildGrpc(alloc, version, message, requestId, statusOverride)
                : build(alloc, version, message, requestId, statusOverride);
    }

    /**
     * The reply to a gRPC call as a gRPC error, trailers-only: 200, {@code content-type:
     * application/grpc}, {@code grpc-status}, {@code grpc-message} (percent-encoded, as gRPC
     * requires), {@code x-bulwark-error} and no body — over HTTP/2 one HEADERS frame that ends the stream.
     */
    public FullHttpResponse buildGrpc(ByteBufAllocator alloc, HttpVersion version, String message, String requestId,
                                      int statusOverride) {
        FullHttpResponse response = new DefaultFullHttpResponse(
                version == HttpVersion.HTTP_1_0 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                alloc.buffer(0, 0));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_GRPC)
                .set(GRPC_STATUS, Integer.toString(grpcStatus(statusOverride)))
                .set(GRPC_MESSAGE, percentEncode(message))
                .set(HttpHeaderNames.CONTENT_LENGTH, HttpHeaderValues.ZERO)
                .set(ERROR_HEADER_NAME, codeValue)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        if (requestId != null) {
            response.headers().set(Headers.X_REQUEST_ID, requestId);
        }
        return response;
    }

    /**
     * gRPC's {@code grpc-message} encoding: the UTF-8 bytes, with '%' and every byte outside
     * printable ASCII as {@code %XX}.
     */
    static String percentEncode(String message) {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = null;
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xff;
            boolean plain = b >= 0x20 && b <= 0x7e && b != '%';
            if (plain && out == null) {
                continue;
            }
            if (out == null) {
                out = new StringBuilder(bytes.length + 16);
                out.append(message, 0, i); // the bytes so far were ASCII, one char each
            }
            if (plain) {
                out.append((char) b);
            } else {
                out.append('%').append(HEX[b >> 4]).append(HEX[b & 0xf]);
            }
        }
        return out == null ? message : out.toString();
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

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
