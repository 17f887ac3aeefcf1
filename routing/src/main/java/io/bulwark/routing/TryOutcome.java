package io.bulwark.routing;

/**
 * What one try of a request came to, reported once when the try ends: either a response head
 * from the upstream ({@code failure == null}, with its status) or a {@link FailureKind}. The data
 * plane hands it to {@link Upstream#report(TryOutcome)} (and so to the outlier detector) and to
 * the metrics; the retry state reads it to decide on the next try.
 *
 * @param failure how the try failed, or null when the upstream answered
 * @param status the upstream's status when it answered; 0 otherwise
 * @param latencyNanos from the start of the try to the response head or the failure
 * @param grpcStatus the {@code grpc-status} of a gRPC response that carries it in its head (a
 *     trailers-only response), or of its trailers once they came; {@link GrpcStatus#NONE} otherwise
 */
public record TryOutcome(FailureKind failure, int status, long latencyNanos, int grpcStatus) {

    public static TryOutcome response(int status, long latencyNanos) {
        return new TryOutcome(null, status, latencyNanos, GrpcStatus.NONE);
    }

    /** A gRPC response whose {@code grpc-status} is known. */
    public static TryOutcome grpc(int status, int grpcStatus, long latencyNanos) {
        return new TryOutcome(null, status, latencyNanos, grpcStatus);
    }

    public static TryOutcome failed(FailureKind kind, long latencyNanos) {
        return new TryOutcome(kind, 0, latencyNanos, GrpcStatus.NONE);
    }

    /** True when the upstream answered (whatever the status). */
    public boolean answered() {
        return failure == null;
    }

    /** Whether the answer carries a {@code grpc-status}. */
    public boolean hasGrpcStatus() {
        return grpcStatus != GrpcStatus.NONE;
    }

    /**
     * The status the outlier detector and the upstream's failure count judge: the HTTP status, or
     * for a gRPC answer with its status the HTTP equivalent of {@link GrpcStatus#outlierHttpStatus}.
     */
    public int judgedStatus() {
        return grpcStatus == GrpcStatus.NONE ? status : GrpcStatus.outlierHttpStatus(grpcStatus);
    }

    /** The outcome tag of {@code bulwark_upstream_requests_seconds}: the status class, or the failure kind. */
    public String tag() {
        if (failure != null) {
            return failure.tag();
        }
        int c = status / 100;
        return c >= 0 && c < STATUS_CLASSES.length ? STATUS_CLASSES[c] : "other";
    }

    private static final String[] STATUS_CLASSES = {"0xx", "1xx", "2xx", "3xx", "4xx", "5xx"};
}
