package io.bulwark.routing;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One upstream: a single resolved address of a cluster, with its state kept as one flag per
 * source (operator drain, active health, operator override) in the manner of Envoy's
 * {@code Host::HealthFlag}. Load balancers read only {@link #eligible()}; the admin API shows
 * every flag and {@link #reasons()}.
 *
 * <p>The data plane reports what happened through {@link #onRequestStart()},
 * {@link #onResponse(int, long)} and {@link #onLocalFailure(long)}; it never decides state.
 * Shared by every event loop, so every field is atomic or volatile.
 */
public final class Upstream {

    /** Operator drain state. */
    public enum AdminState { ACTIVE, DRAINING, DRAINED }

    /** Result of active health checks. */
    public enum Health { HEALTHY, UNHEALTHY, UNKNOWN }

    /** An operator's word on health, which beats the checks. */
    public enum HealthOverride { NONE, HEALTHY, UNHEALTHY }

    private final String cluster;
    private final String address;
    private final InetSocketAddress socketAddress;
    private final int configuredWeight;
    private final Runnable onStateChange;
    private final Clock clock;

    private volatile AdminState admin = AdminState.ACTIVE;
    private volatile Health health = Health.UNKNOWN;
    private volatile HealthOverride override = HealthOverride.NONE;
    private volatile int weight;

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
        this.cluster = cluster;
        this.address = address;
        this.socketAddress = socketAddress;
        this.configuredWeight = configuredWeight;
        this.weight = configuredWeight;
        this.clock = clock;
        this.onStateChange = onStateChange;
        this.ewmaStamp.set(clock.nanoTime());
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
     * upstream ramps up under slow start.
     */
    public double effectiveWeight() {
        return weight;
    }

    /** True when a load balancer may send new requests here. Allocation-free twin of {@code reasons().isEmpty()}. */
    public boolean eligible() {
        if (admin != AdminState.ACTIVE || weight <= 0) {
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
        onStateChange.run();
    }

    public void setHealth(Health health) {
        this.health = health;
        onStateChange.run();
    }

    public void setOverride(HealthOverride override) {
        this.override = override;
        onStateChange.run();
    }

    public void setWeight(int weight) {
        this.weight = weight;
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

    /** The upstream answered with {@code status} after {@code latencyNanos}. */
    public void onResponse(int status, long latencyNanos) {
        if (status >= 500) {
            failures.increment();
        }
        recordLatency(latencyNanos);
    }

    /** The try failed locally (connect failure, reset, timeout) after {@code latencyNanos}. */
    public void onLocalFailure(long latencyNanos) {
        failures.increment();
        recordLatency(latencyNanos);
    }

    /** The request is over (whatever its outcome); pairs with {@link #onRequestStart()}. */
    public void onRequestEnd() {
        // Only the thread that ends the last request and wins the CAS completes the drain, and a
        // concurrent restore to ACTIVE is never overwritten.
        if (activeRequests.decrementAndGet() == 0 && admin == AdminState.DRAINING
                && ADMIN.compareAndSet(this, AdminState.DRAINING, AdminState.DRAINED)) {
            onStateChange.run();
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
