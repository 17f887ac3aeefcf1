package io.bulwark.admin;

import io.bulwark.routing.ManualClock;

import io.bulwark.admin.AdminFixture.Answer;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static io.bulwark.admin.AdminFixture.upstreamPath;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Operator changes with a TTL revert by themselves when it runs out, on the injected clock (a
 * manual one here, so nothing waits), each with an event stamped by that clock.
 */
class OperatorTtlTest {

    private static final String A = "127.0.0.1:9001";

    private final AdminFixture f = new AdminFixture();
    private final Upstream u = f.upstream("users", A);

    private Answer call(String method, String action, String body) {
        return f.call(method, upstreamPath("users", A) + action, body);
    }

    private StateEvent lastEvent() {
        return f.events.newest(1).get(0);
    }

    @Test
    void aDrainRevertsWhenItsTtlRunsOutAndNotBefore() {
        assertThat(call("POST", "/drain?ttl=10m", null).status()).isEqualTo(202);
        assertThat(lastEvent().detail()).containsEntry("ttl_ms", 600_000L);

        f.scheduler.advance(Duration.ofMinutes(10).minusMillis(1));
        assertThat(u.admin()).isEqualTo(Upstream.AdminState.DRAINED);

        f.scheduler.advance(Duration.ofMillis(1));
        assertThat(u.admin()).isEqualTo(Upstream.AdminState.ACTIVE);
        StateEvent e = lastEvent();
        assertThat(e.type()).isEqualTo("restored");
        assertThat(e.from()).isEqualTo("drained");
        assertThat(e.to()).isEqualTo("active");
        assertThat(e.reason()).isEqualTo("ttl_expired");
        assertThat(e.timeMillis()).isEqualTo(ManualClock.START_MILLIS + Duration.ofMinutes(10).toMillis());
    }

    @Test
    void aHealthOverrideRevertsToNone() {
        call("PUT", "/health", "{\"override\":\"unhealthy\",\"ttl\":\"30s\"}");
        assertThat(u.eligible()).isFalse();

        f.scheduler.advance(Duration.ofSeconds(30));

        assertThat(u.override()).isEqualTo(Upstream.HealthOverride.NONE);
        assertThat(u.eligible()).isTrue();
        StateEvent e = lastEvent();
        assertThat(e.type()).isEqualTo("health_override");
        assertThat(e.from()).isEqualTo("unhealthy");
        assertThat(e.to()).isEqualTo("none");
        assertThat(e.reason()).isEqualTo("ttl_expired");
    }

    @Test
    void aWeightRevertsToTheConfiguredOne() {
        Upstream heavy = f.upstream("users", "127.0.0.1:9003");
        f.call("PUT", upstreamPath("users", heavy.address()) + "/weight", "{\"weight\":9,\"ttl\":\"1h\"}");
        assertThat(heavy.weight()).isEqualTo(9);

        f.scheduler.advance(Duration.ofHours(1));

        assertThat(heavy.weight()).isEqualTo(2);
        StateEvent e = lastEvent();
        assertThat(e.type()).isEqualTo("weight");
        assertThat(e.from()).isEqualTo("9");
        assertThat(e.to()).isEqualTo("2");
        assertThat(e.reason()).isEqualTo("ttl_expired");
    }

    @Test
    void aChangeWithATtlRevertsToTheValueBeforeItNotToTheDefault() {
        call("PUT", "/weight", "{\"weight\":5}");
        call("PUT", "/weight", "{\"weight\":3,\"ttl\":\"3s\"}");
        call("PUT", "/health", "{\"override\":\"unhealthy\"}");
        call("PUT", "/health", "{\"override\":\"healthy\",\"ttl\":\"3s\"}");
        call("POST", "/drain", null);
        call("POST", "/drain?ttl=3s", null);

        f.scheduler.advance(Duration.ofSeconds(3));

        assertThat(u.weight()).isEqualTo(5);
        assertThat(u.override()).isEqualTo(Upstream.HealthOverride.UNHEALTHY);
        assertThat(u.admin()).isEqualTo(Upstream.AdminState.DRAINED);
        assertThat(f.events.newest(3)).extracting(StateEvent::reason).containsOnly("ttl_expired");
        assertThat(f.events.newest(3)).filteredOn(e -> e.type().equals("weight"))
                .singleElement().satisfies(e -> assertThat(e.from() + "->" + e.to()).isEqualTo("3->5"));
        assertThat(f.scheduler.pending()).isZero(); // the values before had no TTL: they stay
    }

