package io.bulwark.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.bulwark.admin.AdminFixture.Answer;
import io.bulwark.routing.ManualClock;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.bulwark.admin.AdminFixture.upstreamPath;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ?scope=fleet} and the two layers of operator overrides: what is handed to the fleet, what
 * applies here, and that a local override wins where both exist. The fleet's Redis side is a
 * recorder here; {@code FleetProcessTest} (src-test) runs the real one.
 */
class FleetOverridesTest {

    private static final String A = "127.0.0.1:9001";
    private static final String B = "127.0.0.1:9002";

    /** Records what the admin API hands to the fleet. */
    static final class RecordingFleet implements FleetControl {
        final List<FleetOverride> published = new ArrayList<>();
        final List<String> removed = new ArrayList<>();

        @Override
        public String memberId() {
            return "me";
        }

        @Override
        public void publish(FleetOverride entry) {
            published.add(entry);
        }

        @Override
        public void remove(String cluster, String address, FleetOverride.Kind kind, String id) {
            removed.add(FleetOverride.field(cluster, address, kind));
        }

        @Override
        public Status status() {
            return new Status("payments", "redis://127.0.0.1:6379", "standalone", true, 0,
                    List.of(new Member("me", 1), new Member("other", 2)), 7, 1,
                    java.util.Map.of("api", new Decisions(90, 10)));
        }
    }

    private final RecordingFleet fleet = new RecordingFleet();
    private final AdminFixture f = new AdminFixture(new ManualClock(), TestProxyControl.CONFIG, null, fleet);
    private final FleetControl.Listener listener = f.api.fleetListener();

    private FleetOverride fromOther(String address, FleetOverride.Kind kind, String value, String id) {
        return new FleetOverride("users", address, kind, value, 0, "other", f.clock.currentTimeMillis(), id, null);
    }

    @Test
    void aFleetDrainAppliesHereAtOnceAndIsHandedToTheFleet() {
        Answer a = f.call("POST", upstreamPath("users", A) + "/drain?scope=fleet&note=deploy", null);

        assertThat(a.status()).isEqualTo(202);
        assertThat(a.json().get("admin").asText()).isEqualTo("drained");
        assertThat(a.json().at("/override_origin/admin").asText()).isEqualTo("fleet");
        assertThat(a.json().at("/fleet/seen_by").toString()).isEqualTo("[\"me\"]");
        assertThat(fleet.published).hasSize(1);
        FleetOverride o = fleet.published.get(0);
        assertThat(o.field()).isEqualTo("users|" + A + "|drain");
        assertThat(o.origin()).isEqualTo("me");
        assertThat(o.note()).isEqualTo("deploy");
        assertThat(f.upstream("users", A).admin()).isEqualTo(Upstream.AdminState.DRAINED);
        StateEvent e = f.events.newest(1).get(0);
        assertThat(e.source()).isEqualTo("fleet");
        assertThat(e.detail()).containsEntry("origin", "me");
    }

    @Test
    void aFleetOverrideFromAnotherMemberAppliesAndShowsItsOrigin() {
        listener.applied(fromOther(A, FleetOverride.Kind.WEIGHT, "7", "w1"));
        listener.seen("w1", "other");
        listener.seen("w1", "me");

        assertThat(f.upstream("users", A).weight()).isEqualTo(7);
        JsonNode view = f.get("/api/v1/fleet").json();
        assertThat(view.get("members")).hasSize(2);
        assertThat(view.at("/redis/connected").asBoolean()).isTrue();
        assertThat(view.at("/overrides/0/origin").asText()).isEqualTo("other");
        assertThat(view.at("/overrides/0/seen_by").toString()).isEqualTo("[\"other\",\"me\"]");
        assertThat(view.at("/global_rate_limits/quota_fetches").asLong()).isEqualTo(7);
        assertThat(view.at("/global_rate_limits/decisions/api/by_local").asLong()).isEqualTo(10);
    }

