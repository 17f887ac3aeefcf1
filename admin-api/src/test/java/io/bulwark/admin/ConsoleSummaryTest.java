package io.bulwark.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.bulwark.admin.AdminFixture.Answer;
import io.bulwark.routing.ManualClock;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static io.bulwark.admin.AdminFixture.upstreamPath;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /api/v1/summary}, what the operator console polls: every cluster and upstream as
 * {@code /api/v1/clusters} shows them plus the TTLs pending, the event log's count and the last
 * reload; and the operator's {@code note} on a change, which lands in the event's detail.
 */
class ConsoleSummaryTest {

    private static final String A = "127.0.0.1:9001";

    private final AdminFixture f = new AdminFixture();

    private JsonNode summary() {
        Answer a = f.get("/api/v1/summary");
        assertThat(a.status()).isEqualTo(200);
        return a.json();
    }

    private static JsonNode upstream(JsonNode summary, String cluster, String address) {
        for (JsonNode c : summary.get("clusters")) {
            if (c.get("name").asText().equals(cluster)) {
                for (JsonNode u : c.get("upstreams")) {
                    if (u.get("address").asText().equals(address)) {
                        return u;
                    }
                }
            }
        }
        throw new AssertionError("no upstream " + cluster + "/" + address + " in " + summary);
    }

    @Test
    void showsEveryClusterAndUpstreamWithTheClustersEndpointsFields() {
        JsonNode s = summary();
        JsonNode clusters = f.get("/api/v1/clusters").json().get("clusters");

        assertThat(s.get("clusters")).hasSize(2);
        assertThat(s.get("time").asText()).isEqualTo(Instant.ofEpochMilli(ManualClock.START_MILLIS).toString());
        assertThat(s.get("routes").asInt()).isEqualTo(2);
        for (int i = 0; i < clusters.size(); i++) {
            JsonNode plain = clusters.get(i);
            JsonNode summarized = s.get("clusters").get(i);
            assertThat(summarized.get("name")).isEqualTo(plain.get("name"));
            assertThat(summarized.get("circuit_breaker")).isEqualTo(plain.get("circuit_breaker"));
            for (int j = 0; j < plain.get("upstreams").size(); j++) {
                JsonNode p = plain.get("upstreams").get(j);
                JsonNode u = summarized.get("upstreams").get(j);
                p.fieldNames().forEachRemaining(field -> assertThat(u.get(field)).as(field).isEqualTo(p.get(field)));
            }
        }
        JsonNode heavy = upstream(s, "users", "127.0.0.1:9003");
        assertThat(heavy.get("configured_weight").asInt()).isEqualTo(2);
        assertThat(heavy.get("warming_up").asBoolean()).isFalse();
        assertThat(heavy.get("ttl_until").get("drain").isNull()).isTrue();
        JsonNode limits = s.get("clusters").get(0).get("limits");
        assertThat(limits.get("max").get("active_requests").asInt()).isPositive();
    }

    @Test
    void pendingTtlsShowWhenTheyRevertAndVanishWhenTheyDid() {
        f.call("POST", upstreamPath("users", A) + "/drain?ttl=10m", null);
        f.call("PUT", upstreamPath("users", A) + "/weight", "{\"weight\":5,\"ttl\":\"30s\"}");

        JsonNode ttl = upstream(summary(), "users", A).get("ttl_until");
        long start = ManualClock.START_MILLIS;
        assertThat(ttl.get("drain").asText()).isEqualTo(Instant.ofEpochMilli(start + 600_000).toString());
        assertThat(ttl.get("weight").asText()).isEqualTo(Instant.ofEpochMilli(start + 30_000).toString());
        assertThat(ttl.get("override").isNull()).isTrue();

        f.scheduler.advance(Duration.ofSeconds(30));

        JsonNode after = upstream(summary(), "users", A);
        assertThat(after.get("ttl_until").get("weight").isNull()).isTrue();
        assertThat(after.get("weight").asInt()).isEqualTo(1);
        assertThat(after.get("ttl_until").get("drain").isNull()).isFalse();
    }

    @Test
    void theEventCountMovesWithEveryEventSoAPollerKnowsWhenToRefetch() {
        long before = summary().get("events_published").asLong();

        f.call("POST", upstreamPath("users", A) + "/drain", null);

        assertThat(summary().get("events_published").asLong()).isEqualTo(before + 1);
    }

    @Test
    void theLastReloadOutlivesTheEventRing() {
        assertThat(summary().get("last_reload").isNull()).isTrue();
        f.events.publish(new StateEvent(ManualClock.START_MILLIS, "reload", null, null, "old", "old", "rejected",
                Map.of("trigger", "admin_api", "problems", 2, "first_problem", "bulwark.routes[0].cluster: unknown")));
        for (int i = 0; i < AdminFixture.EVENT_CAPACITY + 5; i++) {
            f.call("PUT", upstreamPath("users", A) + "/weight", "{\"weight\":" + (i % 3 + 1) + "}");
        }

        JsonNode reload = summary().get("last_reload");

        assertThat(reload.get("result").asText()).isEqualTo("rejected");
        assertThat(reload.get("trigger").asText()).isEqualTo("admin_api");
        assertThat(reload.get("problems").asInt()).isEqualTo(2);
        assertThat(reload.get("first_problem").asText()).contains("bulwark.routes[0].cluster");
    }

    @Test
    void onlyGetIsAllowed() {
        assertThat(f.call("POST", "/api/v1/summary", null).status()).isEqualTo(405);
    }

    @Test
    void anOperatorsNoteLandsInTheEventDetail() {
        assertThat(f.call("POST", upstreamPath("users", A) + "/drain?note=deploy%20v42", null).status())
                .isEqualTo(202);
        assertThat(f.events.newest(1).get(0).detail()).containsEntry("note", "deploy v42");

        f.call("PUT", upstreamPath("users", A) + "/health", "{\"override\":\"unhealthy\",\"note\":\"disk full\"}");
        assertThat(f.events.newest(1).get(0).detail()).containsEntry("note", "disk full");

        f.call("POST", upstreamPath("users", A) + "/restore?note=fixed", null);
        assertThat(f.events.newest(1).get(0).detail()).containsEntry("note", "fixed");
        assertThat(f.upstream("users", A).admin()).isEqualTo(Upstream.AdminState.ACTIVE);
    }

    @Test
    void aNoteTooLongOrNotAStringIs400AndChangesNothing() {
        Answer tooLong = f.call("POST", upstreamPath("users", A) + "/drain?note=" + "x".repeat(201), null);
        Answer notText = f.call("PUT", upstreamPath("users", A) + "/weight", "{\"weight\":3,\"note\":7}");

        assertThat(tooLong.status()).isEqualTo(400);
        assertThat(tooLong.json().get("message").asText()).contains("note");
        assertThat(notText.status()).isEqualTo(400);
        assertThat(f.upstream("users", A).admin()).isEqualTo(Upstream.AdminState.ACTIVE);
        assertThat(f.upstream("users", A).weight()).isEqualTo(1);
    }
}
