package io.bulwark.routing;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The cluster tells its breaker when an upstream is back: an open breaker goes half-open at once. */
class BreakerRecoveryTest {

    @Test
    void anUpstreamBecomingEligibleAgainEndsTheOpenWaitOfTheClustersBreaker() {
        List<StateEvent> events = new ArrayList<>();
        ManualClock clock = new ManualClock();
        Cluster cluster = new Cluster(TestConfigs.cluster("svc", "127.0.0.1:9000", "127.0.0.1:9001"), clock,
                events::add);
        cluster.resolve(Cluster.Resolver.SYSTEM);
        Upstream a = cluster.upstreams().get(0);
        Upstream b = cluster.upstreams().get(1);
        a.setHealth(Upstream.Health.UNHEALTHY);
        b.setHealth(Upstream.Health.UNHEALTHY); // every upstream down...
        for (int i = 0; i < 200 && cluster.breaker().state().equals("closed"); i++) {
            if (cluster.breaker().tryAcquire()) {
                cluster.breaker().onLocalFailure(1_000_000); // ...and every request failing
            }
            clock.advance(java.time.Duration.ofMillis(50));
        }
        assertThat(cluster.breaker().state()).isEqualTo("open");
        b.setOverride(Upstream.HealthOverride.NONE); // no change of eligibility: still open
        assertThat(cluster.breaker().state()).isEqualTo("open");

        a.setHealth(Upstream.Health.HEALTHY); // one is back

        assertThat(cluster.breaker().state()).isEqualTo("half_open");
        assertThat(events).filteredOn(e -> e.type().equals("circuit_breaker") && "half_open".equals(e.to()))
                .singleElement().satisfies(e -> assertThat(e.reason()).isEqualTo("upstream_recovered"));
    }
}
