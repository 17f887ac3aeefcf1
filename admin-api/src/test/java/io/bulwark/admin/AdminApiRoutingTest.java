package io.bulwark.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.bulwark.admin.AdminFixture.Answer;
import io.bulwark.config.ConfigProblem;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static io.bulwark.admin.AdminFixture.upstreamPath;
import static org.assertj.core.api.Assertions.assertThat;

/** Which method and path reaches which endpoint, and what unknown names and wrong methods get. */
class AdminApiRoutingTest {

    private final AdminFixture f = new AdminFixture();

    @Test
    void pathsOutsideTheApiPrefixAreNotTheApisBusiness() {
        assertThat(f.get("/api/v2/clusters")).isNull();
        assertThat(f.get("/live")).isNull();
        assertThat(f.get("/api/v1")).isNull();
    }

    @ParameterizedTest
    @CsvSource({
            "GET, /api/v1/",
            "GET, /api/v1/nothing",
            "GET, /api/v1/routes/users-api",
            "GET, /api/v1/routes/users-api/fault/extra",
            "GET, /api/v1/config/versions",
            "GET, /api/v1/events/1",
            "GET, /api/v1/recovery/users",
            "GET, /api/v1/clusters/users/upstreams",
            "GET, /api/v1/clusters/users/members/127.0.0.1:9001",
            "POST, /api/v1/clusters/users/upstreams/127.0.0.1:9001/explode",
            "POST, /api/v1/clusters/users/upstreams/127.0.0.1:9001/drain/now",
    })
    void unknownEndpointsFallThroughToTheServers404(String method, String path) {
        assertThat(f.call(method, path, null)).isNull();
    }

    @Test
    void unknownClusterUpstreamAndRouteAre404WithTheName() {
        Answer cluster = f.get("/api/v1/clusters/nope");
        assertThat(cluster.status()).isEqualTo(404);
        assertThat(cluster.error()).isEqualTo("not_found");
        assertThat(cluster.json().get("message").asText()).isEqualTo("no cluster nope");

        Answer upstream = f.call("POST", upstreamPath("users", "10.9.9.9:80") + "/drain", null);
        assertThat(upstream.status()).isEqualTo(404);
        assertThat(upstream.json().get("message").asText()).isEqualTo("no upstream 10.9.9.9:80 in cluster users");

        Answer underUnknownCluster = f.call("POST", upstreamPath("nope", "127.0.0.1:9001") + "/drain", null);
        assertThat(underUnknownCluster.status()).isEqualTo(404);
        assertThat(underUnknownCluster.json().get("message").asText()).isEqualTo("no cluster nope");

        Answer route = f.call("PUT", "/api/v1/routes/nope/fault", "{}");
        assertThat(route.status()).isEqualTo(404);
        assertThat(route.json().get("message").asText()).isEqualTo("no route nope");
    }

    @Test
    void anUpstreamThatExistsInAnotherClusterIsStill404() {
        assertThat(f.get(upstreamPath("solo", "127.0.0.1:9001")).status()).isEqualTo(404);
    }

    @ParameterizedTest
    @CsvSource({
            "POST, /api/v1/routes",
            "DELETE, /api/v1/clusters",
            "PUT, /api/v1/clusters/users",
            "DELETE, /api/v1/clusters/users/upstreams/127.0.0.1:9001",
            "GET, /api/v1/clusters/users/upstreams/127.0.0.1:9001/drain",
            "PUT, /api/v1/clusters/users/upstreams/127.0.0.1:9001/drain",
            "GET, /api/v1/clusters/users/upstreams/127.0.0.1:9001/restore",
            "GET, /api/v1/clusters/users/upstreams/127.0.0.1:9001/uneject",
            "POST, /api/v1/clusters/users/upstreams/127.0.0.1:9001/health",
            "GET, /api/v1/clusters/users/upstreams/127.0.0.1:9001/weight",
            "POST, /api/v1/routes/users-api/fault",
            "PUT, /api/v1/config",
            "GET, /api/v1/config/reload",
            "DELETE, /api/v1/events",
            "POST, /api/v1/recovery",
    })
    void aKnownEndpointWithTheWrongMethodIs405AndChangesNothing(String method, String path) {
        Answer a = f.call(method, path, "{\"override\":\"unhealthy\",\"weight\":7}");
        assertThat(a.status()).isEqualTo(405);
        assertThat(a.error()).isEqualTo("method_not_allowed");
        assertThat(a.json().get("message").asText()).isEqualTo(method + " is not allowed here");
        Upstream u = f.upstream("users", "127.0.0.1:9001");
        assertThat(u.admin()).isEqualTo(Upstream.AdminState.ACTIVE);
        assertThat(u.override()).isEqualTo(Upstream.HealthOverride.NONE);
        assertThat(u.weight()).isEqualTo(1);
        assertThat(f.events.newest(10)).isEmpty();
    }

