package io.bulwark.routing.retry;

import io.bulwark.routing.Upstream;

/**
 * How one try failed, as {@link RetryPolicy} sees it: a local failure (no response) or an upstream
 * status the proxy may want to retry.
 *
 * @param status the upstream's status for {@link Kind#STATUS}; 0 otherwise
 */
public record TryFailure(Kind kind, int status) {

    public enum Kind { CONNECT_FAILURE, RESET, TIMEOUT, STATUS }

    private static final TryFailure CONNECT = new TryFailure(Kind.CONNECT_FAILURE, 0);
    private static final TryFailure RESET = new TryFailure(Kind.RESET, 0);
    private static final TryFailure TIMEOUT = new TryFailure(Kind.TIMEOUT, 0);

    /** The connection to the upstream could not be made: nothing was sent. */
    public static TryFailure connectFailure() {
        return CONNECT;
    }

    /** The connection closed or reset before a whole response head arrived. */
    public static TryFailure reset() {
        return RESET;
    }

    /** The per-try timeout fired before the response head arrived. */
    public static TryFailure timeout() {
        return TIMEOUT;
    }

    /** The upstream answered {@code status}. */
    public static TryFailure status(int status) {
        return new TryFailure(Kind.STATUS, status);
    }

    /** The same failure as the data plane reports it to the upstream. */
    public static TryFailure of(Upstream.LocalFailure failure) {
        return switch (failure) {
            case CONNECT_FAILURE -> CONNECT;
            case RESET -> RESET;
            case TIMEOUT -> TIMEOUT;
        };
    }
}
