package io.bulwark.routing.outlier;

import io.bulwark.config.OutlierDetectionConfig;
import io.bulwark.routing.Clock;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.health.DelayScheduler;
import io.bulwark.routing.health.HealthCheckListener;
import io.bulwark.routing.recovery.RecoveryTimeline;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Passive outlier detection for one cluster, with Envoy's semantics: it watches what the data plane
 * reports about each upstream and ejects the ones that fail, setting their outlier flag so balancers
 * stop picking them. It sits below the balancer: an ejected host is simply not in the usable set
 * (except in panic mode).
 *
 * <h2>Detectors</h2>
 * <ul>
 * <li>{@code consecutive_5xx}: N 5xx responses in a row (local failures count too); any non-5xx resets.</li>
 * <li>{@code consecutive_gateway_failure}: N 502/503/504 or local failures (connect failure, reset,
 *     timeout) in a row; any other response resets.</li>
 * <li>{@code success_rate} (each tick): among hosts with at least request-volume requests in the interval,
 *     if at least minimum-hosts qualify, eject those below {@code mean - stdev-factor * stdev}.</li>
 * <li>{@code failure_percentage} (each tick): among hosts with at least its request-volume, if at least its
 *     minimum-hosts qualify, eject those whose failure percentage is at or above the threshold.</li>
 * <li>{@code latency} (Bulwark's, when {@code latency} is configured; {@link #checkLatency()} every second):
 *     among hosts not ejected with at least its request-volume tries in the last {@code window}, if at least
 *     its minimum-hosts qualify, eject those whose p90 time to response head is above {@code threshold} and
 *     above {@code factor} times the median of the qualifying hosts' p90s, slowest first. Every try with a
 *     response counts its time to response head; a timed-out try, and one cancelled because its hedge won
 *     ({@link Upstream#onCancelled}), count their age as a lower bound — so with hedging on, a host that
 *     never answers still shows as slow, and a cancellation is never a failure.</li>
 * </ul>
 * The consecutive detectors eject at once, on the reporting thread, when a counter reaches its
 * threshold (exactly one reporter sees that), and reset the counter after the attempt so a new bout
 * can be detected (as Envoy does). Every ejection is subject to max-ejection-percent: allowed while the
 * ejected share is below it, and always when no host is ejected.
 *
 * <h2>Ejection time and readmission</h2>
 * Ejection time is {@code base-ejection-time * times_ejected}, capped at max-ejection-time; the
 * multiplier grows by one per ejection (not past the cap) and decays by one at each tick at which
 * the host is not ejected and nothing ejection-worthy happened to it since the last tick (an
 * ejection refused by max-ejection-percent counts as ejection-worthy). With {@code readmit = timer}
 * a host comes back when its ejection time is over, at the {@code ejected_until} the admin API shows:
 * a one-shot timer on the {@link DelayScheduler} fires at that deadline (without a scheduler, the
 * first tick after it readmits). Active health checks do not shorten that wait.
 *
 * <h2>Probe readmission ({@code readmit = probe})</h2>
 * An ejected host comes back as soon as {@code healthy-threshold} active checks in a row pass that
 * all started after the ejection ({@link #onHealthCheckPassed}) — not at the end of the ejection
 * time — and then ramps up through slow start. A pass whose check may have started before the
 * ejection does not count, and a failed check starts the count again. If the ejection time runs out
 * first, the host waits for those passes (awaiting the probe). Anti-flap rule: a host ejected again
 * within {@code readmit-guard} of a probe readmission (a /health that passes while real traffic
 * fails) is <em>guarded</em>: its ejection time, with the grown multiplier, must pass before probes
 * may readmit it; passes during that time still count, so it comes back at the deadline if they
 * held. Outside the window, probes are fast again; an operator's uneject clears the guard.
 *
 * <h2>Threads</h2>
 * Reporting is lock-free; ejections, ticks and operator calls take one lock per detector (rare,
 * short, never blocking on I/O). Every transition is published to the {@link EventSink} and, through
 * the upstream's flag, makes the cluster rebuild its host set. {@link #tick()} must be called every
 * {@code interval} (the cluster's {@code tick()} does).
 */
public final class OutlierDetector {

    public static final String CONSECUTIVE_5XX = "consecutive_5xx";
    public static final String CONSECUTIVE_GATEWAY_FAILURE = "consecutive_gateway_failure";
    public static final String SUCCESS_RATE = "success_rate";
    public static final String FAILURE_PERCENTAGE = "failure_percentage";
    public static final String LATENCY = "latency";
    /** How often {@link #checkLatency()} must run: the latency window is kept in slices this long. */
    public static final Duration LATENCY_CHECK_INTERVAL = Duration.ofSeconds(1);
    /** Unejection reasons. */
    public static final String EJECTION_EXPIRED = "ejection_expired";
    public static final String HEALTH_CHECK_PASSED = "health_check_passed";
    public static final String OPERATOR_UNEJECT = "operator_uneject";

    private final String cluster;
    private final OutlierDetectionConfig config;
    private final Clock clock;
    private final EventSink events;
    /** Fires each ejection's deadline; null = readmission at the ticks only. */
    private final DelayScheduler scheduler;
    private final long baseEjectionNanos;
    private final long maxEjectionNanos;
    private final long readmitGuardNanos;
    /** readmit = probe: passing checks in a row (started after the ejection) that readmit a host. */
    private final int probeThreshold;
    /** Null when {@code latency} is not configured. */
    private final LatencyDetector latencyDetector;
    private final LongAdder ejectionsSkipped = new LongAdder();

    private final Object lock = new Object();
    /** Guarded by {@link #lock}; replaced (never mutated) when the host list changes. */
    private Map<Upstream, HostMonitor> byUpstream = new IdentityHashMap<>();
    private List<HostMonitor> monitors = List.of();

    /** A detector that readmits at its ticks only (the first tick after the ejection time). */
    public OutlierDetector(String cluster, OutlierDetectionConfig config, Clock clock, EventSink events) {
        this(cluster, config, clock, events, null);
    }

    /**
     * @param scheduler runs each ejection's readmission at its deadline ({@code ejected_until}); null =
     *     at the first tick after it. Its time must be {@code clock}'s.
     */
    public OutlierDetector(String cluster, OutlierDetectionConfig config, Clock clock, EventSink events,
                           DelayScheduler scheduler) {
        this(cluster, config, clock, events, scheduler, 1);
    }

    /**
     * @param scheduler runs each ejection's readmission at its deadline ({@code ejected_until}); null =
     *     at the first tick after it. Its time must be {@code clock}'s.
     * @param probeThreshold with {@code readmit = probe}: the cluster's health-check {@code healthy-threshold},
     *     the passing checks in a row (all started after the ejection) that readmit a host
     */
    public OutlierDetector(String cluster, OutlierDetectionConfig config, Clock clock, EventSink events,
                           DelayScheduler scheduler, int probeThreshold) {
        this.cluster = cluster;
        this.config = config;
        this.clock = clock;
        this.events = events;
        this.scheduler = scheduler;
        this.baseEjectionNanos = config.baseEjectionTime().toNanos();
        this.maxEjectionNanos = Math.max(config.maxEjectionTime().toNanos(), baseEjectionNanos);
        this.readmitGuardNanos = config.readmitGuard().toNanos();
        this.probeThreshold = Math.max(1, probeThreshold);
        this.latencyDetector = config.latency().map(LatencyDetector::new).orElse(null);
    }

    public OutlierDetectionConfig config() {
        return config;
    }

    /**
     * Watches exactly {@code hosts} from now on: new upstreams get a monitor attached as their
     * {@link io.bulwark.routing.OutcomeListener}, surviving ones keep theirs (state included), removed
     * ones are forgotten and no longer count toward max-ejection-percent.
     */
    public void setHosts(List<Upstream> hosts) {
        synchronized (lock) {
            Map<Upstream, HostMonitor> next = new IdentityHashMap<>();
            List<HostMonitor> ordered = new ArrayList<>(hosts.size());
            for (Upstream u : hosts) {
                if (next.containsKey(u)) {
                    continue;
                }
                HostMonitor m = byUpstream.get(u);
                if (m == null) {
                    m = new HostMonitor(u, this, config.consecutive5xx(), config.consecutiveGatewayFailure(),
                            latencyDetector == null ? null : latencyDetector.newWindow());
                    u.setOutcomeListener(m);
                }
                next.put(u, m);
                ordered.add(m);
            }
            for (HostMonitor old : monitors) {
                if (!next.containsKey(old.upstream)) {
                    old.attached = false;
                    cancelReadmission(old);
                }
            }
            byUpstream = next;
            monitors = List.copyOf(ordered);
        }
    }

    // ---- hooks for the health checker and the operator ----

    /** What the cluster's health checker reports to this detector: every check result, passes with their start. */
    public HealthCheckListener healthCheckListener() {
        return new HealthCheckListener() {
            @Override
            public void onCheckPassed(Upstream upstream, long startedAfterNanos) {
                onHealthCheckPassed(upstream, startedAfterNanos);
            }

            @Override
            public void onCheckFailed(Upstream upstream) {
                onHealthCheckFailed(upstream);
            }

            @Override
            public boolean confirming(Upstream upstream) {
                return probeReadmissionUnderway(upstream);
            }
        };
    }

    /**
     * With {@code readmit = probe}: {@code upstream} is ejected, readmittable by probe now, and has
     * some but not all of the passes that readmit it — the next ones should come soon.
     */
    public boolean probeReadmissionUnderway(Upstream upstream) {
        if (config.readmit() != OutlierDetectionConfig.Readmit.PROBE || upstream.outlier().isEmpty()) {
            return false;
        }
        synchronized (lock) {
            HostMonitor m = byUpstream.get(upstream);
            return m != null && m.ejected && m.probePasses > 0 && m.probePasses < probeThreshold
                    && (!m.guarded || clock.nanoTime() - m.ejectedUntilNanos >= 0);
        }
    }

    /**
     * An active health check of {@code upstream} passed; its check started at or after
     * {@code startedAfterNanos} ({@link Clock#nanoTime()}). Call it on every passing check, not only on
     * flips. With {@code readmit = probe} it counts toward readmitting an ejected host when it started
     * after the ejection; {@code healthy-threshold} such passes in a row readmit the host (for a
     * guarded ejection, not before its ejection time is over). Ignored with {@code readmit = timer}.
     * (The health checker notes the pass on the upstream's recovery timings before calling this.)
     */
    public void onHealthCheckPassed(Upstream upstream, long startedAfterNanos) {
        if (config.readmit() != OutlierDetectionConfig.Readmit.PROBE || upstream.outlier().isEmpty()) {
            return; // nothing to readmit (the lock is for ejected hosts only)
        }
        synchronized (lock) {
            HostMonitor m = byUpstream.get(upstream);
            if (m == null || !m.ejected || startedAfterNanos - m.ejectedAtNanos < 0) {
                return; // a check that may have started before the ejection says nothing about the host since
            }
            m.probePasses++;
            if (m.probePasses >= probeThreshold && (!m.guarded || clock.nanoTime() - m.ejectedUntilNanos >= 0)) {
                readmitByProbe(m);
            }
        }
    }

    /**
     * An active health check of {@code upstream} failed. Does not count toward ejection; with
     * {@code readmit = probe} it starts the count of passes that readmit an ejected host again.
     */
    public void onHealthCheckFailed(Upstream upstream) {
        if (config.readmit() != OutlierDetectionConfig.Readmit.PROBE || upstream.outlier().isEmpty()) {
            return; // the count of passes starts afresh at each ejection anyway
        }
        synchronized (lock) {
            HostMonitor m = byUpstream.get(upstream);
            if (m != null) {
                m.probePasses = 0;
            }
        }
    }

    /**
     * Ends {@code upstream}'s ejection now (operator's uneject) and resets its backoff multiplier to 0
     * and the anti-flap guard of probe readmission.
     *
     * @return true if it was ejected
     */
    public boolean uneject(Upstream upstream) {
        synchronized (lock) {
            HostMonitor m = byUpstream.get(upstream);
            if (m == null) {
                return false;
            }
            boolean wasEjected = m.ejected;
            m.multiplier = 0;
            m.probeReadmitted = false;
            if (wasEjected) {
                uneject(m, OPERATOR_UNEJECT);
            }
            return wasEjected;
        }
    }

    /**
     * Carries one upstream's state over from the detector of the cluster this one replaces (a
     * reload that changed the cluster's config): an ejection in force with its deadline and
     * reason, and the backoff multiplier. Without it a reload would readmit every ejected host.
     *
     * @param before the upstream in the replaced cluster
     * @param now the same address in this cluster (already among this detector's hosts)
     */
    public void adopt(OutlierDetector previous, Upstream before, Upstream now) {
        boolean ejected;
        boolean awaitingProbe;
        String reason;
        long atNanos;
        long untilNanos;
        long untilMillis;
        int multiplier;
        int probePasses;
        boolean guarded;
        boolean probeReadmitted;
        long probeReadmittedAt;
        synchronized (previous.lock) {
            HostMonitor old = previous.byUpstream.get(before);
            if (old == null) {
                return;
            }
            cancelReadmission(old); // this detector takes the ejection over, timer included
            ejected = old.ejected;
            awaitingProbe = old.awaitingProbe;
            reason = old.reason;
            atNanos = old.ejectedAtNanos;
            untilNanos = old.ejectedUntilNanos;
            untilMillis = old.ejectedUntilMillis;
            multiplier = old.multiplier;
            probePasses = old.probePasses;
            guarded = old.guarded;
            probeReadmitted = old.probeReadmitted;
            probeReadmittedAt = old.probeReadmittedAtNanos;
        }
        synchronized (lock) {
            HostMonitor m = byUpstream.get(now);
            if (m == null) {
                return;
            }
            m.multiplier = multiplier;
            m.probeReadmitted = probeReadmitted;
            m.probeReadmittedAtNanos = probeReadmittedAt;
            if (ejected) {
                m.probePasses = probePasses;
                m.guarded = guarded;
                m.ejected = true;
                m.awaitingProbe = awaitingProbe;
                m.reason = reason;
                m.ejectedAtNanos = atNanos;
                m.ejectedUntilNanos = untilNanos;
                m.ejectedUntilMillis = untilMillis;
                before.outlier().ifPresent(now::setOutlier);
                if (!awaitingProbe) {
                    scheduleReadmission(m);
                }
            }
        }
    }

    /** The backoff multiplier (times_ejected) of {@code upstream}, also while it is not ejected; 0 if unknown. */
    public int timesEjected(Upstream upstream) {
        synchronized (lock) {
            HostMonitor m = byUpstream.get(upstream);
            return m == null ? 0 : m.multiplier;
        }
    }

    /** How many ejections max-ejection-percent has refused (Envoy's {@code ejections_overflow}). */
    public long ejectionsSkipped() {
        return ejectionsSkipped.sum();
    }

    // ---- the interval ----

    /**
     * One detection interval is over: readmits hosts whose ejection time has passed (or marks them
     * awaiting a probe), decays multipliers, closes the interval's counts and runs the success-rate
     * and failure-percentage detectors on them, and moves recovery timings on. Call every
     * {@code interval}, from one thread.
     */
    public void tick() {
        synchronized (lock) {
            long now = clock.nanoTime();
            List<HostMonitor> hosts = monitors;
            int n = hosts.size();
            boolean[] ejectedAtStart = new boolean[n];
            for (int i = 0; i < n; i++) {
                HostMonitor m = hosts.get(i);
                ejectedAtStart[i] = m.ejected;
                if (m.ejected) {
                    if (now - m.ejectedUntilNanos >= 0) {
                        ejectionTimeOver(m); // the deadline's timer does this at the deadline; the tick backs it up
                    }
                } else if (!m.ejectionWorthySinceTick && m.multiplier > 0) {
                    m.multiplier--;
                }
                m.ejectionWorthySinceTick = false;
            }

            long[] requests = new long[n];
            long[] failures = new long[n];
            for (int i = 0; i < n; i++) {
                HostMonitor.Bucket done = hosts.get(i).swapBucket();
                requests[i] = done.requests.sum();
                failures[i] = Math.min(done.failures.sum(), requests[i]);
            }
            // Who qualifies is settled before either detector ejects anyone, as in Envoy. Hosts that were
            // out when the interval ended are left out: their counts are stragglers from before the ejection.
            List<Integer> successRateHosts = qualified(hosts, ejectedAtStart, requests, config.successRate().requestVolume());
            List<Integer> failurePercentHosts = qualified(hosts, ejectedAtStart, requests,
                    config.failurePercentage().requestVolume());
            successRateEjections(hosts, successRateHosts, requests, failures);
            failurePercentageEjections(hosts, failurePercentHosts, requests, failures);

            for (int i = 0; i < n; i++) {
                HostMonitor m = hosts.get(i);
                for (RecoveryTimeline.Episode episode : m.upstream.recovery().tick()) {
                    publishRecovered(m, episode);
                }
            }
        }
    }

    /**
     * Runs the latency detector (a no-op when {@code latency} is not configured): closes each host's
     * current one-second slice of times to response head, then ejects the hosts whose p90 over the window
     * is above both the threshold and factor x the median host's p90. Call every
     * {@link #LATENCY_CHECK_INTERVAL}, from one thread (the cluster's maintenance does).
     */
    public void checkLatency() {
        if (latencyDetector == null) {
            return;
        }
        synchronized (lock) {
            for (LatencyDetector.Verdict slow : latencyDetector.check(monitors)) {
                tryEject(slow.host(), LATENCY, slow.detail());
            }
        }
    }

    private static List<Integer> qualified(List<HostMonitor> hosts, boolean[] ejectedAtStart, long[] requests, int volume) {
        List<Integer> result = new ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            if (!ejectedAtStart[i] && !hosts.get(i).ejected && requests[i] >= volume) {
                result.add(i);
            }
        }
        return result;
    }

    private void successRateEjections(List<HostMonitor> hosts, List<Integer> qualified, long[] requests, long[] failures) {
        OutlierDetectionConfig.SuccessRateConfig sr = config.successRate();
        if (qualified.isEmpty() || qualified.size() < sr.minimumHosts()) {
            return;
        }
        double[] rates = new double[qualified.size()];
        for (int k = 0; k < rates.length; k++) {
            int i = qualified.get(k);
            rates[k] = 100.0 * (requests[i] - failures[i]) / requests[i];
        }
        SuccessRateStats stats = SuccessRateStats.of(rates, sr.stdevFactor());
        for (int k = 0; k < rates.length; k++) {
            HostMonitor m = hosts.get(qualified.get(k));
            if (rates[k] < stats.threshold() && !m.ejected) {
                Map<String, Object> detail = new LinkedHashMap<>();
                detail.put("success_rate", rates[k]);
                detail.put("mean", stats.mean());
                detail.put("stdev", stats.stdev());
                detail.put("threshold", stats.threshold());
                detail.put("stdev_factor", sr.stdevFactor());
                detail.put("requests", requests[qualified.get(k)]);
                detail.put("request_volume", sr.requestVolume());
                detail.put("minimum_hosts", sr.minimumHosts());
                detail.put("hosts_evaluated", rates.length);
                tryEject(m, SUCCESS_RATE, detail);
            }
        }
    }

    private void failurePercentageEjections(List<HostMonitor> hosts, List<Integer> qualified, long[] requests,
                                            long[] failures) {
        OutlierDetectionConfig.FailurePercentageConfig fp = config.failurePercentage();
        if (qualified.isEmpty() || qualified.size() < fp.minimumHosts()) {
            return;
        }
        for (int i : qualified) {
            HostMonitor m = hosts.get(i);
            double failurePercent = 100.0 * failures[i] / requests[i];
            if (failurePercent >= fp.threshold() && !m.ejected) {
                Map<String, Object> detail = new LinkedHashMap<>();
                detail.put("failure_percentage", failurePercent);
                detail.put("threshold", fp.threshold());
                detail.put("requests", requests[i]);
                detail.put("request_volume", fp.requestVolume());
                detail.put("minimum_hosts", fp.minimumHosts());
                detail.put("hosts_evaluated", qualified.size());
                tryEject(m, FAILURE_PERCENTAGE, detail);
            }
        }
    }

    // ---- transitions, under the lock ----

    /** Called by the one reporter whose failure brought {@code counter} to {@code threshold}. */
    void onConsecutiveFailures(HostMonitor m, String reason, AtomicInteger counter, int threshold) {
        // Reset after the attempt whatever its result, so a further bout is detected afresh (Envoy).
        counter.set(0);
        synchronized (lock) {
            if (!m.attached || m.ejected) {
                return;
            }
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put(reason, threshold);
            tryEject(m, reason, detail);
        }
    }

    private boolean tryEject(HostMonitor m, String reason, Map<String, Object> detail) {
        m.ejectionWorthySinceTick = true;
        int total = monitors.size();
        int ejected = 0;
        for (HostMonitor other : monitors) {
            if (other.ejected) {
                ejected++;
            }
        }
        if (ejected > 0 && ejected * 100.0 / total >= config.maxEjectionPercent()) {
            ejectionsSkipped.increment();
            return false;
        }
        if (m.multiplier == 0 || baseEjectionNanos * m.multiplier < maxEjectionNanos) {
            m.multiplier++;
        }
        long ejectionNanos = Math.min(baseEjectionNanos * m.multiplier, maxEjectionNanos);
        long nowNanos = clock.nanoTime();
        long nowMillis = clock.currentTimeMillis();
        String from = m.upstream.eligible() ? "eligible" : "ineligible";
        boolean probe = config.readmit() == OutlierDetectionConfig.Readmit.PROBE;
        long sinceReadmitNanos = nowNanos - m.probeReadmittedAtNanos;
        m.guarded = probe && m.probeReadmitted && sinceReadmitNanos < readmitGuardNanos;
        m.probePasses = 0;
        m.ejected = true;
        m.awaitingProbe = false;
        m.reason = reason;
        m.ejectedAtNanos = nowNanos;
        m.ejectedUntilNanos = nowNanos + ejectionNanos;
        m.ejectedUntilMillis = nowMillis + ejectionNanos / 1_000_000;
        m.upstream.setOutlier(m.state());
        scheduleReadmission(m);

        detail.put("ejection_time_ms", ejectionNanos / 1_000_000);
        detail.put("times_ejected", m.multiplier);
        detail.put("max_ejection_percent", config.maxEjectionPercent());
        detail.put("ejected_hosts", ejected + 1);
        detail.put("total_hosts", total);
        detail.put("readmit", config.readmit().name().toLowerCase(Locale.ROOT));
        if (probe) {
            detail.put("readmit_guarded", m.guarded);
            if (m.guarded) {
                detail.put("probe_readmitted_ms_ago", sinceReadmitNanos / 1_000_000);
                detail.put("readmit_guard_ms", readmitGuardNanos / 1_000_000);
            }
        }
        events.publish(new StateEvent(nowMillis, "ejected", cluster, m.upstream.address(), from, "ejected", reason, detail));
        return true;
    }

    /** Arms the timer of {@code m}'s ejection deadline (replacing any earlier one). Under the lock. */
    private void scheduleReadmission(HostMonitor m) {
        if (scheduler == null) {
            return;
        }
        cancelReadmission(m);
        long delay = Math.max(0, m.ejectedUntilNanos - clock.nanoTime());
        m.readmission = scheduler.schedule(() -> onEjectionDeadline(m), delay);
    }

    private static void cancelReadmission(HostMonitor m) {
        if (m.readmission != null) {
            m.readmission.cancel();
            m.readmission = null;
        }
    }

    /** The timer of an ejection's deadline: readmits (timer), or marks the host awaiting a probe. */
    private void onEjectionDeadline(HostMonitor m) {
        synchronized (lock) {
            m.readmission = null;
            if (!m.attached || !m.ejected || m.awaitingProbe) {
                return; // readmitted (or removed) meanwhile
            }
            if (clock.nanoTime() - m.ejectedUntilNanos < 0) {
                scheduleReadmission(m); // early (a coarse timer): wait for the rest
                return;
            }
            ejectionTimeOver(m);
        }
    }

    /**
     * The ejection time of {@code m} is over. With probe readmission, passes already counted (a guarded
     * ejection counts them but cannot use them before now) readmit it at once. Under the lock.
     */
    private void ejectionTimeOver(HostMonitor m) {
        if (config.readmit() == OutlierDetectionConfig.Readmit.PROBE) {
            if (m.probePasses >= probeThreshold) {
                readmitByProbe(m);
            } else if (!m.awaitingProbe) {
                m.awaitingProbe = true;
                m.upstream.setOutlier(m.state());
            }
        } else {
            uneject(m, EJECTION_EXPIRED);
        }
    }

    /** {@code healthy-threshold} passes in a row since the ejection (and, if guarded, its time is over). Under the lock. */
    private void readmitByProbe(HostMonitor m) {
        long now = clock.nanoTime();
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("readmitted_by", "probe");
        detail.put("passing_checks", m.probePasses);
        detail.put("healthy_threshold", probeThreshold);
        detail.put("readmit_guarded", m.guarded);
        detail.put("ejection_time_left_ms", Math.max(0, m.ejectedUntilNanos - now) / 1_000_000);
        m.probeReadmitted = true;
        m.probeReadmittedAtNanos = now;
        uneject(m, HEALTH_CHECK_PASSED, detail);
    }

    private void uneject(HostMonitor m, String why) {
        uneject(m, why, Map.of());
    }

    private void uneject(HostMonitor m, String why, Map<String, Object> cause) {
        cancelReadmission(m);
        long nowNanos = clock.nanoTime();
        long nowMillis = clock.currentTimeMillis();
        m.ejected = false;
        m.awaitingProbe = false;
        m.guarded = false;
        m.probePasses = 0;
        if (m.latency != null) {
            m.latency.clear(); // it starts afresh, not with the times that got it ejected
        }
        m.consecutive5xx.set(0);
        m.consecutiveGatewayFailures.set(0);
        m.upstream.setOutlier(null);

        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("ejection_reason", m.reason);
        detail.put("ejected_for_ms", (nowNanos - m.ejectedAtNanos) / 1_000_000);
        detail.put("times_ejected", m.multiplier);
        detail.putAll(cause);
        String to = m.upstream.eligible() ? "eligible" : "ineligible";
        events.publish(new StateEvent(nowMillis, "unejected", cluster, m.upstream.address(), "ejected", to, why, detail));
    }

    private void publishRecovered(HostMonitor m, RecoveryTimeline.Episode episode) {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("time_to_detect_ms", episode.timeToDetectMs());
        episode.timeOutMs().ifPresent(v -> detail.put("time_out_ms", v));
        episode.timeToRecoverMs().ifPresent(v -> detail.put("time_to_recover_ms", v));
        episode.timeToReadmitMs().ifPresent(v -> detail.put("time_to_readmit_ms", v));
        episode.timeToFullShareMs().ifPresent(v -> detail.put("time_to_full_share_ms", v));
        // Stamped when published, like every event, so the log stays in time order; the moment the
        // upstream reached its full share is in the detail.
        episode.fullWeight().ifPresent(at -> detail.put("full_share_at", at.toString()));
        events.publish(new StateEvent(clock.currentTimeMillis(), "recovered", cluster, m.upstream.address(), "recovering", "eligible",
                episode.reason(), detail));
    }
}