    @Test
    void percentEncodedNamesAreDecoded() {
        Answer a = f.get("/api/v1/clusters/users/upstreams/127.0.0.1%3A9002");
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().get("address").asText()).isEqualTo("127.0.0.1:9002");
    }

    @Test
    void clustersListsEveryClusterInConfigOrder() {
        Answer a = f.get("/api/v1/clusters");
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().get("clusters")).extracting(c -> c.get("name").asText()).containsExactly("users", "solo");
        assertThat(a.json().get("clusters").get(0).get("upstreams")).extracting(u -> u.get("address").asText())
                .containsExactly("127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003");
    }

    @Test
    void oneClusterAndOneUpstream() {
        assertThat(f.get("/api/v1/clusters/solo").json().get("name").asText()).isEqualTo("solo");
        JsonNode u = f.get(upstreamPath("users", "127.0.0.1:9003")).json();
        assertThat(u.get("address").asText()).isEqualTo("127.0.0.1:9003");
        assertThat(u.get("weight").asInt()).isEqualTo(2);
    }

    @Test
    void routesListTheirEffectiveSettingsInMatchOrder() {
        JsonNode routes = f.get("/api/v1/routes").json().get("routes");
        assertThat(routes).extracting(r -> r.get("name").asText()).containsExactly("users-api", "solo-api");
        JsonNode users = routes.get(0);
        assertThat(users.get("match").get("path_prefix").asText()).isEqualTo("/users");
        assertThat(users.get("match").get("methods")).extracting(JsonNode::asText).containsExactly("GET", "POST");
        assertThat(users.get("prefix_rewrite").asText()).isEqualTo("/");
        assertThat(users.get("clusters").get(0).get("name").asText()).isEqualTo("users");
        assertThat(routes.get(1).get("match").get("path_exact").asText()).isEqualTo("/solo");
        assertThat(routes.get(1).get("prefix_rewrite").isNull()).isTrue();
    }

    @Test
    void theEffectiveConfigIsTheConfigInForce() {
        Answer a = f.get("/api/v1/config");
        assertThat(a.status()).isEqualTo(200);
        JsonNode clusters = a.json().get("bulwark").get("clusters");
        assertThat(clusters.has("users")).isTrue();
        assertThat(clusters.get("users").get("outlier-detection").get("consecutive-5xx").asInt()).isEqualTo(3);
    }

    @Test
    void anAcceptedReloadIs200WithTheSummary() {
        f.proxy.nextReload(new ProxyControl.ReloadResult(true, List.of(), "3 clusters, 1 route"));
        Answer a = f.call("POST", "/api/v1/config/reload", null);
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().get("result").asText()).isEqualTo("accepted");
        assertThat(a.json().get("summary").asText()).isEqualTo("3 clusters, 1 route");
    }

    @Test
    void aRejectedReloadIs422WithEveryProblem() {
        f.proxy.nextReload(new ProxyControl.ReloadResult(false, List.of(
                new ConfigProblem("bulwark.routes[0].cluster", "unknown cluster \"usrs\""),
                new ConfigProblem("bulwark.listener.port", "must be 1..65535")), null));
        Answer a = f.call("POST", "/api/v1/config/reload", null);
        assertThat(a.status()).isEqualTo(422);
        assertThat(a.error()).isEqualTo("invalid_config");
        assertThat(a.json().get("problems")).extracting(p -> p.get("path").asText() + ": " + p.get("message").asText())
                .containsExactly("bulwark.routes[0].cluster: unknown cluster \"usrs\"",
                        "bulwark.listener.port: must be 1..65535");
    }
}
