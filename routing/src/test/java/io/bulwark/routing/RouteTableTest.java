package io.bulwark.routing;

import io.bulwark.config.RouteConfig;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.bulwark.routing.TestConfigs.route;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class RouteTableTest {

    private final Map<String, Cluster> clusters = new HashMap<>();

    RouteTableTest() {
        for (String name : List.of("users", "users-v2", "orders", "fallback")) {
            clusters.put(name, new Cluster(TestConfigs.cluster(name, "127.0.0.1:9001"), new ManualClock()));
        }
    }

    private RouteTable table(RouteConfig... routes) {
        return RouteTable.compile(List.of(routes), clusters);
    }

    private static String matched(RouteTable table, RequestView request) {
        Route route = table.match(request);
        return route == null ? null : route.name();
    }

    @Test
    void pathPrefixMatchesAsPlainStringPrefix() {
        RouteTable table = table(route("users").prefix("/users").cluster("users").build());

        assertThat(matched(table, TestRequest.get("/users"))).isEqualTo("users");
        assertThat(matched(table, TestRequest.get("/users/"))).isEqualTo("users");
        assertThat(matched(table, TestRequest.get("/users/42"))).isEqualTo("users");
        assertThat(matched(table, TestRequest.get("/usersx"))).isEqualTo("users");
        assertThat(matched(table, TestRequest.get("/user"))).isNull();
        assertThat(matched(table, TestRequest.get("/orders/users"))).isNull();
    }

    @Test
    void routeWithoutPathConditionMatchesEveryPath() {
        RouteTable table = table(route("all").cluster("users").build());

        assertThat(matched(table, TestRequest.get("/"))).isEqualTo("all");
        assertThat(matched(table, TestRequest.get("/anything/at/all"))).isEqualTo("all");
    }

    @Test
    void pathExactMatchesOnlyTheWholePath() {
        RouteTable table = table(route("health").exact("/health").cluster("users").build());

        assertThat(matched(table, TestRequest.get("/health"))).isEqualTo("health");
        assertThat(matched(table, TestRequest.get("/health/"))).isNull();
        assertThat(matched(table, TestRequest.get("/healthz"))).isNull();
        assertThat(matched(table, TestRequest.get("/"))).isNull();
    }

    @Test
    void pathRegexMustMatchTheWholePath() {
        RouteTable table = table(route("user-by-id").regex("/users/[0-9]+").cluster("users").build());

        assertThat(matched(table, TestRequest.get("/users/42"))).isEqualTo("user-by-id");
        assertThat(matched(table, TestRequest.get("/users/42/orders"))).isNull();
        assertThat(matched(table, TestRequest.get("/api/users/42"))).isNull();
        assertThat(matched(table, TestRequest.get("/users/abc"))).isNull();
        // The matcher is reused per thread: a later match is not influenced by an earlier one.
        assertThat(matched(table, TestRequest.get("/users/7"))).isEqualTo("user-by-id");
    }

    @Test
    void exactHostMatchesOnlyThatHost() {
        RouteTable table = table(route("api").host("api.example.com").cluster("users").build());

        assertThat(matched(table, TestRequest.get("/").host("api.example.com"))).isEqualTo("api");
        assertThat(matched(table, TestRequest.get("/").host("API.Example.com"))).isEqualTo("api");
        assertThat(matched(table, TestRequest.get("/").host("www.example.com"))).isNull();
        assertThat(matched(table, TestRequest.get("/").host("a.api.example.com"))).isNull();
        assertThat(matched(table, TestRequest.get("/").host(""))).isNull();
    }

    @Test
    void wildcardHostMatchesSubdomainsAtAnyDepthButNotTheBareDomain() {
        RouteTable table = table(route("wild").host("*.example.com").cluster("users").build());

        assertThat(matched(table, TestRequest.get("/").host("a.example.com"))).isEqualTo("wild");
        assertThat(matched(table, TestRequest.get("/").host("a.b.example.com"))).isEqualTo("wild");
        assertThat(matched(table, TestRequest.get("/").host("example.com"))).isNull();
        assertThat(matched(table, TestRequest.get("/").host(".example.com"))).isNull();
        assertThat(matched(table, TestRequest.get("/").host("aexample.com"))).isNull();
        assertThat(matched(table, TestRequest.get("/").host("a.example.org"))).isNull();
    }

    @Test
    void methodsRestrictTheRoute() {
        RouteTable table = table(
                route("writes").prefix("/users").methods("POST", "PUT").cluster("users").build(),
                route("reads").prefix("/users").cluster("fallback").build());

        assertThat(matched(table, TestRequest.request("POST", "/users"))).isEqualTo("writes");
        assertThat(matched(table, TestRequest.request("PUT", "/users/1"))).isEqualTo("writes");
        assertThat(matched(table, TestRequest.request("GET", "/users"))).isEqualTo("reads");
        assertThat(matched(table, TestRequest.request("DELETE", "/users"))).isEqualTo("reads");
    }

    @Test
    void headersMustBePresentWithExactValuesAndNamesAreCaseInsensitive() {
        RouteTable table = table(route("canary").header("X-Canary", "true").header("x-tier", "gold").cluster("users-v2").build());

        assertThat(matched(table, TestRequest.get("/").header("x-canary", "true").header("X-Tier", "gold"))).isEqualTo("canary");
        assertThat(matched(table, TestRequest.get("/").header("x-canary", "TRUE").header("x-tier", "gold"))).isNull();
        assertThat(matched(table, TestRequest.get("/").header("x-canary", "true"))).isNull();
        assertThat(matched(table, TestRequest.get("/").header("x-canary", "true ").header("x-tier", "gold"))).isNull();
    }

    @Test
    void firstMatchingRouteWinsInConfigOrder() {
        RouteTable table = table(
                route("specific").prefix("/users/admin").cluster("orders").build(),
                route("users").prefix("/users").cluster("users").build(),
                route("never").prefix("/users/admin/x").cluster("fallback").build(),
                route("catch-all").prefix("/").cluster("fallback").build());

        assertThat(matched(table, TestRequest.get("/users/admin/x"))).isEqualTo("specific");
        assertThat(matched(table, TestRequest.get("/users/1"))).isEqualTo("users");
        assertThat(matched(table, TestRequest.get("/other"))).isEqualTo("catch-all");
        assertThat(table.routes()).extracting(Route::name).containsExactly("specific", "users", "never", "catch-all");
    }

    @Test
    void everyConditionMustHold() {
        RouteTable table = table(route("all-conditions").prefix("/users").host("*.example.com").methods("GET")
                .header("x-canary", "true").cluster("users").build());

        TestRequest full = TestRequest.get("/users/1").host("api.example.com").header("x-canary", "true");
        assertThat(matched(table, full)).isEqualTo("all-conditions");
        assertThat(matched(table, full.method("POST"))).isNull();
    }

    @Test
    void noMatchingRouteGivesNull() {
        RouteTable table = table(route("users").prefix("/users").host("api.example.com").cluster("users").build());

        assertThat(table.match(TestRequest.get("/orders").host("api.example.com"))).isNull();
        assertThat(RouteTable.compile(List.of(), clusters).match(TestRequest.get("/"))).isNull();
    }

    @Test
    void singleClusterRouteAlwaysPicksThatCluster() {
        Route route = table(route("users").cluster("users").build()).routes().get(0);

        for (int i = 0; i < 100; i++) {
            assertThat(route.pickCluster().name()).isEqualTo("users");
        }
    }

    @Test
    void weightedClustersSplitTrafficByWeight() {
        Route route = table(route("split").cluster("users", 90).cluster("users-v2", 10).build()).routes().get(0);

        int v2 = 0;
        int picks = 10_000;
        for (int i = 0; i < picks; i++) {
            if (route.pickCluster().name().equals("users-v2")) {
                v2++;
            }
        }
        // Binomial sd is 30 picks; 200 is over six of them.
        assertThat((double) v2).isCloseTo(1_000, within(200.0));
    }

    @Test
    void zeroWeightClusterGetsNoTraffic() {
        Route route = table(route("split").cluster("users", 1).cluster("users-v2", 0).build()).routes().get(0);

        for (int i = 0; i < 1_000; i++) {
            assertThat(route.pickCluster().name()).isEqualTo("users");
        }
    }

    @Test
    void unknownClusterIsRejectedAtCompile() {
        assertThatThrownBy(() -> table(route("r").cluster("usrs").build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("usrs");
    }

    @Test
    void invalidRegexIsRejectedAtCompile() {
        assertThatThrownBy(() -> table(route("r").regex("/users/(").cluster("users").build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("route r");
    }
}
