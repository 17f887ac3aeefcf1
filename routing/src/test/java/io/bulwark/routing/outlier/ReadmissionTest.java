package io.bulwark.routing.outlier;

import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static io.bulwark.routing.outlier.OutlierFixture.respond;
import static org.assertj.core.api.Assertions.assertThat;

class ReadmissionTest {

    private final OutlierFixture f = new OutlierFixture();

    @Test
    void timerReadmitsAtTheFirstTickAfterTheEjectionTime() {
        f.build();
        Upstream u = f.host(1);
        respond(u, 500, 5);
        long ejectedAt = f.clock.currentTimeMillis();
        assertThat(u.outlier().orElseThrow().ejectedUntil().toEpochMilli()).isEqualTo(ejectedAt + 30_000);

        f.clock.advance(Duration.ofSeconds(29));
        f.cluster.tick();
        assertThat(u.outlier()).isPresent();

        f.clock.advance(Duration.ofSeconds(2));
        f.cluster.tick();

        assertThat(u.outlier()).isEmpty();
        assertThat(u.eligible()).isTrue();
        assertThat(f.cluster.hostSet().usable()).contains(u);
        assertThat(f.events("unejected")).singleElement().satisfies(e -> {
            assertThat(e.reason()).isEqualTo("ejection_expired");
            assertThat(e.from()).isEqualTo("ejected");
            assertThat(e.to()).isEqualTo("eligible");
            assertThat(e.timeMillis()).isEqualTo(ejectedAt + 31_000);
            assertThat(e.detail()).containsEntry("ejection_reason", "consecutive_5xx").containsEntry("ejected_for_ms", 31_000L);
        });
    }

    @Test
    void timerReadmissionIgnoresHealthChecks() {
        f.build();
        Upstream u = f.host(1);
        respond(u, 500, 5);
        f.clock.advance(Duration.ofSeconds(10));

        f.checkPassed(u, Duration.ofSeconds(1)); // started after the ejection: probe mode would readmit

        assertThat(u.outlier()).isPresent();
        f.clock.advance(Duration.ofSeconds(20));
        f.cluster.tick();
        assertThat(u.outlier()).isEmpty(); // at the end of the ejection time, as without checks
    }

    @Test
    void unejectedIntoAFailingHealthStateReportsIneligible() {
        f.build();
        Upstream u = f.host(1);
        respond(u, 500, 5);
        u.setHealth(Upstream.Health.UNHEALTHY);
        f.clock.advance(Duration.ofSeconds(30));
        f.cluster.tick();

        assertThat(f.events("unejected")).singleElement().satisfies(e -> assertThat(e.to()).isEqualTo("ineligible"));
        assertThat(u.reasons()).containsExactly("health_check_failed");
    }

    @Test
    void removedHostsNoLongerCountTowardMaxEjectionPercent() {
        f.hosts = 3;
        f.build();
        respond(f.host(1), 500, 5);
        Upstream survivor = f.host(2);

        f.detector().setHosts(List.of(survivor, f.host(3)));
        respond(survivor, 500, 5);

        assertThat(survivor.outlier()).isPresent();
    }
}
