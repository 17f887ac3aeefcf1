package io.bulwark.admin;

import io.bulwark.routing.ManualClock;

import com.fasterxml.jackson.databind.JsonNode;
import io.bulwark.admin.AdminServer.AdminResponse;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.bulwark.admin.AdminFixture.upstreamPath;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JSON shapes operators and tools rely on (README "Admin API"): the field names of an
 * upstream, a cluster, an event, a recovery entry and an error. More fields may be added; these
 * may not go away or change their type.
 */
class StateJsonTest {

    private static final String A = "127.0.0.1:9001";

    private final AdminFixture f = new AdminFixture();

    private static List<String> fields(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private void fail5xx(Upstream u) {
        u.onRequestStart();
        u.onResponse(500, 1_000_000);
        u.onRequestEnd();
    }

    @Test
    void anUpstream() {
        JsonNode u = f.get(upstreamPath("users", A)).json();

        assertThat(fields(u)).containsSubsequence("address", "admin", "health", "outlier", "override", "eligible",
                "reasons", "weight", "effective_weight", "active_requests", "stats");
        assertThat(u.get("address").asText()).isEqualTo(A);
        assertThat(u.get("admin").asText()).isEqualTo("active");
        assertThat(u.get("health").asText()).isEqualTo("unknown");
        assertThat(u.get("outlier").isNull()).isTrue();
        assertThat(u.get("override").asText()).isEqualTo("none");
        assertThat(u.get("eligible").isBoolean()).isTrue();
        assertThat(u.get("reasons").isArray()).isTrue();
        assertThat(u.get("reasons")).isEmpty();
        assertThat(u.get("weight").isInt()).isTrue();
        assertThat(u.get("effective_weight").isNumber()).isTrue();
        assertThat(u.get("active_requests").asInt()).isZero();
        assertThat(fields(u.get("stats"))).containsExactly("requests", "failures");
    }

    @Test
    void anUpstreamCountsRequestsAndFailures() {
        Upstream up = f.upstream("users", A);
        up.onRequestStart();
        up.onResponse(200, 1_000_000);
        up.onRequestEnd();
        fail5xx(up);
        up.onRequestStart();

        JsonNode u = f.get(upstreamPath("users", A)).json();

        // A request counts when it is sent, so the one still in flight is in.
        assertThat(u.get("stats").get("requests").asLong()).isEqualTo(3);
        assertThat(u.get("stats").get("failures").asLong()).isEqualTo(1);
        assertThat(u.get("active_requests").asInt()).isEqualTo(1);
    }

    @Test
    void anEjectedUpstreamsOutlierObject() {
        Upstream up = f.upstream("users", A);
        for (int i = 0; i < 3; i++) {
            fail5xx(up);
        }

        JsonNode outlier = f.get(upstreamPath("users", A)).json().get("outlier");

        assertThat(fields(outlier)).contains("ejected_until", "reason", "times_ejected", "awaiting_probe",
                "readmit_guarded");
        assertThat(outlier.get("readmit_guarded").asBoolean()).isFalse();
        assertThat(outlier.get("reason").asText()).isEqualTo("consecutive_5xx");
        assertThat(outlier.get("times_ejected").asInt()).isEqualTo(1);
        // 30s base ejection time, from the injected clock.
        assertThat(Instant.parse(outlier.get("ejected_until").asText()))
                .isEqualTo(Instant.ofEpochMilli(ManualClock.START_MILLIS).plusSeconds(30));
    }

    @Test
    void aCluster() {
        JsonNode c = f.get("/api/v1/clusters/users").json();

        assertThat(fields(c)).containsSubsequence("name", "load_balancer", "panic", "circuit_breaker", "limits",
                "upstreams");
        assertThat(c.get("name").asText()).isEqualTo("users");
        assertThat(c.get("load_balancer").asText()).isEqualTo("round-robin");
        assertThat(c.get("panic").asBoolean()).isFalse();
        JsonNode cb = c.get("circuit_breaker");
        assertThat(cb.get("state").asText()).isEqualTo("closed");
        // Always a number, also before minimum-calls, with failure_rate_known saying whether it means anything.
        assertThat(cb.get("failure_rate").isNumber()).isTrue();
        assertThat(cb.get("failure_rate").asDouble()).isZero();
        assertThat(cb.get("failure_rate_known").asBoolean()).isFalse();
        assertThat(fields(c.get("limits"))).containsExactly("active_requests", "pending_requests", "active_retries");
        assertThat(c.get("upstreams")).hasSize(3);
    }

    @Test
    void clusterLimitsInUse() {
        var permit = f.proxy.limits(f.proxy.cluster("solo")).tryAcquireRequest();
        assertThat(permit).isPresent();

        assertThat(f.get("/api/v1/clusters/solo").json().get("limits").get("active_requests").asInt()).isEqualTo(1);
    }

    @Test
    void panicIsShownWhenTooFewUpstreamsAreUsable() {
        f.upstream("users", A).setHealth(Upstream.Health.UNHEALTHY);
        f.upstream("users", "127.0.0.1:9002").setHealth(Upstream.Health.UNHEALTHY);

        assertThat(f.get("/api/v1/clusters/users").json().get("panic").asBoolean()).isTrue();
    }

    @Test
    void anEvent() {
        f.events.publish(new StateEvent(ManualClock.START_MILLIS + 123, "ejected", "users", A, "eligible",
                "ejected", "consecutive_5xx", Map.of("times_ejected", 1)));

        JsonNode e = f.get("/api/v1/events").json().get("events").get(0);

        assertThat(fields(e)).containsExactly("time", "type", "cluster", "upstream", "from", "to", "reason", "source",
                "detail");
        assertThat(e.get("source").asText()).as("an ejection is the detector's").isEqualTo("detector");
        assertThat(e.get("time").asText()).isEqualTo("2027-01-15T08:00:00.123Z");
        assertThat(e.get("type").asText()).isEqualTo("ejected");
        assertThat(e.get("cluster").asText()).isEqualTo("users");
        assertThat(e.get("upstream").asText()).isEqualTo(A);
        assertThat(e.get("from").asText()).isEqualTo("eligible");
        assertThat(e.get("to").asText()).isEqualTo("ejected");
        assertThat(e.get("reason").asText()).isEqualTo("consecutive_5xx");
        assertThat(e.get("detail").get("times_ejected").asInt()).isEqualTo(1);
    }

    @Test
    void anEventWithoutAnUpstreamHasNulls() {
        f.events.publish(new StateEvent(ManualClock.START_MILLIS, "reload", null, null, null, null, "config",
                Map.of()));

        JsonNode e = f.get("/api/v1/events").json().get("events").get(0);

        assertThat(e.get("cluster").isNull()).isTrue();
        assertThat(e.get("upstream").isNull()).isTrue();
        assertThat(e.get("detail").isObject()).isTrue();
    }

    @Test
    void recoveryBeforeAnyFailure() {
        JsonNode ups = f.get("/api/v1/recovery").json().get("upstreams");

        assertThat(ups).hasSize(4);
        JsonNode r = ups.get(0);
        assertThat(fields(r)).containsSubsequence("cluster", "address", "last_failure", "time_to_detect_ms",
                "time_out_ms", "time_to_recover_ms", "time_to_readmit_ms", "time_to_full_share_ms", "episodes");
        assertThat(r.get("cluster").asText()).isEqualTo("users");
        assertThat(r.get("last_failure").isNull()).isTrue();
        assertThat(r.get("time_to_detect_ms").isNull()).isTrue();
        assertThat(r.get("time_to_readmit_ms").isNull()).isTrue();
        assertThat(r.get("episodes")).isEmpty();
    }

    @Test
    void recoveryTimesAreMeasuredOnTheInjectedClock() {
        Upstream up = f.upstream("users", A);
        fail5xx(up);
        f.clock.advance(Duration.ofMillis(200));
        fail5xx(up);
        f.clock.advance(Duration.ofMillis(300));
        fail5xx(up);
        f.clock.advance(Duration.ofSeconds(12));
        f.call("POST", upstreamPath("users", A) + "/uneject", null);

        JsonNode r = f.get("/api/v1/recovery").json().get("upstreams").get(0);

        assertThat(r.get("address").asText()).isEqualTo(A);
        assertThat(r.get("time_to_detect_ms").asLong()).isEqualTo(500);
        assertThat(r.get("time_out_ms").asLong()).isEqualTo(12_000);
        assertThat(r.get("time_to_recover_ms").asLong()).isEqualTo(12_000);
        assertThat(Instant.parse(r.get("last_failure").asText()))
                .isEqualTo(Instant.ofEpochMilli(ManualClock.START_MILLIS + 500));
        JsonNode episode = r.get("episodes").get(0);
        assertThat(episode.get("reason").asText()).isEqualTo("consecutive_5xx");
        assertThat(Instant.parse(episode.get("first_failure").asText()))
                .isEqualTo(Instant.ofEpochMilli(ManualClock.START_MILLIS));
    }

    @Test
    void anEpisodeShowsTheFirstPassingCheckTimeToReadmitAndTimeToFullShare() {
        Upstream up = f.upstream("users", A);
        for (int i = 0; i < 3; i++) {
            fail5xx(up); // consecutive-5xx = 3 in this config: ejected
        }
        f.clock.advance(Duration.ofSeconds(2));
        up.recovery().onCheckPassed(); // what the health checker notes on a passing check
        f.clock.advance(Duration.ofMillis(700));
        f.call("POST", upstreamPath("users", A) + "/uneject", null);

        JsonNode r = f.get("/api/v1/recovery").json().get("upstreams").get(0);

        assertThat(r.get("time_to_readmit_ms").asLong()).isEqualTo(700);
        assertThat(r.get("time_to_full_share_ms").asLong()).isZero(); // no slow start
        JsonNode episode = r.get("episodes").get(0);
        assertThat(fields(episode)).containsSubsequence("taken_out", "first_passing_check", "back", "full_weight",
                "time_to_detect_ms", "time_out_ms", "time_to_recover_ms", "time_to_readmit_ms", "time_to_full_share_ms");
        assertThat(Instant.parse(episode.get("first_passing_check").asText()))
                .isEqualTo(Instant.ofEpochMilli(ManualClock.START_MILLIS + 2_000));
        assertThat(episode.get("time_to_readmit_ms").asLong()).isEqualTo(700);
        assertThat(episode.get("time_out_ms").asLong()).isEqualTo(2_700);
    }

    @Test
    void anErrorIsErrorAndMessageAndStaysValidJsonWhateverTheMessage() throws Exception {
        AdminResponse r = AdminResponse.error(404, "not_found", "no cluster \"a\\b\"\n\u0001");

        JsonNode json = AdminFixture.JSON.readTree(r.json());

        assertThat(r.status()).isEqualTo(404);
        assertThat(fields(json)).containsExactly("error", "message");
        assertThat(json.get("error").asText()).isEqualTo("not_found");
        assertThat(json.get("message").asText()).isEqualTo("no cluster \"a\\b\"\n\u0001");
    }
}
