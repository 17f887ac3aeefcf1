package io.bulwark.routing.recovery;

import io.bulwark.routing.Clock;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Times one upstream's failure episodes: first failure -> taken out (time to detect) -> back ->
 * serving at full weight (time to recover, slow-start ramp included). While the upstream is out it
 * also notes the first passing active health check since the last failed one, so an episode shows
 * how long readmission took once the checks saw the host healthy (time to readmit) and how long
 * the ramp to its full share took after it was back (time to full share). Each
 * {@link io.bulwark.routing.Upstream} holds one. The data plane reports failures lock-free
 * ({@link #onFailure()}); the upstream reports its transitions ({@link #takenOut}, {@link #serving}),
 * which are rare and take this object's lock.
 *
 * <p>The first failure of an episode is the first reported after the host last served at full
 * weight; a pending first failure is forgotten after a whole tick interval with no failure, so an
 * old blip does not inflate the time to detect of a later outage. Being taken out again while still
 * ramping up continues the same episode. Durations come from the monotonic clock, timestamps from
 * the wall clock, both of the injected {@link Clock}.
 */
public final class RecoveryTracker {

    /** Finished episodes kept per upstream. */
    public static final int HISTORY_LIMIT = 20;

    private enum Phase { SERVING, OUT, RAMPING }

    private record Stamp(long millis, long nanos) {
    }

    private static final long NEVER = Long.MIN_VALUE;

    private final Clock clock;
    private volatile long lastFailureMillis = NEVER;
    private volatile boolean failedSinceTick;
    private final AtomicReference<Stamp> pendingFirstFailure = new AtomicReference<>();
    private volatile Phase phase = Phase.SERVING;

    // ---- guarded by this ----
    private Stamp firstFailure;
    private Stamp takenOut;
    private Stamp back;
    private Stamp fullWeight;
    /** The first passing check while out, since being taken out or the last failed check; null if none. */
    private Stamp firstPass;
    private String reason;
    private final ArrayDeque<RecoveryTimeline.Episode> history = new ArrayDeque<>();
    private final List<RecoveryTimeline.Episode> unannounced = new ArrayList<>();

    public RecoveryTracker(Clock clock) {
        this.clock = clock;
    }

    /** A request to the upstream failed (5xx or local failure), or a health check did. Lock-free. */
    public void onFailure() {
        long millis = clock.currentTimeMillis();
        lastFailureMillis = millis;
        if (!failedSinceTick) {
            failedSinceTick = true;
        }
        if (phase == Phase.SERVING && pendingFirstFailure.get() == null) {
            pendingFirstFailure.compareAndSet(null, new Stamp(millis, clock.nanoTime()));
        }
    }

    /**
     * A request to the upstream succeeded. While it is serving, a success ends the current run of
     * failures: an episode's first failure is the start of the run that led to it being taken out,
     * not a failure long before (say, one at start-up) that successes have since answered. One
     * volatile read on the common path.
     */
    public void onSuccess() {
        if (pendingFirstFailure.get() != null && phase == Phase.SERVING) {
            pendingFirstFailure.set(null);
        }
    }

    /**
     * An active health check of the upstream failed: a failure like {@link #onFailure()}, and while the
     * upstream is out it also restarts the wait for the first passing check.
     */
    public void onCheckFailed() {
        onFailure();
        if (phase == Phase.OUT) {
            synchronized (this) {
                firstPass = null;
            }
        }
    }

    /**
     * An active health check of the upstream passed. While the upstream is out, the first one (since it
     * was taken out or a check last failed) is where its time to readmit starts.
     */
    public void onCheckPassed() {
        if (phase != Phase.OUT) {
            return;
        }
        synchronized (this) {
            if (phase == Phase.OUT && firstPass == null) {
                firstPass = new Stamp(clock.currentTimeMillis(), clock.nanoTime());
            }
        }
    }

    /** The upstream stopped getting traffic because of a failure source (outlier ejection, failed health checks). */
    public synchronized void takenOut(long millis, long nanos, String why) {
        Stamp now = new Stamp(millis, nanos);
        if (phase == Phase.RAMPING && nanos - fullWeight.nanos >= 0) {
            complete(); // it did reach full weight before this: that episode is over, a new one begins
        }
        switch (phase) {
            case SERVING -> {
                Stamp pending = pendingFirstFailure.getAndSet(null);
                firstFailure = pending != null && pending.nanos - nanos <= 0 ? pending : now;
                takenOut = now;
                reason = why;
                back = null;
                fullWeight = null;
                firstPass = null;
                phase = Phase.OUT;
            }
            case RAMPING -> {
                back = null;
                fullWeight = null;
                firstPass = null;
                phase = Phase.OUT;
            }
            case OUT -> { }
        }
    }

    /**
     * The upstream is eligible and no failure source holds it out; it reaches full weight at
     * {@code fullWeightNanos} (later than {@code nanos} under slow start). No-op unless it was out.
     */
    public synchronized void serving(long millis, long nanos, long fullWeightNanos) {
        if (phase != Phase.OUT) {
            return;
        }
        back = new Stamp(millis, nanos);
        long rampNanos = Math.max(0, fullWeightNanos - nanos);
        fullWeight = new Stamp(millis + rampNanos / 1_000_000, nanos + rampNanos);
        phase = Phase.RAMPING;
    }

    /**
     * Ends a tick interval: finishes an episode whose ramp is over and forgets a pending first
     * failure after an interval without failures. Returns the episodes finished since the last call,
     * for the caller to announce.
     */
    public synchronized List<RecoveryTimeline.Episode> tick() {
        completeIfDue();
        if (!failedSinceTick && phase == Phase.SERVING) {
            pendingFirstFailure.set(null);
        }
        failedSinceTick = false;
        List<RecoveryTimeline.Episode> done = List.copyOf(unannounced);
        unannounced.clear();
        return done;
    }

    /** The timings now. */
    public synchronized RecoveryTimeline timeline() {
        completeIfDue();
        long last = lastFailureMillis;
        Optional<RecoveryTimeline.Episode> current = phase == Phase.SERVING ? Optional.empty() : Optional.of(episode());
        return new RecoveryTimeline(last == NEVER ? Optional.empty() : Optional.of(Instant.ofEpochMilli(last)),
                current, List.copyOf(history));
    }

    private void completeIfDue() {
        if (phase == Phase.RAMPING && clock.nanoTime() - fullWeight.nanos >= 0) {
            complete();
        }
    }

    private void complete() {
        RecoveryTimeline.Episode finished = episode();
        history.addFirst(finished);
        while (history.size() > HISTORY_LIMIT) {
            history.removeLast();
        }
        unannounced.add(finished);
        phase = Phase.SERVING;
        pendingFirstFailure.set(null);
    }

    private RecoveryTimeline.Episode episode() {
        boolean done = phase == Phase.RAMPING && clock.nanoTime() - fullWeight.nanos >= 0;
        return new RecoveryTimeline.Episode(
                Instant.ofEpochMilli(firstFailure.millis),
                Instant.ofEpochMilli(takenOut.millis),
                Optional.ofNullable(firstPass).map(s -> Instant.ofEpochMilli(s.millis)),
                Optional.ofNullable(back).map(s -> Instant.ofEpochMilli(s.millis)),
                done ? Optional.of(Instant.ofEpochMilli(fullWeight.millis)) : Optional.empty(),
                reason,
                millisBetween(firstFailure, takenOut),
                back == null ? OptionalLong.empty() : OptionalLong.of(millisBetween(takenOut, back)),
                done ? OptionalLong.of(millisBetween(takenOut, fullWeight)) : OptionalLong.empty(),
                back == null || firstPass == null ? OptionalLong.empty() : OptionalLong.of(millisBetween(firstPass, back)),
                done ? OptionalLong.of(millisBetween(back, fullWeight)) : OptionalLong.empty());
    }

    private static long millisBetween(Stamp from, Stamp to) {
        return Math.max(0, to.nanos - from.nanos) / 1_000_000;
    }
}
