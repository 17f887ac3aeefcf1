package io.bulwark.routing.health;

import io.bulwark.routing.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TimingWheelTest {

    private final ManualClock clock = new ManualClock();
    private final ManualScheduler timers = new ManualScheduler(clock);
    private final long origin = clock.nanoTime();
    private final List<String> fired = new ArrayList<>();

    private TimingWheel.Timed item(String name) {
        return tick -> fired.add(name + "@" + tick + "/" + (clock.nanoTime() - origin) / 1_000_000 + "ms");
    }

    @Test
    void handsEachItemItsGridPointOnTimeWithOneTimerAtATime() {
        TimingWheel wheel = new TimingWheel(16, timers, clock, origin, 10_000_000L);
        wheel.add(item("a"), 3);
        wheel.add(item("b"), 3);
        wheel.add(item("c"), 1);
        assertThat(timers.pending()).isEqualTo(1);

        timers.advance(Duration.ofMillis(50));

        assertThat(fired).containsExactly("c@1/10ms", "a@3/30ms", "b@3/30ms");
        assertThat(timers.pending()).isZero();
    }

    @Test
    void aTimeBeyondTheRingIsFiledAgainUntilItComes() {
        TimingWheel wheel = new TimingWheel(4, timers, clock, origin, 10_000_000L);
        wheel.add(item("far"), 11);

        timers.advance(Duration.ofMillis(200));

        assertThat(fired).containsExactly("far@11/110ms");
    }

    @Test
    void closingCallsOffTheTimerAndIgnoresLaterFilings() {
        TimingWheel wheel = new TimingWheel(8, timers, clock, origin, 10_000_000L);
        wheel.add(item("a"), 2);
        wheel.close();
        wheel.add(item("b"), 3);

        timers.advance(Duration.ofMillis(100));

        assertThat(fired).isEmpty();
        assertThat(timers.pending()).isZero();
    }
}
