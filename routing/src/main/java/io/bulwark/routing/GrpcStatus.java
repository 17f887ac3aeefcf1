package io.bulwark.routing;

/**
 * What the proxy reads from, and says in, gRPC's status codes
 * (<a href="https://grpc.github.io/grpc/core/md_doc_statuscodes.html">statuscodes.md</a>): which
 * requests are gRPC calls, which statuses are the service failing rather than answering (for the
 * circuit breaker, the outlier detector and the retry conditions alike), and gRPC's own
 * HTTP-to-gRPC status table (for a local reply with an HTTP status of its own, a fault abort's).
 */
public final class GrpcStatus {

    public static final int OK = 0;
    public static final int CANCELLED = 1;
    public static final int UNKNOWN = 2;
    public static final int DEADLINE_EXCEEDED = 4;
    public static final int PERMISSION_DENIED = 7;
    public static final int RESOURCE_EXHAUSTED = 8;
    public static final int UNIMPLEMENTED = 12;
    public static final int INTERNAL = 13;
    public static final int UNAVAILABLE = 14;
    public static final int UNAUTHENTICATED = 16;

    /** A response or trailers without a {@code grpc-status}. */
    public static final int NONE = -1;

    public static final String HEADER = "grpc-status";
    public static final String MESSAGE_HEADER = "grpc-message";
    public static final String TIMEOUT_HEADER = "grpc-timeout";

    private static final String CONTENT_TYPE_PREFIX = "application/grpc";

    private GrpcStatus() {
    }

    /**
     * Whether a {@code content-type} makes a request (or response) a gRPC one:
     * {@code application/grpc}, with or without a {@code +proto}-style suffix or parameters.
     */
    public static boolean isGrpc(CharSequence contentType) {
        return contentType != null && contentType.length() >= CONTENT_TYPE_PREFIX.length()
                && contentType.toString().regionMatches(true, 0, CONTENT_TYPE_PREFIX, 0, CONTENT_TYPE_PREFIX.length());
    }

    /**
     * A {@code grpc-status} value: {@link #NONE} when absent; a value that is not a status code
     * (not a small non-negative integer) is read as {@link #UNKNOWN}, as gRPC clients do.
     */
    public static int parse(CharSequence value) {
        if (value == null) {
            return NONE;
        }
        String s = value.toString().trim();
        if (s.isEmpty() || s.length() > 3) {
            return UNKNOWN;
        }
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return UNKNOWN;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }

    /**
     * Whether a status says the service is failing rather than answering: UNAVAILABLE (14),
     * INTERNAL (13) and DEADLINE_EXCEEDED (4). The others (NOT_FOUND, INVALID_ARGUMENT, ...) are
     * answers. The circuit breaker and the outlier detector both judge by this.
     */
    public static boolean isFailure(int grpcStatus) {
        return grpcStatus == UNAVAILABLE || grpcStatus == INTERNAL || grpcStatus == DEADLINE_EXCEEDED;
    }

    /**
     * The HTTP status the outlier detector counts for a gRPC response with {@code grpcStatus}: 503
     * for UNAVAILABLE and 504 for DEADLINE_EXCEEDED (gateway failures, as Envoy maps them), 500 for
     * INTERNAL (a 5xx, not a gateway failure), 200 for every other status (an answer).
     */
    public static int outlierHttpStatus(int grpcStatus) {
        return switch (grpcStatus) {
            case UNAVAILABLE -> 503;
            case DEADLINE_EXCEEDED -> 504;
            case INTERNAL -> 500;
            default -> 200;
        };
    }

    /**
     * gRPC's "HTTP to gRPC status" table
     * (<a href="https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md">http-grpc-status-mapping.md</a>):
     * 400 INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503/504
     * UNAVAILABLE, anything else UNKNOWN.
     */
    public static int fromHttp(int httpStatus) {
        return switch (httpStatus) {
            case 400 -> INTERNAL;
            case 401 -> UNAUTHENTICATED;
            case 403 -> PERMISSION_DENIED;
            case 404 -> UNIMPLEMENTED;
            case 429, 502, 503, 504 -> UNAVAILABLE;
            default -> UNKNOWN;
        };
    }

    /**
     * A {@code grpc-timeout} value (gRPC over HTTP/2: 1 to 8 ASCII digits and a unit, {@code H M S}
     * for hours, minutes, seconds, {@code m u n} for milli-, micro-, nanoseconds) in nanoseconds;
     * -1 when absent or malformed (then ignored, as Envoy does). Saturates at {@code Long.MAX_VALUE}.
     */
    public static long parseTimeoutNanos(CharSequence value) {
        if (value == null) {
            return -1;
        }
        int length = value.length();
        if (length < 2 || length > 9) {
            return -1;
        }
        long n = 0;
        for (int i = 0; i < length - 1; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        long unitNanos = switch (value.charAt(length - 1)) {
            case 'H' -> 3_600_000_000_000L;
            case 'M' -> 60_000_000_000L;
            case 'S' -> 1_000_000_000L;
            case 'm' -> 1_000_000L;
            case 'u' -> 1_000L;
            case 'n' -> 1L;
            default -> -1L;
        };
        if (unitNanos < 0) {
            return -1;
        }
        return n > Long.MAX_VALUE / unitNanos ? Long.MAX_VALUE : n * unitNanos;
    }
}
