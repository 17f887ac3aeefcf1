package io.bulwark.routing;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Entering and leaving panic mode are state transitions, published like every other. */
class PanicEventTest {

    @Test
    void panicEnteredAndLeftArePublished() {
        List<StateEvent> events = new ArrayList<>();
        Cluster cluster = new Cluster(TestConfigs.cluster("svc", "127.0.0.1:9000", "127.0.0.1:9001"),
                new ManualClock(), events::add);
        cluster.resolve(Cluster.Resolver.SYSTEM);
        Upstream a = cluster.upstreams().get(0);
        Upstream b = cluster.upstreams().get(1);

        a.setOverride(Upstream.HealthOverride.UNHEALTHY); // 1 of 2 eligible: 50% is not below 50
        assertThat(cluster.hostSet().panic()).isFalse();
        b.setOverride(Upstream.HealthOverride.UNHEALTHY); // 0 of 2: panic
        assertThat(cluster.hostSet().panic()).isTrue();
        b.setOverride(Upstream.HealthOverride.NONE);
        assertThat(cluster.hostSet().panic()).isFalse();

        assertThat(events).extracting(StateEvent::type).containsExactly("panic_entered", "panic_left");
        assertThat(events.get(0).cluster()).isEqualTo("svc");
        assertThat(events.get(0).detail()).containsEntry("eligible", 0L).containsEntry("upstreams", 2);
    }
}