    @Test
    void theValueBeforeComesBackWithWhatWasLeftOfItsOwnTtl() {
        call("PUT", "/weight", "{\"weight\":5,\"ttl\":\"10m\"}");
        call("PUT", "/weight", "{\"weight\":3,\"ttl\":\"3m\"}");

        f.scheduler.advance(Duration.ofMinutes(3));
        assertThat(u.weight()).isEqualTo(5);

        f.scheduler.advance(Duration.ofMinutes(7).minusMillis(1));
        assertThat(u.weight()).isEqualTo(5);
        f.scheduler.advance(Duration.ofMillis(1));
        assertThat(u.weight()).isEqualTo(1); // the configured weight
    }

    @Test
    void aNewerCallReplacesThePendingRevert() {
        call("POST", "/drain?ttl=10m", null);
        call("POST", "/drain?ttl=1h", null);
        assertThat(f.scheduler.pending()).isEqualTo(1);

        f.scheduler.advance(Duration.ofMinutes(30));
        assertThat(u.admin()).isEqualTo(Upstream.AdminState.DRAINED);

        f.scheduler.advance(Duration.ofMinutes(30));
        assertThat(u.admin()).isEqualTo(Upstream.AdminState.ACTIVE);
    }

    @Test
    void aCallWithoutTtlMakesTheChangeLastUntilUndone() {
        call("PUT", "/weight", "{\"weight\":4,\"ttl\":\"5m\"}");
        call("PUT", "/weight", "{\"weight\":6}");
        assertThat(f.scheduler.pending()).isZero();

        f.scheduler.advance(Duration.ofHours(2));

        assertThat(u.weight()).isEqualTo(6);
    }

    @Test
    void restoreCancelsThePendingRevertOfADrain() {
        call("POST", "/drain?ttl=10m", null);
        call("POST", "/restore", null);
        f.scheduler.advance(Duration.ofMinutes(5));
        call("POST", "/drain", null);

        f.scheduler.advance(Duration.ofMinutes(10));

        assertThat(u.admin()).isEqualTo(Upstream.AdminState.DRAINED);
        assertThat(f.events.newest(10)).extracting(StateEvent::reason).doesNotContain("ttl_expired");
    }

    @Test
    void overrideNoneCancelsThePendingRevert() {
        call("PUT", "/health", "{\"override\":\"unhealthy\",\"ttl\":\"10m\"}");
        call("PUT", "/health", "{\"override\":\"none\"}");
        assertThat(f.scheduler.pending()).isZero();
    }

    @Test
    void revertsOfDifferentKindsAreIndependent() {
        call("POST", "/drain?ttl=10m", null);
        call("PUT", "/health", "{\"override\":\"unhealthy\",\"ttl\":\"20m\"}");

        f.scheduler.advance(Duration.ofMinutes(10));
        assertThat(u.admin()).isEqualTo(Upstream.AdminState.ACTIVE);
        assertThat(u.override()).isEqualTo(Upstream.HealthOverride.UNHEALTHY);

        f.scheduler.advance(Duration.ofMinutes(10));
        assertThat(u.override()).isEqualTo(Upstream.HealthOverride.NONE);
    }

    @Test
    void everyOperatorEventIsStampedByTheInjectedClock() {
        f.clock.advance(Duration.ofDays(3));
        long now = f.clock.currentTimeMillis();

        call("POST", "/drain", null);
        call("PUT", "/health", "{\"override\":\"healthy\"}");
        call("PUT", "/weight", "{\"weight\":2}");
        f.call("PUT", "/api/v1/routes/users-api/fault", "{\"abort\":{\"percent\":1}}");

        assertThat(f.events.newest(10)).hasSize(4).extracting(StateEvent::timeMillis).containsOnly(now);
        assertThat(f.get("/api/v1/events").json().get("events").get(0).get("time").asText())
                .isEqualTo(Instant.ofEpochMilli(now).toString());
    }
}
