package io.bulwark.routing.health;

import io.bulwark.config.HealthCheckConfig;
import io.bulwark.routing.Clock;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.Upstream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;

/**
 * Runs the active health checks of one cluster's upstreams. Each upstream has its own loop: check,
 * wait for the result (at most {@code timeout}), feed it to the upstream's {@link HealthCheckState},
 * then schedule the next check {@code interval} &plusmn; jitter after that result (the shorter
 * {@code transition-interval} while a flip or a probe readmission is underway), so checks of one
 * upstream never overlap and a slow upstream is not checked more often. The first checks of the
 * upstreams are spread evenly over one interval (plus a random part of the jitter window), so a
 * large cluster is checked at a steady rate rather than in bursts; the jitter keeps them spread.
 *
 * <p>The scheduler does no I/O and owns no thread: the {@link Prober} does the HTTP and the
 * {@link DelayScheduler} (an event loop in the proxy, a manual one in tests) runs one timer at a
 * time. Checks and their deadlines fall on a grid of 50 ms (see {@link #tickNanos()}) and wait in a
 * timing wheel, so a grid point with fifty checks due is one wake-up. A probe that has not reported
 * within {@code timeout} counts as a {@link ProbeResult#timeout()}, and its late report is ignored;
 * exactly one result per check is recorded, whichever comes first.
 *
 * <p>{@link #update} follows the cluster's upstream list (DNS adds and removes); {@link #close()}
 * stops everything. A reloaded {@code health-check} block needs a new scheduler: close the old one,
 * the upstreams keep their health flag.
 */
public final class HealthCheckScheduler implements AutoCloseable {

    /** Jitter when the caller does not say: up to 10% of the interval either way. */
    public static final double DEFAULT_JITTER_FRACTION = 0.1;

    /** Check times fall on a grid (see {@link #tickNanos()}) of this step... */
    static final long MAX_TICK_NANOS = 50_000_000L;
    /** ...or of this many points per interval when that is finer... */
    static final int MIN_TICKS_PER_INTERVAL = 20;
    /** ...but never closer together than this. */
    static final long MIN_TICK_NANOS = 1_000_000L;

    private final HealthCheckConfig config;
    private final Prober prober;
    private final DelayScheduler timers;
    private final Clock clock;
    private final EventSink events;
    private final HealthCheckListener listener;
    private final DoubleSupplier jitter;
    private final long intervalNanos;
    private final long maxJitterNanos;
    private final long timeoutNanos;
    private final long tickNanos;
    /** Where the grid of check times starts: the scheduler's creation. */
    private final long originNanos;
    private final Map<Upstream, Checker> checkers = new ConcurrentHashMap<>();
    private final TimingWheel wheel;
    private volatile boolean closed;

    /** With the default jitter: a uniformly random shift of up to 10% of the interval. */
    public HealthCheckScheduler(HealthCheckConfig config, Prober prober, DelayScheduler timers, Clock clock,
                                EventSink events, HealthCheckListener listener) {
        this(config, prober, timers, clock, events, listener,
                () -> ThreadLocalRandom.current().nextDouble(-1, 1),
                Duration.ofNanos((long) (config.interval().toNanos() * DEFAULT_JITTER_FRACTION)));
    }

    /**
     * @param jitter fractions in {@code [-1, 1]} of {@code maxJitter}; a constant 0 gives exact intervals
     * @param maxJitter the largest shift of a check from its interval
     */
    public HealthCheckScheduler(HealthCheckConfig config, Prober prober, DelayScheduler timers, Clock clock,
                                EventSink events, HealthCheckListener listener, DoubleSupplier jitter,
                                Duration maxJitter) {
        this.config = config;
        this.prober = prober;
        this.timers = timers;
        this.clock = clock;
        this.events = events;
        this.listener = listener;
        this.jitter = jitter;
        this.intervalNanos = config.interval().toNanos();
        this.maxJitterNanos = Math.max(0, maxJitter.toNanos());
        this.timeoutNanos = config.timeout().toNanos();
        this.tickNanos = Math.max(MIN_TICK_NANOS, Math.min(MAX_TICK_NANOS, intervalNanos / MIN_TICKS_PER_INTERVAL));
        this.originNanos = clock.nanoTime();
        long furthest = Math.max(intervalNanos + maxJitterNanos, timeoutNanos);
        this.wheel = new TimingWheel((int) Math.min(Integer.MAX_VALUE - 8, furthest / tickNanos + 3), timers, clock,
                originNanos, tickNanos);
    }

    public HealthCheckConfig config() {
        return config;
    }

    /**
     * Checks exactly {@code upstreams} from now on: starts checking new ones, stops checking those no
     * longer listed (a check of theirs in flight is ignored when it reports). Call it with the
     * cluster's upstreams at start and after every DNS change. The first checks of the upstreams
     * this call adds are spread evenly over one interval (the k-th of n after {@code k/n} of it, plus
     * jitter), so a large cluster is checked at a steady rate, never in a burst.
     */
    public synchronized void update(Collection<? extends Upstream> upstreams) {
        if (closed) {
            return;
        }
        Set<Upstream> wanted = Collections.newSetFromMap(new IdentityHashMap<>());
        wanted.addAll(upstreams);
        checkers.entrySet().removeIf(e -> {
            if (wanted.contains(e.getKey())) {
                return false;
            }
            e.getValue().stop();
            prober.release(e.getKey());
            return true;
        });
        List<Checker> added = new ArrayList<>();
        for (Upstream u : upstreams) {
            if (!checkers.containsKey(u)) {
                Checker checker = new Checker(new HealthCheckState(u, config, clock, events, listener));
                checkers.put(u, checker);
                added.add(checker);
            }
        }
        int n = added.size();
        long ticks = Math.max(1, intervalNanos / tickNanos);
        for (int k = 0; k < n; k++) {
            long spread = (long) ((double) k * ticks / n) * tickNanos;
            added.get(k).scheduleNext(spread + Math.round(Math.abs(jitterFraction()) * maxJitterNanos));
        }
    }

