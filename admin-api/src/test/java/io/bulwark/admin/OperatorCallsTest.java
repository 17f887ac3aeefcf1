package io.bulwark.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.bulwark.admin.AdminFixture.Answer;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.bulwark.admin.AdminFixture.upstreamPath;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The state-changing calls on one upstream: their status, the upstream's new state in the answer,
 * the change on the real upstream, and the event each one writes.
 */
class OperatorCallsTest {

    private static final String A = "127.0.0.1:9001";
    private static final String B = "127.0.0.1:9002";
    private static final String C = "127.0.0.1:9003";
    private static final String SOLO = "127.0.0.1:9101";

    private final AdminFixture f = new AdminFixture();

    private Answer post(String cluster, String address, String action) {
        return f.call("POST", upstreamPath(cluster, address) + "/" + action, null);
    }

    private Answer put(String cluster, String address, String action, String body) {
        return f.call("PUT", upstreamPath(cluster, address) + "/" + action, body);
    }

    private StateEvent lastEvent() {
        return f.events.newest(1).get(0);
    }

    // ---- drain and restore ----

    @Test
    void drainIs202AndAnswersTheDrainedUpstream() {
        Answer a = post("users", A, "drain");

        assertThat(a.status()).isEqualTo(202);
        assertThat(a.json().get("address").asText()).isEqualTo(A);
        // Nothing in flight, so the drain is complete at once.
        assertThat(a.json().get("admin").asText()).isEqualTo("drained");
        assertThat(a.json().get("eligible").asBoolean()).isFalse();
        assertThat(a.json().get("reasons")).extracting(JsonNode::asText).containsExactly("drained");
        Upstream u = f.upstream("users", A);
        assertThat(u.admin()).isEqualTo(Upstream.AdminState.DRAINED);
        assertThat(f.proxy.cluster("users").hostSet().usable()).doesNotContain(u);
    }

    @Test
    void drainWithRequestsInFlightIsDrainingUntilTheyEnd() {
        Upstream u = f.upstream("users", A);
        u.onRequestStart();

        assertThat(post("users", A, "drain").json().get("admin").asText()).isEqualTo("draining");

        u.onResponse(200, 1_000_000);
        u.onRequestEnd();
        assertThat(f.get(upstreamPath("users", A)).json().get("admin").asText()).isEqualTo("drained");
    }

    @Test
    void drainClosesTheUpstreamsIdleConnectionsAndWritesAnEvent() {
        post("users", B, "drain");

        assertThat(f.proxy.idleClosed()).containsExactly(f.upstream("users", B));
        StateEvent e = lastEvent();
        assertThat(e.type()).isEqualTo("drained");
        assertThat(e.cluster()).isEqualTo("users");
        assertThat(e.upstream()).isEqualTo(B);
        assertThat(e.from()).isEqualTo("active");
        assertThat(e.to()).isEqualTo("drained");
        assertThat(e.reason()).isEqualTo("operator");
        assertThat(e.timeMillis()).isEqualTo(f.clock.currentTimeMillis());
    }

    @Test
    void drainingTheLastEligibleUpstreamIs409AndChangesNothing() {
        Answer a = post("solo", SOLO, "drain");

        assertThat(a.status()).isEqualTo(409);
        assertThat(a.error()).isEqualTo("conflict");
        assertThat(a.json().get("message").asText()).contains(SOLO).contains("solo").contains("force=true");
        assertThat(f.upstream("solo", SOLO).admin()).isEqualTo(Upstream.AdminState.ACTIVE);
        assertThat(f.proxy.idleClosed()).isEmpty();
        assertThat(f.events.newest(10)).isEmpty();
    }

    @Test
    void theLastEligibleRuleCountsOnlyEligibleUpstreams() {
        assertThat(post("users", A, "drain").status()).isEqualTo(202);
        put("users", B, "health", "{\"override\":\"unhealthy\"}");

        assertThat(post("users", C, "drain").status()).isEqualTo(409);
        assertThat(f.upstream("users", C).eligible()).isTrue();
    }