    @Test
    void aLocalOverrideWinsOverTheFleetsAndTheFleetsComesBackWhenItEnds() {
        f.call("PUT", upstreamPath("users", A) + "/health", "{\"override\":\"healthy\"}");
        listener.applied(fromOther(A, FleetOverride.Kind.OVERRIDE, "unhealthy", "h1"));

        Upstream u = f.upstream("users", A);
        assertThat(u.override()).as("the local word wins").isEqualTo(Upstream.HealthOverride.HEALTHY);
        assertThat(f.get("/api/v1/fleet").json().at("/overrides/0/shadowed_here_by_local").asBoolean()).isTrue();

        f.call("PUT", upstreamPath("users", A) + "/health", "{\"override\":\"none\"}");

        assertThat(u.override()).as("the fleet's, once the local one is gone").isEqualTo(Upstream.HealthOverride.UNHEALTHY);
        assertThat(f.get(upstreamPath("users", A)).json().at("/override_origin/override").asText()).isEqualTo("fleet");
    }

    @Test
    void aLocalRestoreLeavesAFleetDrainInForce() {
        listener.applied(fromOther(A, FleetOverride.Kind.DRAIN, "draining", "d1"));

        Answer a = f.call("POST", upstreamPath("users", A) + "/restore", null);

        assertThat(a.json().get("admin").asText()).isEqualTo("drained");
        assertThat(f.events.newest(1).get(0).detail()).containsKey("fleet_drain");
        Answer fleetRestore = f.call("POST", upstreamPath("users", A) + "/restore?scope=fleet", null);
        assertThat(fleetRestore.json().get("admin").asText()).isEqualTo("active");
        assertThat(fleet.removed).containsExactly("users|" + A + "|drain");
    }

    @Test
    void aFleetOverrideWithATtlRevertsByItselfOnEveryMember() {
        long now = f.clock.currentTimeMillis();
        listener.applied(new FleetOverride("users", A, FleetOverride.Kind.DRAIN, "draining", now + 60_000, "other",
                now, "t1", null));
        assertThat(f.upstream("users", A).admin()).isNotEqualTo(Upstream.AdminState.ACTIVE);

        f.scheduler.advance(Duration.ofSeconds(61));

        assertThat(f.upstream("users", A).admin()).isEqualTo(Upstream.AdminState.ACTIVE);
        assertThat(f.get("/api/v1/fleet").json().get("overrides")).isEmpty();
    }

    @Test
    void loadingTheHashReplacesTheFleetLayerWhole() {
        listener.applied(fromOther(A, FleetOverride.Kind.DRAIN, "draining", "d1"));

        listener.loaded(List.of(fromOther(B, FleetOverride.Kind.WEIGHT, "3", "w2")));

        assertThat(f.upstream("users", A).admin()).as("removed while away").isEqualTo(Upstream.AdminState.ACTIVE);
        assertThat(f.upstream("users", B).weight()).isEqualTo(3);
    }

    @Test
    void theStateFileKeepsOnlyTheLocalLayer(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = dir.resolve("state.json");
        AdminFixture withFile = new AdminFixture(new ManualClock(), TestProxyControl.CONFIG, file, fleet);
        withFile.api.fleetListener().applied(fromOther(A, FleetOverride.Kind.DRAIN, "draining", "d1"));
        withFile.call("PUT", upstreamPath("users", B) + "/weight", "{\"weight\":5}");
        withFile.scheduler.advance(Duration.ofMillis(1));

        String saved = java.nio.file.Files.readString(file);
        assertThat(saved).contains(B).contains("\"weight\":5").doesNotContain("drained");
    }

    @Test
    void scopeFleetWithoutAFleetIsABadRequest() {
        AdminFixture single = new AdminFixture();

        Answer a = single.call("POST", upstreamPath("users", A) + "/drain?scope=fleet", null);

        assertThat(a.status()).isEqualTo(400);
        assertThat(a.json().get("message").asText()).contains("bulwark.fleet");
        assertThat(single.upstream("users", A).admin()).isEqualTo(Upstream.AdminState.ACTIVE);
        assertThat(single.get("/api/v1/fleet").json().get("enabled").asBoolean()).isFalse();
        assertThat(f.call("POST", upstreamPath("users", A) + "/drain?scope=galaxy", null).status()).isEqualTo(400);
    }
}
