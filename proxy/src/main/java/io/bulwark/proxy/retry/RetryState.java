package io.bulwark.proxy.retry;

import io.bulwark.config.RetryConfig;
import io.bulwark.proxy.metrics.ProxyMetrics;
import io.bulwark.routing.FailureKind;
import io.bulwark.routing.TryOutcome;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.retry.Backoff;
import io.bulwark.routing.retry.RetryDecision;
import io.bulwark.routing.retry.RetryPolicy;
import io.netty.handler.codec.http.HttpContent;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;

/**
 * Whether and when one request is tried again (Envoy's {@code RetryStateImpl}): the attempt count,
 * the upstreams already tried, the retry decision with backoff and {@code Retry-After}, the keep-alive
 * race, and the request body — the parts not yet sent to the current try, and the replay buffer
 * of up to {@code buffer-limit} bytes, kept as retained slices of the received buffers (never
 * copied) so that a retry can send the body again.
 *
 * <p>Confined to the request's event loop. {@link #release()} gives every buffer back.
 */
public final class RetryState {

    private final RetryConfig config;
    private final Backoff backoff;
    private final String method;
    private final boolean idempotencyKey;
    private final String route;
    private final String cluster;
    private final ProxyMetrics metrics;
    private final RetryPermits permits;

    private final ArrayDeque<HttpContent> unsent = new ArrayDeque<>(4);
    private final ArrayList<HttpContent> replay = new ArrayList<>(4);
    private boolean replayable = true;
    private long replayBytes;
    private long bodyBytes;

    private int attempt;
    private Set<Upstream> tried = Set.of();
    private boolean raceReplayed;
    private boolean freshConnection;

    /**
     * @param idempotencyKey the request carries an {@code Idempotency-Key}: a replay after the
     *     keep-alive race is safe whatever its method
     */
    public RetryState(RetryConfig config, Backoff backoff, String method, boolean idempotencyKey, String route,
                      String cluster, ProxyMetrics metrics, RetryPermits permits) {
        this.config = config;
        this.backoff = backoff;
        this.method = method;
        this.idempotencyKey = idempotencyKey;
        this.route = route;
        this.cluster = cluster;
        this.metrics = metrics;
        this.permits = permits;
    }

    // ------------------------------------------------------------------ attempts

    /** Starts the next try and returns its number (1 for the first): its {@code x-bulwark-attempt}. */
    public int nextAttempt() {
        return ++attempt;
    }

    /** The number of the current (or last) try; 0 before the first. */
    public int attempt() {
        return attempt;
    }

    /** The upstreams to avoid for the next try: every one tried so far, {@code last} included. */
    public Set<Upstream> avoid(Upstream last) {
        if (last == null) {
            return Set.of();
        }
        if (tried.isEmpty()) {
            tried = new HashSet<>(4);
        }
        tried.add(last);
        return tried;
    }

    /** True once, for the try after the keep-alive race: it must use a new connection. */
    public boolean takeFreshConnection() {
        boolean fresh = freshConnection;
        freshConnection = false;
        return fresh;
    }

    // ------------------------------------------------------------------ decisions

    /**
     * Whether a failed try is retried, and after how long (-1: not retried). The route's policy
     * decides first ({@link RetryPolicy}: the condition is named in retry-on, tries are left, and a
     * request that reached the upstream is re-sent only if its method is idempotent, or the route
     * allows it, and its body is whole in the replay buffer). An upstream's Retry-After is
     * honoured when it fits the route deadline. Last, the retry must fit the route's retry budget
     * and the cluster's max-concurrent-retries; refusals are counted, and the client gets the
     * failure as it is. The caller has checked that no response byte went to the client.
     *
     * @param requestSent whether any of the request may have reached the upstream
     * @param retryAfter the upstream's {@code Retry-After}, or null
     * @param remainingNanos time left before the route timeout
     */
    public long plan(TryOutcome outcome, boolean requestSent, String retryAfter, long remainingNanos) {
        RetryDecision decision = RetryPolicy.decide(config, method, outcome, requestSent,
                replayable || !requestSent, attempt);
        if (!decision.retry()) {
            return -1;
        }
        long delay = backoff.delayNanos(attempt);
        if (retryAfter != null) {
            Backoff.RetryAfter wait = backoff.retryAfter(retryAfter, remainingNanos);
            switch (wait.action()) {
                case DONT_RETRY -> {
                    return -1;
                }
                case WAIT -> delay = wait.delayNanos();
                case USE_BACKOFF -> { }
            }
        }
        if (delay >= remainingNanos) {
            return -1;
        }
        switch (permits.admitRetry()) {
            case BUDGET -> {
                metrics.retryBudgetExhausted(route);
                return -1;
            }
            case LIMIT -> {
                metrics.retryLimitReached(cluster);
                return -1;
            }
            case NONE -> { }
        }
        metrics.retry(route, decision.reason());
        return delay;
    }