    @Test
    void forceDrainsTheLastEligibleUpstream() {
        Answer a = f.call("POST", upstreamPath("solo", SOLO) + "/drain?force=true", null);

        assertThat(a.status()).isEqualTo(202);
        assertThat(a.json().get("admin").asText()).isEqualTo("drained");
        assertThat(f.upstream("solo", SOLO).eligible()).isFalse();
    }

    @Test
    void drainingAnAlreadyIneligibleUpstreamIsNot409() {
        put("solo", SOLO, "health", "{\"override\":\"unhealthy\"}");

        assertThat(post("solo", SOLO, "drain").status()).isEqualTo(202);
    }

    @Test
    void restoreIs200AndMakesTheUpstreamActiveAgain() {
        post("users", A, "drain");

        Answer a = post("users", A, "restore");

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().get("admin").asText()).isEqualTo("active");
        assertThat(a.json().get("eligible").asBoolean()).isTrue();
        assertThat(f.upstream("users", A).admin()).isEqualTo(Upstream.AdminState.ACTIVE);
        StateEvent e = lastEvent();
        assertThat(e.type()).isEqualTo("restored");
        assertThat(e.from()).isEqualTo("drained");
        assertThat(e.to()).isEqualTo("active");
    }

    @Test
    void aBadTtlIs400AndDrainsNothing() {
        Answer a = f.call("POST", upstreamPath("users", A) + "/drain?ttl=soon", null);

        assertThat(a.status()).isEqualTo(400);
        assertThat(a.error()).isEqualTo("bad_request");
        assertThat(a.json().get("message").asText()).contains("soon");
        assertThat(f.upstream("users", A).admin()).isEqualTo(Upstream.AdminState.ACTIVE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0s", "-5s"})
    void aTtlMustBePositive(String ttl) {
        assertThat(f.call("POST", upstreamPath("users", A) + "/drain?ttl=" + ttl, null).status()).isEqualTo(400);
        assertThat(f.upstream("users", A).admin()).isEqualTo(Upstream.AdminState.ACTIVE);
    }

    // ---- health override ----

    @Test
    void anUnhealthyOverrideTakesTheUpstreamOut() {
        Answer a = put("users", A, "health", "{\"override\":\"unhealthy\"}");

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().get("override").asText()).isEqualTo("unhealthy");
        assertThat(a.json().get("eligible").asBoolean()).isFalse();
        assertThat(a.json().get("reasons")).extracting(JsonNode::asText).containsExactly("override_unhealthy");
        StateEvent e = lastEvent();
        assertThat(e.type()).isEqualTo("health_override");
        assertThat(e.from()).isEqualTo("none");
        assertThat(e.to()).isEqualTo("unhealthy");
    }

    @Test
    void aHealthyOverrideBeatsFailedChecks() {
        Upstream u = f.upstream("users", A);
        u.setHealth(Upstream.Health.UNHEALTHY);
        assertThat(u.eligible()).isFalse();

        Answer a = put("users", A, "health", "{\"override\":\"HEALTHY\"}");

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().get("health").asText()).isEqualTo("unhealthy");
        assertThat(a.json().get("override").asText()).isEqualTo("healthy");
        assertThat(a.json().get("eligible").asBoolean()).isTrue();
    }

    @Test
    void overrideNoneGivesTheChecksTheirSayBack() {
        put("users", A, "health", "{\"override\":\"unhealthy\"}");

        Answer a = put("users", A, "health", "{\"override\":\"none\"}");

        assertThat(a.json().get("override").asText()).isEqualTo("none");
        assertThat(a.json().get("eligible").asBoolean()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"{oops", "[]", "", "{}", "{\"override\":1}", "{\"override\":\"maybe\"}",
            "{\"override\":\"healthy\",\"ttl\":5}", "{\"override\":\"healthy\",\"ttl\":\"soon\"}"})
    void aMalformedHealthBodyIs400AndChangesNothing(String body) {
        Answer a = put("users", A, "health", body);

        assertThat(a.status()).isEqualTo(400);
        assertThat(a.error()).isEqualTo("bad_request");
        assertThat(a.json().get("message").asText()).isNotBlank();
        assertThat(f.upstream("users", A).override()).isEqualTo(Upstream.HealthOverride.NONE);
        assertThat(f.events.newest(10)).isEmpty();
    }

    // ---- weight ----

    @Test
    void weightIsSetAndShown() {
        Answer a = put("users", A, "weight", "{\"weight\":5}");

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().get("weight").asInt()).isEqualTo(5);
        assertThat(f.upstream("users", A).weight()).isEqualTo(5);
        StateEvent e = lastEvent();
        assertThat(e.type()).isEqualTo("weight");
        assertThat(e.from()).isEqualTo("1");
        assertThat(e.to()).isEqualTo("5");
    }

    @Test
    void weightZeroTakesTheUpstreamOut() {
        Answer a = put("users", A, "weight", "{\"weight\":0}");

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().get("eligible").asBoolean()).isFalse();
        assertThat(a.json().get("reasons")).extracting(JsonNode::asText).containsExactly("zero_weight");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"weight\":-1}", "{\"weight\":1000001}", "{\"weight\":\"3\"}", "{\"weight\":2.5}",
            "{}", "[]", "{\"weight\":3,\"ttl\":\"never\"}"})
    void aBadWeightIs400AndChangesNothing(String body) {
        Answer a = put("users", A, "weight", body);

        assertThat(a.status()).isEqualTo(400);
        assertThat(a.error()).isEqualTo("bad_request");
        assertThat(f.upstream("users", A).weight()).isEqualTo(1);
    }

    // ---- uneject ----

    @Test
    void unejectEndsAnEjectionAtOnce() {
        Upstream u = f.upstream("users", A);
        for (int i = 0; i < 3; i++) {
            u.onRequestStart();
            u.onResponse(503, 1_000_000);
            u.onRequestEnd();
        }
        assertThat(f.get(upstreamPath("users", A)).json().get("outlier").get("reason").asText())
                .isEqualTo("consecutive_5xx");

        Answer a = post("users", A, "uneject");

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().get("outlier").isNull()).isTrue();
        assertThat(a.json().get("eligible").asBoolean()).isTrue();
        assertThat(f.proxy.cluster("users").outlierDetector().timesEjected(u)).isZero();
        assertThat(f.events.newest(5)).extracting(StateEvent::reason).contains("operator_uneject");
    }

    @Test
    void unejectingAnUpstreamThatIsNotEjectedIs200AndHarmless() {
        Answer a = post("users", B, "uneject");

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().get("eligible").asBoolean()).isTrue();
        assertThat(f.events.newest(10)).isEmpty();
    }

    // ---- route fault ----

    @Test
    void aFaultIsSwitchedOnAndOffAtRunTime() {
        Answer on = f.call("PUT", "/api/v1/routes/users-api/fault",
                "{\"abort\":{\"percent\":5,\"status\":503},\"delay\":{\"percent\":10,\"duration\":\"200ms\"}}");

        assertThat(on.status()).isEqualTo(200);
        assertThat(on.json().get("route").asText()).isEqualTo("users-api");
        assertThat(on.json().get("active").asBoolean()).isTrue();
        assertThat(on.json().get("abort").get("percent").asDouble()).isEqualTo(5.0);
        assertThat(on.json().get("delay").get("duration_ms").asLong()).isEqualTo(200);
        assertThat(f.get("/api/v1/routes/users-api/fault").json()).isEqualTo(on.json());
        StateEvent e = lastEvent();
        assertThat(e.type()).isEqualTo("fault");
        assertThat(e.to()).isEqualTo("on");
        assertThat(e.detail()).containsEntry("route", "users-api");

        Answer off = f.call("PUT", "/api/v1/routes/users-api/fault", "{}");

        assertThat(off.json().get("active").asBoolean()).isFalse();
        assertThat(lastEvent().to()).isEqualTo("off");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"abort\":{\"percent\":101}}", "{\"abort\":{\"status\":99}}", "{\"oops\":{}}",
            "{\"delay\":{\"percent\":5,\"duration\":\"fast\"}}", "{\"delay\":5}", "not json"})
    void aMalformedFaultIs400(String body) {
        Answer a = f.call("PUT", "/api/v1/routes/users-api/fault", body);

        assertThat(a.status()).isEqualTo(400);
        assertThat(a.error()).isEqualTo("bad_request");
        assertThat(f.get("/api/v1/routes/users-api/fault").json().get("active").asBoolean()).isFalse();
    }
}
