package io.bulwark.routing.circuit;

import io.bulwark.config.CircuitBreakerConfig;
import io.bulwark.routing.Clock;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowSynchronizationStrategy;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowType;
import io.github.resilience4j.circuitbreaker.event.CircuitBreakerOnStateTransitionEvent;

import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The circuit breaker of one cluster ({@code circuit-breaker} block): a Resilience4j
 * {@link CircuitBreaker} over a window of the last {@code sliding-window-duration} (the default,
 * {@code sliding-window-type = time}) or of the last {@code sliding-window-size} calls
 * ({@code type = count}). It opens when, after at least {@code minimum-calls} calls, the failure
 * rate or the slow-call rate (calls slower than {@code slow-call-duration}) reaches its threshold;
 * while open every {@link #tryAcquire()} is refused (503 {@code circuit_open}); the first
 * {@code tryAcquire} after {@code wait-in-open} has passed moves it to half-open, where
 * {@code half-open-calls} trial calls decide between closed and open again. No thread moves it:
 * Resilience4j's automatic transition is off, so everything happens on the calling thread, on the
 * injected {@link Clock} (the time window too: it uses Resilience4j's synchronized time window,
 * which reads the configured clock; its lock-free one reads the system clock).
 *
 * <h2>Use from the data plane: one call per request, not per try</h2>
 * At admission: {@link #tryAcquire()}. When the request's final outcome is known — after its
 * retries, at the response head — exactly one of {@link #onResponse(int, long)} /
 * {@link #onLocalFailure(long)} (or the raw {@link #onSuccess(long)} / {@link #onFailure(long)}),
 * or {@link #releasePermission()} when the outcome is not the upstreams' doing (the client went
 * away, the bulkhead refused it, no upstream was eligible). A try that failed and was retried
 * successfully is a success here: failing hosts are the outlier detector's business. A permission
 * that is neither reported nor released would hold one of the few half-open slots for good.
 *
 * <h2>What counts as a failure</h2>
 * Upstream 5xx responses and local failures (connect failure, reset, protocol error, timeout);
 * for gRPC, the statuses of {@link #isGrpcFailure(int)}. Any other response, 4xx included, is a
 * success: the upstream is answering. Slow calls count whatever their outcome.
 *
 * <h2>Disabled</h2>
 * With {@code enabled = false} there is no Resilience4j breaker: every call is permitted,
 * {@link #state()} says {@code closed}, {@link #enabled()} false, and no transition ever fires.
 *
 * <p>Thread-safe and lock-free (Resilience4j's {@code LOCK_FREE} sliding window).
 */
public final class ClusterCircuitBreaker {

    public static final String CLOSED = "closed";
    public static final String OPEN = "open";
    public static final String HALF_OPEN = "half_open";

    /** What Resilience4j records for a failed call; never thrown, so no stack trace is taken. */
    private static final Throwable UPSTREAM_FAILURE = new UpstreamFailure();

    private final String cluster;
    private final CircuitBreakerConfig config;
    private final Clock clock;
    /** Null when disabled. */
    private final CircuitBreaker breaker;
    private final List<Consumer<Transition>> listeners;
    private volatile java.util.function.IntSupplier eligibleUpstreams = () -> -1;
    /** Set while {@link #onUpstreamRecovered} moves the breaker, for the transition's reason. */
    private volatile boolean recovering;

    public ClusterCircuitBreaker(String cluster, CircuitBreakerConfig config, Clock clock) {
        this(cluster, config, clock, new CopyOnWriteArrayList<>());
    }

    private ClusterCircuitBreaker(String cluster, CircuitBreakerConfig config, Clock clock,
                                  List<Consumer<Transition>> listeners) {
        this.cluster = cluster;
        this.config = config;
        this.clock = clock;
        this.listeners = listeners;
        this.breaker = config.enabled() ? CircuitBreaker.of(cluster, resilience4jConfig(config, clock)) : null;
        if (breaker != null) {
            breaker.getEventPublisher().onStateTransition(this::publish);
        }
    }

    static io.github.resilience4j.circuitbreaker.CircuitBreakerConfig resilience4jConfig(
            CircuitBreakerConfig config, Clock clock) {
        var builder = io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.custom();
        if (config.slidingWindowType() == CircuitBreakerConfig.WindowType.TIME) {
            int seconds = (int) Math.max(1, config.slidingWindowDuration().toSeconds());
            // SYNCHRONIZED: the time window that reads the injected clock (one short lock per request).
            builder.slidingWindow(seconds, config.minimumCalls(), SlidingWindowType.TIME_BASED,
                    SlidingWindowSynchronizationStrategy.SYNCHRONIZED);
        } else {
            int window = config.slidingWindowSize();
            builder.slidingWindow(window, Math.min(config.minimumCalls(), window), SlidingWindowType.COUNT_BASED,
                    SlidingWindowSynchronizationStrategy.LOCK_FREE);
        }
        return builder
                .failureRateThreshold((float) config.failureRateThreshold())
                .slowCallDurationThreshold(config.slowCallDuration())
                .slowCallRateThreshold((float) config.slowCallRateThreshold())
                .waitDurationInOpenState(config.waitInOpen())
                .permittedNumberOfCallsInHalfOpenState(config.halfOpenCalls())
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .clock(new ClockAdapter(clock))
                .currentTimestampFunction(c -> clock.nanoTime(), TimeUnit.NANOSECONDS)
                .build();
    }

    /**
     * The breaker for a reloaded cluster config: this one when nothing changed; otherwise a new one
     * that starts in this one's state (open starts a fresh wait-in-open; half-open starts a fresh
     * trial) and keeps the transition listeners. The new breaker's window starts empty.
     */
    public ClusterCircuitBreaker reconfigured(CircuitBreakerConfig newConfig) {
        if (newConfig.equals(config)) {
            return this;
        }
        ClusterCircuitBreaker next = new ClusterCircuitBreaker(cluster, newConfig, clock, new CopyOnWriteArrayList<>());
        if (next.breaker != null) {
            String state = state();
            if (OPEN.equals(state) || HALF_OPEN.equals(state)) {
                next.breaker.transitionToOpenState();
            }
            if (HALF_OPEN.equals(state)) {
                next.breaker.transitionToHalfOpenState();
            }
        }
        next.listeners.addAll(listeners);
        next.eligibleUpstreams = eligibleUpstreams;
        return next;
    }

    public String cluster() {
        return cluster;
    }

    public CircuitBreakerConfig config() {
        return config;
    }

    public boolean enabled() {
        return breaker != null;
    }

    /**
     * Asks to send one request to the cluster. False while open (and in half-open once its trial
     * calls are taken): answer 503 {@code circuit_open} without touching an upstream. The first call
     * after wait-in-open moves an open breaker to half-open and takes one of its trial permissions.
     */
    public boolean tryAcquire() {
        return breaker == null || breaker.tryAcquirePermission();
    }

    /** The permitted request got its final response head from an upstream; 5xx counts as a failure. */
    public void onResponse(int status, long durationNanos) {
        if (isFailure(status)) {
            onFailure(durationNanos);
        } else {
            onSuccess(durationNanos);
        }
    }

    /** The permitted request failed locally after its retries (connect failure, reset, timeout): a failure. */
    public void onLocalFailure(long durationNanos) {
        onFailure(durationNanos);
    }

    /** The permitted request succeeded after {@code durationNanos} (slow if over slow-call-duration). */
    public void onSuccess(long durationNanos) {
        if (breaker != null) {
            breaker.onSuccess(Math.max(0, durationNanos), TimeUnit.NANOSECONDS);
        }
    }

    /** The permitted request failed after {@code durationNanos}. */
    public void onFailure(long durationNanos) {
        if (breaker != null) {
            breaker.onError(Math.max(0, durationNanos), TimeUnit.NANOSECONDS, UPSTREAM_FAILURE);
        }
    }

    /** The permitted request ended without an outcome of the upstreams': gives the permission back unrecorded. */
    public void releasePermission() {
        if (breaker != null) {
            breaker.releasePermission();
        }
    }

    /** Whether a response status counts as a failure for the breaker: any 5xx. */
    public static boolean isFailure(int status) {
        return status >= 500;
    }

    /**
     * Whether a gRPC status carried in an HTTP 200 counts as a failure: UNAVAILABLE (14), INTERNAL
     * (13) and DEADLINE_EXCEEDED (4) say the service is not answering well; the others (NOT_FOUND,
     * INVALID_ARGUMENT, ...) are answers. The outlier detector judges by the same rule
     * ({@link io.bulwark.routing.GrpcStatus#isFailure}).
     */
    public static boolean isGrpcFailure(int grpcStatus) {
        return io.bulwark.routing.GrpcStatus.isFailure(grpcStatus);
    }

    /**
     * Tells the breaker how many upstreams of its cluster are eligible right now, so that an
     * opening while some are can say so ({@link Transition#eligibleUpstreams()}). The owning
     * cluster sets it, and the cluster that takes the breaker over on a reload sets it again.
     */
    public void watchEligible(java.util.function.IntSupplier eligibleUpstreams) {
        this.eligibleUpstreams = eligibleUpstreams;
    }

    /** {@code closed}, {@code open} or {@code half_open} (for the admin API and the state gauge). */
    public String state() {
        return breaker == null ? CLOSED : name(breaker.getState());
    }

    /**
     * The failure rate in percent over the current window (the half-open trial while half-open);
     * empty until the window holds minimum-calls calls (Resilience4j's -1). The admin API shows
     * empty as {@code null}, or 0 where a number is required. Always empty when disabled.
     */
    public OptionalDouble failureRate() {
        return breaker == null ? OptionalDouble.empty() : rate(breaker.getMetrics().getFailureRate());
    }

    /** The slow-call rate in percent, like {@link #failureRate()}. */
    public OptionalDouble slowCallRate() {
        return breaker == null ? OptionalDouble.empty() : rate(breaker.getMetrics().getSlowCallRate());
    }

    /** Calls refused so far by this breaker. */
    public long notPermittedCount() {
        return breaker == null ? 0 : breaker.getMetrics().getNumberOfNotPermittedCalls();
    }

    /**
     * An upstream of the cluster became eligible again (its active checks pass, or it was
     * readmitted): an open breaker goes half-open now instead of waiting out the rest of
     * {@code wait-in-open}. The breaker opened because the upstreams failed; this is the evidence
     * of recovery it was waiting for, and half-open still lets only {@code half-open-calls} trial
     * requests through, so a false recovery reopens it at once. Without it, a cluster whose every
     * upstream was down refuses requests for up to {@code wait-in-open} after the first one heals.
     */
    public void onUpstreamRecovered() {
        if (breaker != null && breaker.getState() == CircuitBreaker.State.OPEN) {
            recovering = true;
            try {
                breaker.transitionToHalfOpenState();
            } catch (IllegalStateException raced) {
                // another thread moved it first (wait-in-open elapsed, or another recovery): fine
            } finally {
                recovering = false;
            }
        }
    }

    /**
     * Calls {@code listener} on every state change, on the thread that caused it (an event loop:
     * the listener must not block). For the event log ({@code t -> events.publish(t.toEvent())})
     * and the {@code bulwark_circuit_breaker_state{cluster,state}} gauge.
     */
    public void onTransition(Consumer<Transition> listener) {
        listeners.add(listener);
    }

    private void publish(CircuitBreakerOnStateTransitionEvent event) {
        String from = name(event.getStateTransition().getFromState());
        String to = name(event.getStateTransition().getToState());
        CircuitBreaker.Metrics metrics = breaker.getMetrics();
        double failureRate = rate(metrics.getFailureRate()).orElse(0);
        double slowCallRate = rate(metrics.getSlowCallRate()).orElse(0);
        Transition transition = new Transition(cluster, from, to, reason(from, to, failureRate),
                clock.currentTimeMillis(), failureRate, slowCallRate, config.failureRateThreshold(),
                config.slowCallRateThreshold(), metrics.getNumberOfBufferedCalls(), metrics.getNumberOfFailedCalls(),
                metrics.getNumberOfSlowCalls(), OPEN.equals(to) ? eligibleUpstreams.getAsInt() : -1);
        for (Consumer<Transition> listener : listeners) {
            listener.accept(transition);
        }
    }

    private String reason(String from, String to, double failureRate) {
        if (OPEN.equals(to)) {
            if (HALF_OPEN.equals(from)) {
                return "half_open_calls_failed";
            }
            return failureRate >= config.failureRateThreshold() ? "failure_rate" : "slow_call_rate";
        }
        if (HALF_OPEN.equals(to)) {
            return recovering ? "upstream_recovered" : "wait_in_open_elapsed";
        }
        return HALF_OPEN.equals(from) ? "half_open_calls_succeeded" : "transition";
    }

    private static OptionalDouble rate(float value) {
        return value < 0 ? OptionalDouble.empty() : OptionalDouble.of(value);
    }

    private static String name(CircuitBreaker.State state) {
        return switch (state) {
            case OPEN, FORCED_OPEN -> OPEN;
            case HALF_OPEN -> HALF_OPEN;
            case CLOSED, DISABLED, METRICS_ONLY -> CLOSED;
        };
    }

    /** The failure Resilience4j records; carries no stack trace. */
    private static final class UpstreamFailure extends RuntimeException {
        UpstreamFailure() {
            super("upstream failure", null, false, false);
        }
    }
}
