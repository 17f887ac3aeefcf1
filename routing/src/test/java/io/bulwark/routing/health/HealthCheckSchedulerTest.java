package io.bulwark.routing.health;

import io.bulwark.config.HealthCheckConfig;
import io.bulwark.routing.ManualClock;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.TestHosts;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.Upstream.Health;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class HealthCheckSchedulerTest {

    /** Every 5s, 1s timeout, unhealthy after 3 failures, healthy after 2 passes; no faster checks in transitions. */
    private static final HealthCheckConfig CONFIG =
            new HealthCheckConfig("/health", Duration.ofSeconds(5), Duration.ofSeconds(1), 3, 2, Duration.ofSeconds(5));
    /** The same with checks every 100 ms while a flip is underway (the default transition-interval). */
    private static final HealthCheckConfig FAST_TRANSITIONS =
            new HealthCheckConfig("/health", Duration.ofSeconds(5), Duration.ofSeconds(1), 3, 2);

    private final TestHosts hosts = new TestHosts();
    private final ManualClock clock = hosts.clock();
    private final ManualScheduler timers = new ManualScheduler(clock);
    private final ScriptedProber prober = new ScriptedProber(clock);
    private final List<StateEvent> events = new ArrayList<>();
    private final List<Upstream> passed = new ArrayList<>();
    private final Upstream a = hosts.upstream("10.0.0.1:8080", 1);
    private final Upstream b = hosts.upstream("10.0.0.2:8080", 1);
    private final long start = clock.nanoTime();

    private HealthCheckScheduler scheduler(double jitter, Duration maxJitter) {
        return new HealthCheckScheduler(CONFIG, prober, timers, clock, events::add,
                HealthCheckListener.of(passed::add, u -> { }), () -> jitter, maxJitter);
    }

    private HealthCheckScheduler scheduler() {
        return scheduler(0, Duration.ZERO);
    }

    @Test
    void theFirstCheckRunsAtOnceAndTheNextOneIntervalAfterEachResult() {
        prober.answer(a, ProbeResult.response(200));
        HealthCheckScheduler scheduler = scheduler();

        scheduler.update(List.of(a));
        timers.advance(Duration.ofSeconds(16));

        assertThat(prober.times(a, start)).containsExactly(0.0, 5.0, 10.0, 15.0);
        assertThat(prober.probes).allSatisfy(p -> {
            assertThat(p.path()).isEqualTo("/health");
            assertThat(p.timeout()).isEqualTo(Duration.ofSeconds(1));
        });
        assertThat(a.health()).isEqualTo(Health.HEALTHY);
        assertThat(passed).hasSize(4);
    }

    @Test
    void theIntervalCountsFromTheResultSoChecksNeverOverlap() {
        HealthCheckScheduler scheduler = scheduler();
        scheduler.update(List.of(a));
        timers.runDue();
        assertThat(prober.open).hasSize(1);

        timers.advance(Duration.ofMillis(400));
        prober.open.remove(0).done().accept(ProbeResult.response(200));
        timers.advance(Duration.ofSeconds(5));

        assertThat(prober.times(a, start)).containsExactly(0.0, 5.4);
    }

    @Test
    void jitterShiftsEachCheckWithinItsBound() {
        prober.answer(a, ProbeResult.response(200));
        HealthCheckScheduler late = scheduler(1, Duration.ofMillis(500));
        late.update(List.of(a));
        timers.advance(Duration.ofSeconds(12));
        assertThat(prober.times(a, start)).containsExactly(0.5, 6.0, 11.5);
        late.close();

        HealthCheckScheduler early = scheduler(-1, Duration.ofMillis(500));
        assertThat(early.nextDelayNanos()).isEqualTo(Duration.ofMillis(4500).toNanos());
    }

    @Test
    void defaultJitterStaysWithinTenPercentOfTheInterval() {
        HealthCheckScheduler scheduler = new HealthCheckScheduler(CONFIG, prober, timers, clock, events::add,
                HealthCheckListener.NONE);
        for (int i = 0; i < 1_000; i++) {
            assertThat(scheduler.nextDelayNanos()).isBetween(Duration.ofMillis(4500).toNanos(), Duration.ofMillis(5500).toNanos());
        }
    }

    @Test
    void aProbeThatDoesNotAnswerInTimeIsATimeoutAndItsLateAnswerIsIgnored() {
        HealthCheckScheduler scheduler = scheduler();
        scheduler.update(List.of(a));
        timers.runDue();
        ScriptedProber.Probe first = prober.open.get(0);

        timers.advance(Duration.ofSeconds(1));
        assertThat(scheduler.state(a).orElseThrow().lastResult()).hasValue(ProbeResult.timeout());

        first.done().accept(ProbeResult.response(200));
        assertThat(scheduler.state(a).orElseThrow().lastResult()).hasValue(ProbeResult.timeout());
        assertThat(scheduler.state(a).orElseThrow().consecutiveFailures()).isEqualTo(1);

        timers.advance(Duration.ofSeconds(5));
        assertThat(prober.times(a, start)).containsExactly(0.0, 6.0);
    }

    @Test
    void threeFailedChecksInARowTakeAnUpstreamOutAndTwoPassesBringItBack() {
        prober.answer(a, ProbeResult.response(503));
        HealthCheckScheduler scheduler = scheduler();
        scheduler.update(List.of(a));

        timers.advance(Duration.ofSeconds(9));
        assertThat(a.health()).isEqualTo(Health.UNKNOWN);
        timers.advance(Duration.ofSeconds(1));
        assertThat(a.health()).isEqualTo(Health.UNHEALTHY);

        prober.answer(a, ProbeResult.response(200));
        timers.advance(Duration.ofSeconds(5));
        assertThat(a.health()).isEqualTo(Health.UNHEALTHY);
        timers.advance(Duration.ofSeconds(5));
        assertThat(a.health()).isEqualTo(Health.HEALTHY);

        assertThat(events).extracting(e -> e.timeMillis() - (events.get(0).timeMillis()), e -> e.to())
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0L, "unhealthy"),
                        org.assertj.core.groups.Tuple.tuple(10_000L, "healthy"));
    }

    @Test
    void whileAFlipIsUnderwayTheDecidingChecksComeAfterTheTransitionInterval() {
        prober.answer(a, ProbeResult.response(200));
        HealthCheckScheduler scheduler = new HealthCheckScheduler(FAST_TRANSITIONS, prober, timers, clock,
                events::add, HealthCheckListener.NONE, () -> 0, Duration.ZERO);
        scheduler.update(List.of(a));
        timers.advance(Duration.ofSeconds(6)); // healthy: checks at the interval
        assertThat(prober.times(a, start)).containsExactly(0.0, 5.0);

        prober.answer(a, ProbeResult.response(503)); // fails from the check at 10 s: two more, 100 ms apart
        timers.advance(Duration.ofMillis(4_100));
        assertThat(a.health()).isEqualTo(Health.HEALTHY);
        timers.advance(Duration.ofMillis(100));
        assertThat(a.health()).isEqualTo(Health.UNHEALTHY);

        prober.answer(a, ProbeResult.response(200)); // out: checks at the interval until one passes
        timers.advance(Duration.ofMillis(5_000));
        assertThat(a.health()).isEqualTo(Health.UNHEALTHY);
        timers.advance(Duration.ofMillis(100)); // the second pass, 100 ms after the first
        assertThat(a.health()).isEqualTo(Health.HEALTHY);
        timers.advance(Duration.ofSeconds(6)); // decided: back to the interval

        assertThat(prober.times(a, start)).containsExactly(0.0, 5.0, 10.0, 10.1, 10.2, 15.2, 15.3, 20.3);
        assertThat(events).extracting(StateEvent::to).containsExactly("healthy", "unhealthy", "healthy");
        assertThat(scheduler.transitionDelayNanos()).isEqualTo(Duration.ofMillis(100).toNanos());
    }

    @Test
    void aListenerConfirmingAProbeReadmissionGetsTheNextCheckSoon() {
        prober.answer(a, ProbeResult.response(200));
        AtomicInteger passes = new AtomicInteger();
        HealthCheckListener confirming = new HealthCheckListener() {
            @Override
            public void onCheckPassed(Upstream upstream) {
                passes.incrementAndGet();
            }

            @Override
            public boolean confirming(Upstream upstream) {
                return passes.get() >= 2 && passes.get() < 4; // as if ejected after the first pass
            }
        };
        HealthCheckScheduler scheduler = new HealthCheckScheduler(FAST_TRANSITIONS, prober, timers, clock,
                events::add, confirming, () -> 0, Duration.ZERO);
        scheduler.update(List.of(a));
        timers.advance(Duration.ofSeconds(11));

        assertThat(prober.times(a, start)).containsExactly(0.0, 5.0, 5.1, 5.2, 10.2);
    }

    @Test
    void theTransitionIntervalNeverMakesChecksRarer() {
        HealthCheckConfig slowTransition = new HealthCheckConfig("/health", Duration.ofMillis(50),
                Duration.ofMillis(40), 3, 2, Duration.ofSeconds(1));
        HealthCheckScheduler scheduler = new HealthCheckScheduler(slowTransition, prober, timers, clock,
                events::add, HealthCheckListener.NONE, () -> 1, Duration.ZERO);
        assertThat(scheduler.transitionDelayNanos()).isEqualTo(Duration.ofMillis(55).toNanos());
    }

    @Test
    void eachUpstreamHasItsOwnLoop() {
        prober.answer(a, ProbeResult.response(200));
        prober.answer(b, ProbeResult.timeout());
        HealthCheckScheduler scheduler = scheduler();

        scheduler.update(List.of(a, b));
        timers.advance(Duration.ofSeconds(13));

        assertThat(a.health()).isEqualTo(Health.HEALTHY);
        assertThat(b.health()).isEqualTo(Health.UNHEALTHY);
        assertThat(prober.times(a, start)).containsExactly(0.0, 5.0, 10.0);
        assertThat(prober.times(b, start)).containsExactly(2.5, 7.5, 12.5);
    }

    @Test
    void theFirstChecksOfManyUpstreamsAreSpreadEvenlyOverOneInterval() {
        List<Upstream> many = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            Upstream u = hosts.upstream("10.1." + (i / 250) + "." + (i % 250) + ":8080", 1);
            prober.answer(u, ProbeResult.response(200));
            many.add(u);
        }
        HealthCheckScheduler scheduler = scheduler();
        scheduler.update(many);

        timers.advance(Duration.ofMillis(9_999));

        // Each 50 ms slice of the first two intervals starts 10 of the checks: a steady rate, no burst.
        int[] perSlice = new int[200];
        prober.probes.forEach(p -> perSlice[(int) ((p.atNanos() - start) / 50_000_000L)]++);
        assertThat(perSlice).containsOnly(10);
        for (Upstream u : many) {
            assertThat(prober.times(u, start)).hasSize(2);
        }
    }

    @Test
    void checksStartOnAGridOfFiftyMillisecondsSoManyShareOneWakeUp() {
        prober.answer(a, ProbeResult.response(200));
        HealthCheckScheduler scheduler = scheduler(0.37, Duration.ofMillis(500)); // shifts of 185 ms
        assertThat(scheduler.tickNanos()).isEqualTo(Duration.ofMillis(50).toNanos());

        scheduler.update(List.of(a));
        timers.advance(Duration.ofSeconds(20));

        // 0.185 -> 0.2; then 5.185 after that -> 5.4; 10.585 -> 10.6; 15.785 -> 15.8
        assertThat(prober.times(a, start)).containsExactly(0.2, 5.4, 10.6, 15.8);
    }

    @Test
    void theGridIsFiftyMillisecondsOrATwentiethOfAShorterInterval() {
        for (long[] intervalAndTick : new long[][] {{5_000, 50}, {1_000, 50}, {200, 10}, {10, 1}}) {
            HealthCheckConfig config = new HealthCheckConfig("/health", Duration.ofMillis(intervalAndTick[0]),
                    Duration.ofMillis(5), 3, 2);
            HealthCheckScheduler s = new HealthCheckScheduler(config, prober, timers, clock, events::add,
                    HealthCheckListener.NONE);
            assertThat(s.tickNanos()).isEqualTo(Duration.ofMillis(intervalAndTick[1]).toNanos());
        }
    }

    @Test
    void aTimedOutCheckIsHandedBackToTheProberAndARemovedUpstreamReleased() {
        List<Upstream> timedOut = new ArrayList<>();
        List<Upstream> released = new ArrayList<>();
        Prober holding = new Prober() {
            @Override
            public void probe(Upstream upstream, String path, Duration timeout,
                              java.util.function.Consumer<ProbeResult> done) {
            }

            @Override
            public void timedOut(Upstream upstream) {
                timedOut.add(upstream);
            }

            @Override
            public void release(Upstream upstream) {
                released.add(upstream);
            }
        };
        HealthCheckScheduler scheduler = new HealthCheckScheduler(CONFIG, holding, timers, clock, events::add,
                HealthCheckListener.NONE, () -> 0, Duration.ZERO);
        scheduler.update(List.of(a));
        timers.advance(Duration.ofSeconds(1));
        assertThat(timedOut).containsExactly(a);

        scheduler.update(List.of(b));
        assertThat(released).containsExactly(a);
        scheduler.close();
        assertThat(released).containsExactly(a, b);
    }

    @Test
    void aRemovedUpstreamIsNoLongerCheckedAndItsCheckInFlightIsIgnored() {
        HealthCheckScheduler scheduler = scheduler();
        scheduler.update(List.of(a, b));
        timers.runDue();
        ScriptedProber.Probe inFlight = prober.open.stream().filter(p -> p.upstream() == a).findFirst().orElseThrow();

        scheduler.update(List.of(b));
        inFlight.done().accept(ProbeResult.response(200));
        timers.advance(Duration.ofSeconds(30));

        assertThat(a.health()).isEqualTo(Health.UNKNOWN);
        assertThat(scheduler.state(a)).isEmpty();
        assertThat(prober.times(a, start)).containsExactly(0.0);
        assertThat(prober.times(b, start)).hasSizeGreaterThan(1);
    }

    @Test
    void updatingWithTheSameUpstreamsDoesNotRestartTheirLoops() {
        prober.answer(a, ProbeResult.response(200));
        HealthCheckScheduler scheduler = scheduler();
        scheduler.update(List.of(a));
        timers.advance(Duration.ofSeconds(2));

        scheduler.update(List.of(a));
        timers.advance(Duration.ofSeconds(4));

        assertThat(prober.times(a, start)).containsExactly(0.0, 5.0);
    }

    @Test
    void closeStopsEveryCheck() {
        prober.answer(a, ProbeResult.response(200));
        HealthCheckScheduler scheduler = scheduler();
        scheduler.update(List.of(a));
        timers.runDue();

        scheduler.close();
        timers.advance(Duration.ofMinutes(1));

        assertThat(prober.probes).hasSize(1);
        assertThat(timers.pending()).isZero();
        scheduler.update(List.of(a));
        assertThat(timers.pending()).as("a closed scheduler starts nothing").isZero();
    }

    @Test
    void aProberThatThrowsCountsAsAFailedCheckAndTheLoopGoesOn() {
        prober.failWith = new IllegalStateException("no event loop");
        HealthCheckScheduler scheduler = scheduler();
        scheduler.update(List.of(a));

        timers.advance(Duration.ofSeconds(11));

        assertThat(a.health()).isEqualTo(Health.UNHEALTHY);
        assertThat(scheduler.state(a).orElseThrow().lastResult().orElseThrow().describe())
                .isEqualTo("error: no event loop");
        assertThat(timers.pending()).as("only the next check, no stray timeout").isEqualTo(1);
    }

    @Test
    void aSynchronousAnswerCancelsTheTimeout() {
        AtomicInteger checks = new AtomicInteger();
        HealthCheckScheduler scheduler = new HealthCheckScheduler(CONFIG, (u, path, timeout, done) -> {
            checks.incrementAndGet();
            done.accept(ProbeResult.response(204));
        }, timers, clock, events::add, HealthCheckListener.NONE, () -> 0, Duration.ZERO);

        scheduler.update(List.of(a));
        timers.runDue();

        assertThat(checks).hasValue(1);
        assertThat(timers.pending()).isEqualTo(1);
        assertThat(a.health()).isEqualTo(Health.HEALTHY);
    }
}
