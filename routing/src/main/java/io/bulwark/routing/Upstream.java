package io.bulwark.routing;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import io.bulwark.routing.outlier.OutlierState;
import io.bulwark.routing.recovery.RecoveryTracker;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One upstream: a single resolved address of a cluster, with its state kept as one flag per
 * source (operator drain, active health, operator override, outlier ejection) in the manner of
 * Envoy's {@code Host::HealthFlag}. Load balancers read only {@link #eligible()} and
 * {@link #effectiveWeight()}; the admin API shows every flag and {@link #reasons()}.
 *
 * <p>The data plane reports what happened through {@link #onRequestStart()},
 * {@link #onResponse(int, long)}, {@link #onLocalFailure(FailureKind, long)}, {@link #onCancelled(long)}
 * and {@link #onRequestEnd()}; it never decides state. Outcomes go on to the {@link OutcomeListener}
 * the cluster's outlier detector attached, which owns the ejection state machine and sets the
 * outlier flag through {@link #setOutlier(OutlierState)}. Shared by every event loop, so every
 * field is atomic or volatile; reporting is lock-free.
 *
 * <h2>Slow start</h2>
 * When the upstream becomes eligible again (un-ejected, health back, restored from a drain, weight
 * back above 0) or is added by DNS to a running cluster, {@link #effectiveWeight()} ramps linearly
 * over the cluster's {@code slow-start}, as Envoy's slow start with aggression 1 does:
 * {@code weight * max(10%, elapsed / slow-start)}. The 10% floor is Envoy's default
 * {@code min_weight_percent}, so a returning host gets some traffic at once.
 */
public final class Upstream {

    /** Operator drain state. */
    public enum AdminState { ACTIVE, DRAINING, DRAINED }

    /** Result of active health checks. */
    public enum Health { HEALTHY, UNHEALTHY, UNKNOWN }

    /** An operator's word on health, which beats the checks. */
    public enum HealthOverride { NONE, HEALTHY, UNHEALTHY }

    /** Share of its weight a host gets at the very start of slow start (Envoy's {@code min_weight_percent}). */
    public static final double SLOW_START_MIN_WEIGHT_FRACTION = 0.1;

    private final String cluster;
    private final String address;
    private final InetSocketAddress socketAddress;
    private final int configuredWeight;
    private final Runnable onStateChange;
    private final Clock clock;
    private final long slowStartNanos;
    private final RecoveryTracker recovery;

    private volatile AdminState admin = AdminState.ACTIVE;
    private volatile Health health = Health.UNKNOWN;
    private volatile HealthOverride override = HealthOverride.NONE;
    private volatile int weight;
    /** The outlier detector's flag: null while not ejected. */
    private volatile OutlierState outlier;
    private volatile OutcomeListener outcomeListener = OutcomeListener.NONE;
    /** Where transitions the upstream makes by itself (a drain completing) are published. */
    private volatile EventSink events = EventSink.NONE;

    /** Slow start: when the current ramp began, published by {@link #warming}. */
    private volatile long rampStartNanos;
    private volatile boolean warming;
    /** Eligibility after the last state change, to spot transitions; guarded by {@link #transitionLock}. */
    private boolean wasEligible;
    private final Object transitionLock = new Object();

    private final AtomicInteger activeRequests = new AtomicInteger();
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();

    /** Peak-EWMA of response latency in nanoseconds (as a double's raw bits) and when it was last updated. */
    private final AtomicLong ewmaBits = new AtomicLong(Double.doubleToRawLongBits(0.0));
    private final AtomicLong ewmaStamp = new AtomicLong();

    /**
     * @param address the {@code host:port} name shown to operators
     * @param onStateChange called after any change that can alter eligibility, so the cluster rebuilds its {@link HostSet}
     */
    public Upstream(String cluster, String address, InetSocketAddress socketAddress, int configuredWeight,
                    Clock clock, Runnable onStateChange) {
        this(cluster, address, socketAddress, configuredWeight, Duration.ZERO, clock, onStateChange);
    }

    /**
     * @param slowStart how long a returning upstream's share of traffic takes to ramp up; zero = none
     */
    public Upstream(String cluster, String address, InetSocketAddress socketAddress, int configuredWeight,
                    Duration slowStart, Clock clock, Runnable onStateChange) {
        this.cluster = cluster;
        this.address = address;
        this.socketAddress = socketAddress;
        this.configuredWeight = configuredWeight;
        this.weight = configuredWeight;
        this.clock = clock;
        this.onStateChange = onStateChange;
        this.slowStartNanos = Math.max(0, slowStart.toNanos());
        this.recovery = new RecoveryTracker(clock);
        this.ewmaStamp.set(clock.nanoTime());
        this.wasEligible = eligible();
    }

    public String cluster() {
        return cluster;
    }

    public String address() {
        return address;
    }

    public InetSocketAddress socketAddress() {
        return socketAddress;
    }

    public AdminState admin() {
        return admin;
    }

    public Health health() {
        return health;
    }

    public HealthOverride override() {
        return override;
    }

    public int configuredWeight() {
        return configuredWeight;
    }

    /** The weight in force: the configured one unless an operator set another. */
    public int weight() {
        return weight;
    }

    /**
     * The weight a balancer should use now. Equal to {@link #weight()} except while a returning
     * upstream ramps up under slow start: then {@code weight * max(10%, elapsed / slow-start)}.
     * Cheap enough to call on every pick. Balancers that build structures from weights (ring hash)
     * see it when they rebuild, i.e. at each new {@link HostSet} snapshot; {@link Cluster#tick()}
     * publishes one every tick while any host is warming up.
     */
    public double effectiveWeight() {
        int w = weight;
        if (!warming) {
            return w;
        }
        long elapsed = clock.nanoTime() - rampStartNanos;
        if (elapsed >= slowStartNanos) {
            return w;
        }
        return w * Math.max(SLOW_START_MIN_WEIGHT_FRACTION, (double) Math.max(0, elapsed) / slowStartNanos);
    }

    /** True while slow start holds {@link #effectiveWeight()} below {@link #weight()}. */
    public boolean warmingUp() {
        return warming && clock.nanoTime() - rampStartNanos < slowStartNanos;
    }

    /** The configured slow-start ramp; zero when there is none. */
    public Duration slowStart() {
        return Duration.ofNanos(slowStartNanos);
    }

    /**
     * Starts the slow-start ramp now (no-op without slow start). Called by the cluster for an upstream
     * DNS adds to a running cluster; returns to eligibility start it by themselves.
     */
    public void startSlowStart() {
        if (slowStartNanos > 0) {
            rampStartNanos = clock.nanoTime();
            warming = true;
        }
    }

    /** The outlier detector's ejection of this upstream; empty while it is not ejected. */
    public Optional<OutlierState> outlier() {
        return Optional.ofNullable(outlier);
    }

    /** When this upstream last failed, how long detection and recovery took, and their history. */
    public RecoveryTracker recovery() {
        return recovery;
    }

    /** True when a load balancer may send new requests here. Allocation-free twin of {@code reasons().isEmpty()}. */
    public boolean eligible() {
        if (admin != AdminState.ACTIVE || weight <= 0 || outlier != null) {
            return false;
        }
        return switch (override) {
            case UNHEALTHY -> false;
            case HEALTHY -> true;
            case NONE -> health != Health.UNHEALTHY;
        };
    }

    /** Why this upstream gets no traffic; empty when it is eligible. */
    public List<String> reasons() {
        List<String> reasons = new ArrayList<>(2);
        switch (admin) {
            case DRAINING -> reasons.add("draining");
            case DRAINED -> reasons.add("drained");
            default -> { }
        }
        switch (override) {
            case UNHEALTHY -> reasons.add("override_unhealthy");
            case HEALTHY -> { }
            case NONE -> {
                if (health == Health.UNHEALTHY) {
                    reasons.add("health_check_failed");
                }
            }
        }
        OutlierState ejection = outlier;
        if (ejection != null) {
            reasons.add("outlier_ejected");
            if (ejection.awaitingProbe()) {
                reasons.add("outlier_ejected_awaiting_probe");
            }
        }
        if (weight <= 0) {
            reasons.add("zero_weight");
        }
        return reasons;
    }

    // ---- state changes (operator, health checker); each notifies the cluster ----

    /**
     * Sets the operator state. Draining an upstream with nothing in flight makes it
     * {@link AdminState#DRAINED} at once: "drained" means draining with nothing in flight, and
     * no request end would ever come to complete the drain.
     */
    public void setAdmin(AdminState state) {
        this.admin = state;
        if (state == AdminState.DRAINING && activeRequests.get() == 0) {
            ADMIN.compareAndSet(this, AdminState.DRAINING, AdminState.DRAINED);
        }
        stateChanged();
    }

    /**
     * Sets the active-check verdict. {@link Health#UNHEALTHY} takes the upstream out (a recovery
     * episode starts). A verdict is not a passing check: probe readmission counts the checks
     * themselves, which the health checker reports to the outlier detector with their start.
     */
    public void setHealth(Health health) {
        this.health = health;
        stateChanged();
    }

    public void setOverride(HealthOverride override) {
        this.override = override;
        stateChanged();
    }

    public void setWeight(int weight) {
        this.weight = weight;
        stateChanged();
    }

    /**
     * Sets or (with null) clears the outlier-ejection flag. For the cluster's outlier detector only,
     * which owns the ejection state machine; operators uneject through the detector.
     */
    public void setOutlier(OutlierState state) {
        this.outlier = state;
        stateChanged();
    }

    /** Sets where transitions this upstream makes by itself (draining -> drained) are published; for its cluster. */
    public void setEventSink(EventSink sink) {
        this.events = sink == null ? EventSink.NONE : sink;
    }

    /** Attaches the detector that receives this upstream's outcomes; for the cluster's outlier detector. */
    public void setOutcomeListener(OutcomeListener listener) {
        this.outcomeListener = listener == null ? OutcomeListener.NONE : listener;
    }

    /**
     * After any flag change: starts slow start on a return to eligibility, moves the recovery episode
     * on, then lets the cluster rebuild its snapshot (outside the lock: the rebuild takes the cluster's).
     */
    private void stateChanged() {
        synchronized (transitionLock) {
            boolean nowEligible = eligible();
            long nanos = clock.nanoTime();
            long millis = clock.currentTimeMillis();
            if (nowEligible && !wasEligible) {
                startSlowStart();
            }
            wasEligible = nowEligible;
            OutlierState ejection = outlier;
            boolean healthOut = override == HealthOverride.NONE && health == Health.UNHEALTHY;
            if (ejection != null || healthOut) {
                recovery.takenOut(millis, nanos, ejection != null ? ejection.reason() : "health_check_failed");
            } else if (nowEligible) {
                long fullNanos = warmingUp() ? rampStartNanos + slowStartNanos : nanos;
                recovery.serving(millis, nanos, fullNanos);
            }
        }
        onStateChange.run();
    }

    // ---- outcomes reported by the data plane ----

    public int activeRequests() {
        return activeRequests.get();
    }

    public long requests() {
        return requests.sum();
    }

    public long failures() {
        return failures.sum();
    }

    /** A request was sent (or is about to be) to this upstream. */
    public void onRequestStart() {
        activeRequests.incrementAndGet();
        requests.increment();
    }

    /**
     * The try on this upstream ended with {@code outcome}: a response (see {@link #onResponse}) or a
     * local failure (see {@link #onLocalFailure(FailureKind, long)}). The data plane reports each try
     * once, here. A gRPC answer is judged by its {@code grpc-status} ({@link TryOutcome#judgedStatus()}:
     * UNAVAILABLE, INTERNAL and DEADLINE_EXCEEDED count as 503, 500 and 504), so a service failing
     * behind HTTP 200 is found as one answering 5xx is.
     */
    public void report(TryOutcome outcome) {
        if (outcome.answered()) {
            onResponse(outcome.judgedStatus(), outcome.latencyNanos());
        } else {
            onLocalFailure(outcome.failure(), outcome.latencyNanos());
        }
    }

    /** The upstream answered with {@code status} after {@code latencyNanos}. */
    public void onResponse(int status, long latencyNanos) {
        if (status >= 500) {
            failures.increment();
            recovery.onFailure();
        } else {
            recovery.onSuccess();
        }
        recordLatency(latencyNanos);
        OutcomeListener listener = outcomeListener;
        listener.onLatency(latencyNanos);
        listener.onResponse(status);
    }

    /**
     * The try failed locally after {@code latencyNanos}, kind unknown; counted as a
     * {@link FailureKind#RESET}. Prefer {@link #onLocalFailure(FailureKind, long)}.
     */
    public void onLocalFailure(long latencyNanos) {
        onLocalFailure(FailureKind.RESET, latencyNanos);
    }

    /**
     * The try failed locally ({@code kind}) after {@code latencyNanos}, with no response from the upstream.
     * A {@link FailureKind#TIMEOUT} is also a time to response head of at least {@code latencyNanos} for
     * the latency detector.
     */
    public void onLocalFailure(FailureKind kind, long latencyNanos) {
        failures.increment();
        recovery.onFailure();
        recordLatency(latencyNanos);
        OutcomeListener listener = outcomeListener;
        if (kind == FailureKind.TIMEOUT) {
            listener.onLatency(latencyNanos);
        }
        listener.onLocalFailure(kind);
    }

    /**
     * The try on this upstream was cancelled {@code ageNanos} after it started because its hedge won.
     * It feeds the latency detector only, as a time to response head of at least {@code ageNanos} — never
     * a failure, a request or a response — so that with hedging on an upstream that never answers is
     * still seen as slow. Call it instead of {@link #report}; {@link #onRequestEnd()} still follows.
     */
    public void onCancelled(long ageNanos) {
        outcomeListener.onLatency(ageNanos);
    }

    /** The request is over (whatever its outcome); pairs with {@link #onRequestStart()}. */
    public void onRequestEnd() {
        // Only the thread that ends the last request and wins the CAS completes the drain, and a
        // concurrent restore to ACTIVE is never overwritten.
        if (activeRequests.decrementAndGet() == 0 && admin == AdminState.DRAINING
                && ADMIN.compareAndSet(this, AdminState.DRAINING, AdminState.DRAINED)) {
            stateChanged();
            events.publish(new StateEvent(clock.currentTimeMillis(), "drained", cluster, address, "draining",
                    "drained", "in_flight_finished", Map.of()));
        }
    }

    // ---- peak-EWMA latency, as linkerd2-proxy's balancer keeps it ----

    /** Decay time constant of the latency average. */
    static final double EWMA_DECAY_NANOS = 10_000_000_000.0;

    private void recordLatency(long latencyNanos) {
        long now = clock.nanoTime();
        while (true) {
            long oldBits = ewmaBits.get();
            double old = Double.longBitsToDouble(oldBits);
            long last = ewmaStamp.get();
            double updated;
            if (latencyNanos > old) {
                updated = latencyNanos; // peak: jump up at once
            } else {
                double elapsed = Math.max(0, now - last);
                double w = Math.exp(-elapsed / EWMA_DECAY_NANOS);
                updated = old * w + latencyNanos * (1 - w);
            }
            if (ewmaBits.compareAndSet(oldBits, Double.doubleToRawLongBits(updated))) {
                ewmaStamp.set(now);
                return;
            }
        }
    }

    /** Current peak-EWMA latency estimate in nanoseconds (0 before the first response). */
    public double ewmaLatencyNanos() {
        return Double.longBitsToDouble(ewmaBits.get());
    }

    /**
     * The estimate as a balancer should read it now: {@link #ewmaLatencyNanos()} decayed toward zero
     * for the time since the last response, as linkerd2-proxy's {@code PeakEwma} decays on every read.
     * Without it an upstream that once answered slowly and then lost every comparison would never be
     * tried again, so its estimate would never come down. 0 before the first response.
     */
    public double decayedEwmaLatencyNanos() {
        double estimate = ewmaLatencyNanos();
        if (estimate == 0) {
            return 0;
        }
        long elapsed = clock.nanoTime() - ewmaStamp.get();
        return elapsed <= 0 ? estimate : estimate * Math.exp(-elapsed / EWMA_DECAY_NANOS);
    }

    @Override
    public String toString() {
        return cluster + "/" + address;
    }

    private static final VarHandle ADMIN;

    static {
        try {
            ADMIN = MethodHandles.lookup().findVarHandle(Upstream.class, "admin", AdminState.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
