package io.bulwark.proxy.server;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * The request body as it arrives from the client: its size against {@code max-body-size} (413
 * past it), its stall timer ({@code listener.body-timeout}: 408 when the client stops sending
 * midway), and whether it is complete. Where each part then goes — the current try, or held for
 * the next one and for replay — is the exchange's and the retry state's business.
 */
final class RequestBody {

    /** What the body tells its exchange. */
    interface Owner {
        void onBodyTooLarge(long maxBytes);

        void onBodyStalled(long timeoutMillis);
    }

    private final Downstream downstream;
    private final Owner owner;
    private final boolean announced;
    /** The declared {@code Content-Length}, or -1 (chunked, or none). */
    private final long declaredLength;
    /** The last part (for a request without a body, the empty one the codec still delivers) has arrived. */
    private boolean complete;
    private long bytes;
    private ScheduledFuture<?> timer;

    /**
     * @param announced the head announces a body ({@code Content-Length} above 0 or chunked). Either
     *     way the request is complete only once its last part arrived: that part also ends the
     *     request on the upstream connection.
     */
    RequestBody(Downstream downstream, Owner owner, boolean announced, long declaredLength) {
        this.downstream = downstream;
        this.owner = owner;
        this.announced = announced;
        this.declaredLength = declaredLength;
    }

    /** The most of an unread body the connection reads and drops after a reply, to keep the connection. */
    static final long MAX_DRAIN_BYTES = 64 * 1024;

    /**
     * Whether the rest of the body, if the request is answered now, is small enough to read and drop
     * ({@link #MAX_DRAIN_BYTES}) instead of closing the connection. A chunked body's size is not known:
     * the connection drops it up to the bound and closes past it.
     */
    boolean drainable() {
        return complete || declaredLength < 0 || declaredLength - bytes <= MAX_DRAIN_BYTES;
    }

    boolean complete() {
        return complete;
    }

    /** Whether the head announced a body ({@code Content-Length} above 0, or chunked). */
    boolean announced() {
        return announced;
    }

    /** Bytes received so far. */
    long bytes() {
        return bytes;
    }

    /** The body turned out malformed: it will never be complete. */
    void broken() {
        complete = false;
        cancelTimer();
    }

    /** A body that was announced must start (and keep) coming within the body timeout. */
    void expect() {
        if (announced && !complete) {
            arm();
        }
    }

    /**
     * Takes one part from the client.
     *
     * @param requestOver the exchange already ended (its answer went out): the part is dropped
     * @return true when the part is to be forwarded; false when it was released (the request is over,
     *     or the body grew too large, which the owner has been told)
     */
    boolean take(HttpContent part, boolean requestOver) {
        bytes += part.content().readableBytes();
        if (part instanceof LastHttpContent) {
            complete = true;
            cancelTimer();
        } else if (!requestOver) {
            arm();
        }
        long max = downstream.listener().maxBodySize();
        if (max > 0 && bytes > max) {
            part.release();
            owner.onBodyTooLarge(max);
            return false;
        }
        if (requestOver) {
            part.release();
            return false;
        }
        return true;
    }

    private void arm() {
        long nanos = downstream.listener().bodyTimeout().toNanos();
        if (nanos <= 0) {
            return;
        }
        cancelTimer();
        timer = downstream.executor().schedule(this::onTimeout, nanos, TimeUnit.NANOSECONDS);
    }

    void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void onTimeout() {
        timer = null;
        if (!complete) {
            owner.onBodyStalled(downstream.listener().bodyTimeout().toMillis());
        }
    }
}
