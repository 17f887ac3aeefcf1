package io.bulwark.routing.health;

import io.bulwark.config.HealthCheckConfig;
import io.bulwark.routing.Clock;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.Upstream.Health;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The active-health state machine of one upstream: counts consecutive passing and failing checks
 * and sets the upstream's health flag ({@link Upstream#setHealth}) when a threshold is reached.
 * <ul>
 * <li>{@code unhealthy-threshold} failures in a row make it {@code UNHEALTHY} (from healthy or unknown);</li>
 * <li>{@code healthy-threshold} passes in a row make an unhealthy upstream {@code HEALTHY} again;</li>
 * <li>an upstream still {@code UNKNOWN} (never decided) becomes {@code HEALTHY} on its first pass.
 *     Unknown already counts as eligible (as Envoy's hosts start healthy), so one pass confirms what
 *     routing assumes, and waiting for more would only delay the first flip; failures need the full
 *     threshold from unknown too, so one lost check at startup takes nothing out.</li>
 * </ul>
 * Every flip is published as a {@code health_flip} event with the thresholds and the last result.
 * Every result is also noted on the upstream's recovery timings, before any flip it causes: a failed
 * check can start a failure episode (so time to detect covers the checks it took to flip), a passing
 * one while the upstream is out starts its time to readmit — also when that very pass brings it back.
 * An operator override still beats the flag (the upstream combines them); checks keep running and
 * keep the flag current underneath it.
 *
 * <p>Results for one upstream arrive one at a time (the scheduler starts the next check only after
 * the last one finished, each step handing over through the scheduler), so the counters need no
 * lock; they are volatile for readers such as the admin API. For the same reason a check started
 * after the previous result came in (or, for the first, after this state was made): the listener
 * hears each pass with that bound on its start, which {@code readmit = probe} needs to count only
 * checks that started after an ejection.
 */
public final class HealthCheckState {

    public static final String EVENT_TYPE = "health_flip";
    public static final String PASSED = "health_check_passed";
    public static final String FAILED = "health_check_failed";

    private final Upstream upstream;
    private final HealthCheckConfig config;
    private final Clock clock;
    private final EventSink events;
    private final HealthCheckListener listener;

    private volatile int consecutiveSuccesses;
    private volatile int consecutiveFailures;
    private volatile ProbeResult lastResult;
    private volatile long lastCheckMillis;
    /** When the last result came in ({@link Clock#nanoTime()}): the next check cannot have started before. */
    private volatile long lastResultNanos;

    public HealthCheckState(Upstream upstream, HealthCheckConfig config, Clock clock, EventSink events,
                            HealthCheckListener listener) {
        this.upstream = upstream;
        this.config = config;
        this.clock = clock;
        this.events = events;
        this.listener = listener;
        this.lastResultNanos = clock.nanoTime();
    }

    public Upstream upstream() {
        return upstream;
    }

    /** Records one check's result; may flip the upstream's health. */
    public void onResult(ProbeResult result) {
        long startedAfter = lastResultNanos;
        lastResultNanos = clock.nanoTime();
        lastResult = result;
        lastCheckMillis = clock.currentTimeMillis();
        if (result.passed()) {
            onPass(result, startedAfter);
        } else {
            onFail(result);
        }
    }

    private void onPass(ProbeResult result, long startedAfterNanos) {
        int successes = consecutiveSuccesses + 1;
        consecutiveSuccesses = successes;
        consecutiveFailures = 0;
        upstream.recovery().onCheckPassed();
        Health health = upstream.health();
        if (health == Health.UNKNOWN || (health == Health.UNHEALTHY && successes >= config.healthyThreshold())) {
            flip(health, Health.HEALTHY, PASSED, successes, result);
        }
        listener.onCheckPassed(upstream, startedAfterNanos);
    }

    private void onFail(ProbeResult result) {
        int failures = consecutiveFailures + 1;
        consecutiveFailures = failures;
        consecutiveSuccesses = 0;
        upstream.recovery().onCheckFailed();
        Health health = upstream.health();
        if (health != Health.UNHEALTHY && failures >= config.unhealthyThreshold()) {
            flip(health, Health.UNHEALTHY, FAILED, failures, result);
        }
        listener.onCheckFailed(upstream);
    }

    private void flip(Health from, Health to, String reason, int consecutive, ProbeResult result) {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("consecutive", consecutive);
        detail.put("healthy_threshold", config.healthyThreshold());
        detail.put("unhealthy_threshold", config.unhealthyThreshold());
        detail.put("last_result", result.describe());
        // The cause goes into the log before the effects that setHealth sets off (recovery, readmission).
        events.publish(new StateEvent(clock.currentTimeMillis(), EVENT_TYPE, upstream.cluster(), upstream.address(),
                lower(from), lower(to), reason, detail));
        upstream.setHealth(to);
    }

    private static String lower(Health health) {
        return health.name().toLowerCase(Locale.ROOT);
    }

    /**
     * A decision is underway: some but not all of the checks that flip this upstream (either way) or
     * readmit it by probe have come in, so the next check should come after the
     * {@code transition-interval} rather than the full interval.
     */
    public boolean deciding() {
        Health health = upstream.health();
        int successes = consecutiveSuccesses;
        int failures = consecutiveFailures;
        return health == Health.UNHEALTHY && successes > 0 && successes < config.healthyThreshold()
                || health != Health.UNHEALTHY && failures > 0 && failures < config.unhealthyThreshold()
                || listener.confirming(upstream);
    }

    public int consecutiveSuccesses() {
        return consecutiveSuccesses;
    }

    public int consecutiveFailures() {
        return consecutiveFailures;
    }

    /** The most recent result; empty before the first check. */
    public Optional<ProbeResult> lastResult() {
        return Optional.ofNullable(lastResult);
    }

    /** When the most recent result came ({@link Clock#currentTimeMillis()}); 0 before the first. */
    public long lastCheckMillis() {
        return lastCheckMillis;
    }
}