    /**
     * A reset before any response byte on a connection that served an earlier request is most
     * likely the keep-alive race (the upstream closed the idle connection as it was reused). It is
     * replayed once, on a fresh connection, without counting as a retry, when replaying is safe:
     * an idempotent method or an {@code Idempotency-Key} header, and a body that is whole. A
     * non-idempotent request without a key gets the 502, as Go's net/http does: it may have been
     * processed, and a replay could do it twice.
     *
     * @return true when the try is to be replayed now; the attempt number is then not advanced
     *     by the replay, and its try uses a fresh connection
     */
    public boolean keepAliveRace(TryOutcome outcome, boolean reusedConnection) {
        if (outcome.failure() != FailureKind.RESET || raceReplayed || !reusedConnection) {
            return false;
        }
        boolean safe = RetryPolicy.isIdempotent(method) || idempotencyKey;
        if (!safe || !(replayable || bodyBytes == 0)) {
            return false;
        }
        raceReplayed = true;
        attempt--; // the replay repeats the same attempt
        freshConnection = true;
        metrics.retry(route, "keepalive_race");
        return true;
    }

    // ------------------------------------------------------------------ the request body

    /**
     * Takes one part of the request body: keeps it for replay while it fits {@code buffer-limit}
     * and returns what to send to the current try (a retained duplicate of a kept part, or the part
     * itself once the body no longer fits, which also drops what was kept).
     */
    public HttpContent keep(HttpContent part) {
        int size = part.content().readableBytes();
        bodyBytes += size;
        if (!replayable) {
            return part;
        }
        if (replayBytes + size <= config.bufferLimit()) {
            replay.add(part);
            replayBytes += size;
            return part.retainedDuplicate();
        }
        replayable = false;
        for (HttpContent c : replay) {
            c.release();
        }
        replay.clear();
        replayBytes = 0;
        return part;
    }

    /** Whether the whole body so far is in the replay buffer (a hedge or a retry can send it again). */
    public boolean replayable() {
        return replayable;
    }

    /** Retained duplicates of the replay buffer, for a hedged try of its own (the caller releases them). */
    public ArrayDeque<HttpContent> replayCopy() {
        ArrayDeque<HttpContent> copy = new ArrayDeque<>(replay.size() + 1);
        for (HttpContent kept : replay) {
            copy.add(kept.retainedDuplicate());
        }
        return copy;
    }

    /** Holds a part until the current try has a connection to write it to. */
    public void queue(HttpContent part) {
        unsent.add(part);
    }

    /** The next part waiting for the current try's connection, or null. */
    public HttpContent pollUnsent() {
        return unsent.poll();
    }

    public boolean hasUnsent() {
        return !unsent.isEmpty();
    }

    /**
     * Before a retry: what the failed try consumed is sent again, from the replay buffer (only
     * called when {@link #plan} allowed it, so the body is whole there when it was sent).
     */
    public void rewind(boolean sentAnything) {
        if (!sentAnything) {
            return;
        }
        HttpContent c;
        while ((c = unsent.poll()) != null) {
            c.release();
        }
        for (HttpContent kept : replay) {
            unsent.add(kept.retainedDuplicate());
        }
    }

    /** Releases every buffer held for sending or replay (idempotent). */
    public void release() {
        HttpContent c;
        while ((c = unsent.poll()) != null) {
            c.release();
        }
        for (HttpContent kept : replay) {
            kept.release();
        }
        replay.clear();
    }
}