    /** The health-check state of {@code upstream}; empty if it is not checked here. */
    public Optional<HealthCheckState> state(Upstream upstream) {
        Checker checker = checkers.get(upstream);
        return checker == null ? Optional.empty() : Optional.of(checker.state);
    }

    /** Stops every check; results still in flight are ignored, and the prober lets go of every upstream. */
    @Override
    public synchronized void close() {
        closed = true;
        checkers.forEach((upstream, checker) -> {
            checker.stop();
            prober.release(upstream);
        });
        checkers.clear();
        wheel.close();
    }

    /**
     * The grid check times fall on: 50 ms, or a twentieth of a shorter interval (at least 1 ms). A
     * check (and its timeout) starts at the first grid point at or after its due time, so with many
     * upstreams the event loop wakes once per grid point for the checks due there instead of once or
     * twice per check: waking a thread costs more than a check's own work. At 1,000 upstreams every
     * second that is 20 wake-ups of 50 checks each, still spread evenly over the interval.
     */
    long tickNanos() {
        return tickNanos;
    }

    /** The wait from one result to the next check: interval &plusmn; jitter, never negative. */
    long nextDelayNanos() {
        return Math.max(0, intervalNanos + Math.round(jitterFraction() * maxJitterNanos));
    }

    /**
     * The wait while a decision is underway ({@link HealthCheckState#deciding()}): the
     * transition interval (when shorter than the interval) &plusmn; a tenth of it, never negative.
     */
    long transitionDelayNanos() {
        long t = Math.min(intervalNanos, config.transitionInterval().toNanos());
        return Math.max(0, t + Math.round(jitterFraction() * t * DEFAULT_JITTER_FRACTION));
    }

    private double jitterFraction() {
        return Math.max(-1, Math.min(1, jitter.getAsDouble()));
    }

    /**
     * The check loop of one upstream. Everything a check needs is built once: its times are grid
     * points in the {@link TimingWheel}, and a check in flight is only a round number, so checking an
     * upstream allocates nothing of its own.
     */
    private final class Checker implements Consumer<ProbeResult>, TimingWheel.Timed {

        final HealthCheckState state;
        private volatile boolean stopped;
        /** The grid point of the next check, and of the deadline of the check in flight; -1: none. */
        private volatile long checkAt = -1;
        private volatile long deadlineAt = -1;
        /** Odd while a check is in flight; the report that moves it on to even wins, any other is late. */
        private final AtomicLong round = new AtomicLong();

        Checker(HealthCheckState state) {
            this.state = state;
        }

        /** The next check, at the grid point nearest {@code delayNanos} from now. */
        void scheduleNext(long delayNanos) {
            if (!stopped) {
                long tick = wheel.tickAfter(delayNanos, false);
                checkAt = tick;
                wheel.add(this, tick);
            }
        }

        void stop() {
            stopped = true;
        }

        /** Grid point {@code tick} came: the next check, or the deadline of the one in flight, if still due then. */
        @Override
        public void onTick(long tick) {
            if (stopped) {
                return;
            }
            if (deadlineAt == tick) {
                deadlineAt = -1;
                onTimeout();
            }
            if (checkAt == tick) {
                checkAt = -1;
                check();
            }
        }

        private void check() {
            long started = round.incrementAndGet();
            // Filed before the probe starts, so even a probe that answers synchronously finds it.
            long deadline = wheel.tickAfter(timeoutNanos, true);
            deadlineAt = deadline;
            wheel.add(this, deadline);
            try {
                prober.probe(state.upstream(), config.path(), config.timeout(), this);
            } catch (RuntimeException e) {
                finish(started, ProbeResult.error(String.valueOf(e.getMessage())));
            }
        }

        /** The prober's report of the check in flight (a report of an earlier, timed-out one is ignored). */
        @Override
        public void accept(ProbeResult result) {
            long r = round.get();
            if ((r & 1) == 1) {
                finish(r, result);
            }
        }

        private void onTimeout() {
            long r = round.get();
            if ((r & 1) == 1 && finish(r, ProbeResult.timeout())) {
                prober.timedOut(state.upstream());
            }
        }

        /** Records {@code result} if round {@code r} is still the one in flight; true if it was. */
        private boolean finish(long r, ProbeResult result) {
            if (!round.compareAndSet(r, r + 1)) {
                return false;
            }
            deadlineAt = -1; // its wheel entry is now stale
            if (stopped) {
                return true;
            }
            state.onResult(result);
            scheduleNext(state.deciding() ? transitionDelayNanos() : nextDelayNanos());
            return true;
        }
    }
}
