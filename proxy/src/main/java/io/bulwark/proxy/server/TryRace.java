package io.bulwark.proxy.server;

import io.bulwark.config.HedgeConfig;
import io.bulwark.routing.retry.RecentLatency;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The tries of one request in flight at once, and hedging's clock (Envoy's hedge policy, "The
 * Tail at Scale"): usually one try; with a route's {@code hedge}, earlier tries keep racing the
 * latest until one answers. The latest is the one the request's body streams to (a hedge is only
 * sent once the body is whole). Confined to the request's event loop.
 */
final class TryRace {

    private final Optional<HedgeConfig> hedge;
    /** The route's recent times to response head, for {@code delay = p95}; null otherwise. */
    private final RecentLatency headLatency;
    private final EventExecutor executor;

    private Attempt latest;
    /** Earlier tries still racing the latest one, or null. */
    private List<Attempt> earlier;
    private ScheduledFuture<?> hedgeTimer;
    private int hedgesSent;

    TryRace(Optional<HedgeConfig> hedge, RecentLatency headLatency, EventExecutor executor) {
        this.hedge = hedge;
        this.headLatency = headLatency;
        this.executor = executor;
    }

    /** The latest try, or null between tries. */
    Attempt latest() {
        return latest;
    }

    int hedgesSent() {
        return hedgesSent;
    }

    /** A try starts; a hedge races the ones in flight, anything else follows the last (ended) one. */
    void started(Attempt next, boolean asHedge) {
        if (asHedge) {
            if (earlier == null) {
                earlier = new ArrayList<>(2);
            }
            earlier.add(latest);
            hedgesSent++;
        }
        latest = next;
    }

    /** Whether {@code a} is one of the tries in flight. */
    boolean inFlight(Attempt a) {
        return a != null && (a == latest || earlier != null && earlier.contains(a));
    }

    /** Whether another try than {@code a} is in flight, so the request can wait for it instead of failing. */
    boolean othersInFlight(Attempt a) {
        return earlier != null;
    }

    /** Takes {@code a} out of the race (it failed, or could not start): its connection is closed, never pooled. */
    void drop(Attempt a) {
        a.end();
        if (a == latest) {
            latest = earlier.remove(earlier.size() - 1);
        } else {
            earlier.remove(a);
        }
        if (earlier.isEmpty()) {
            earlier = null;
        }
    }

    /** {@code winner}'s response head came first: every other try is cancelled (closed, never pooled). */
    void win(Attempt winner) {
        cancelHedge();
        if (earlier == null) {
            return;
        }
        for (Attempt loser : earlier) {
            if (loser != winner) {
                loser.cancel();
            }
        }
        if (latest != winner) {
            latest.cancel();
        }
        earlier = null;
        latest = winner;
    }

    /** Every try in flight, for the route timeout's accounting. */
    void forEach(Consumer<Attempt> action) {
        if (latest != null) {
            action.accept(latest);
        }
        if (earlier != null) {
            earlier.forEach(action);
        }
    }

    /** The race is over and its one try is being completed by the caller: forget it without ending it. */
    void forget() {
        cancelHedge();
        latest = null;
        earlier = null;
    }

    /** Ends every try in flight (idempotent). */
    void endAll() {
        cancelHedge();
        forEach(Attempt::end);
        latest = null;
        earlier = null;
    }

    /**
     * Arms the hedge timer for the try just started, when the route hedges, {@code hedgeable} (an
     * idempotent request, no upgrade) and hedges are left: after the fixed delay, or the route's
     * recent p95 time to response head (no hedging until there is one).
     */
    void armHedge(boolean hedgeable, Runnable onDelay) {
        if (hedge.isEmpty() || !hedgeable || hedgesSent >= hedge.get().maxExtra()) {
            return;
        }
        long delay = hedge.get().delay().map(java.time.Duration::toNanos)
                .orElseGet(() -> headLatency == null ? -1 : headLatency.p95Nanos());
        if (delay <= 0) {
            return;
        }
        cancelHedge();
        hedgeTimer = executor.schedule(() -> {
            hedgeTimer = null;
            onDelay.run();
        }, delay, TimeUnit.NANOSECONDS);
    }

    void cancelHedge() {
        if (hedgeTimer != null) {
            hedgeTimer.cancel(false);
            hedgeTimer = null;
        }
    }

    /** A try's time to its response head, for an adaptive hedge delay. */
    void recordHead(long nanos) {
        if (headLatency != null) {
            headLatency.record(nanos);
        }
    }
}
