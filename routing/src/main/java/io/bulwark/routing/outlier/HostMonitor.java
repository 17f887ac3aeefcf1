package io.bulwark.routing.outlier;

import io.bulwark.routing.FailureKind;
import io.bulwark.routing.OutcomeListener;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.health.DelayScheduler;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The outlier detector's state for one upstream (Envoy's {@code DetectorHostMonitorImpl}). The
 * data-plane side — consecutive-failure counters and the current interval's request and failure
 * counts — is lock-free and written by every event loop; the ejection side is guarded by the
 * detector's lock and only changes on the rare threshold crossings, ticks and operator calls.
 */
final class HostMonitor implements OutcomeListener {

    /** One interval's counts; a fresh one replaces it at each tick, so writers never see a reset. */
    static final class Bucket {
        final LongAdder requests = new LongAdder();
        final LongAdder failures = new LongAdder();
    }

    final Upstream upstream;
    private final OutlierDetector detector;
    private final int consecutive5xxThreshold;
    private final int consecutiveGatewayThreshold;

    final AtomicInteger consecutive5xx = new AtomicInteger();
    final AtomicInteger consecutiveGatewayFailures = new AtomicInteger();
    private volatile Bucket bucket = new Bucket();
    /** Times to response head for the latency detector; null when it is off. */
    final LatencyWindow latency;

    // ---- guarded by the detector's lock ----
    boolean attached = true;
    boolean ejected;
    boolean awaitingProbe;
    String reason;
    long ejectedAtNanos;
    long ejectedUntilNanos;
    long ejectedUntilMillis;
    /** Envoy's eject-time backoff, shown as times_ejected. */
    int multiplier;
    /** An ejection was made or refused (max-ejection-percent) since the last tick: no decay then. */
    boolean ejectionWorthySinceTick;
    /** The timer of the current ejection's deadline, or null. */
    DelayScheduler.Cancellable readmission;
    /** readmit = probe: passing checks in a row that started after the current ejection. */
    int probePasses;
    /** The current ejection came within readmit-guard of a probe readmission: probes wait for its end. */
    boolean guarded;
    /** When a probe last readmitted this host; meaningful while {@link #probeReadmitted}. */
    long probeReadmittedAtNanos;
    boolean probeReadmitted;

    /** @param latency this host's window for the latency detector, or null when it is off */
    HostMonitor(Upstream upstream, OutlierDetector detector, int consecutive5xxThreshold, int consecutiveGatewayThreshold,
                LatencyWindow latency) {
        this.upstream = upstream;
        this.detector = detector;
        this.consecutive5xxThreshold = consecutive5xxThreshold;
        this.consecutiveGatewayThreshold = consecutiveGatewayThreshold;
        this.latency = latency;
    }

    // ---- data plane, lock-free ----

    @Override
    public void onResponse(int status) {
        Bucket b = bucket;
        b.requests.increment();
        if (status >= 500) {
            b.failures.increment();
            if (status == 502 || status == 503 || status == 504) {
                gatewayFailure();
            } else {
                reset(consecutiveGatewayFailures);
            }
            serverError();
        } else {
            reset(consecutiveGatewayFailures);
            reset(consecutive5xx);
        }
    }

    /**
     * Local-origin failures count as gateway failures and as 5xx, as in Envoy without
     * {@code split_external_local_origin_errors} (a connect failure, reset or protocol error maps to 503,
     * a timeout to 504).
     */
    @Override
    public void onLocalFailure(FailureKind kind) {
        Bucket b = bucket;
        b.requests.increment();
        b.failures.increment();
        gatewayFailure();
        serverError();
    }

    @Override
    public void onLatency(long latencyNanos) {
        if (latency != null) {
            latency.record(latencyNanos);
        }
    }

    private void gatewayFailure() {
        // Exactly one reporter sees the count reach the threshold; it makes the ejection attempt.
        if (consecutiveGatewayFailures.incrementAndGet() == consecutiveGatewayThreshold) {
            detector.onConsecutiveFailures(this, OutlierDetector.CONSECUTIVE_GATEWAY_FAILURE,
                    consecutiveGatewayFailures, consecutiveGatewayThreshold);
        }
    }

    private void serverError() {
        if (consecutive5xx.incrementAndGet() == consecutive5xxThreshold) {
            detector.onConsecutiveFailures(this, OutlierDetector.CONSECUTIVE_5XX, consecutive5xx, consecutive5xxThreshold);
        }
    }

    /** Resets a counter, writing only when needed so a healthy host's cache line stays shared. */
    private static void reset(AtomicInteger counter) {
        if (counter.get() != 0) {
            counter.set(0);
        }
    }

    // ---- detector side, under its lock ----

    /** Ends the current interval: returns its counts and starts a fresh bucket. */
    Bucket swapBucket() {
        Bucket done = bucket;
        bucket = new Bucket();
        return done;
    }

    OutlierState state() {
        return new OutlierState(Instant.ofEpochMilli(ejectedUntilMillis), reason, multiplier, awaitingProbe, guarded);
    }
}
