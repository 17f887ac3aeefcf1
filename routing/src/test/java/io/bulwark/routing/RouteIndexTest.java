package io.bulwark.routing;

import io.bulwark.config.RouteConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.bulwark.routing.TestConfigs.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The route index gives exactly the answer of the scan it replaced — every route in order, the
 * first whose conditions all hold — which is kept here as the reference implementation.
 */
class RouteIndexTest {

    private static final List<String> SEGMENTS = List.of("", "a", "ab", "b", "users", "users-v2", "x");
    private static final List<String> HOSTS = List.of(
            "api.example.com", "a.b.example.com", "example.com", "b.example.com", "other.org", "API.Example.COM", "");
    private static final List<String> METHODS = List.of("GET", "POST", "DELETE");

    private final Map<String, Cluster> clusters = Map.of(
            "c", new Cluster(TestConfigs.cluster("c", "127.0.0.1:9001"), new ManualClock()));

    /** The reference: the linear scan in table order. */
    private static Route scan(RouteTable table, RequestView request) {
        for (Route route : table.routes()) {
            if (((CompiledRoute) route).matches(request)) {
                return route;
            }
        }
        return null;
    }

    @Test
    void givesTheScansAnswerForALargeGeneratedTable() {
        Random random = new Random(14);
        for (int table = 0; table < 8; table++) {
            List<RouteConfig> routes = new ArrayList<>();
            int size = 200 + random.nextInt(1800);
            for (int i = 0; i < size; i++) {
                routes.add(randomRoute(random, "r" + i));
            }
            RouteTable compiled = RouteTable.compile(routes, clusters);
            int matchedSome = 0;
            for (int n = 0; n < 20_000; n++) {
                TestRequest request = randomRequest(random);
                Route expected = scan(compiled, request);
                assertThat(compiled.match(request))
                        .as("table %d, %s %s host %s", table, request.method(), request.path(), request.host())
                        .isSameAs(expected);
                matchedSome += expected == null ? 0 : 1;
            }
            assertThat(matchedSome).as("the generated requests exercise matches, not only misses").isGreaterThan(5_000);
        }
    }

    @Test
    void anEarlierShortPrefixWinsOverALongerLaterOne() {
        RouteTable table = RouteTable.compile(List.of(
                route("short").prefix("/api").cluster("c").build(),
                route("long").prefix("/api/users/").cluster("c").build(),
                route("exact").exact("/api/users/42").cluster("c").build()), clusters);

        assertThat(table.match(TestRequest.get("/api/users/42")).name()).isEqualTo("short");
    }

    @Test
    void aLaterRouteWinsWhenTheEarlierOnesConditionsFail() {
        RouteTable table = RouteTable.compile(List.of(
                route("post-only").prefix("/api").methods("POST").cluster("c").build(),
                route("canary").prefix("/api/users").header("x-canary", "true").cluster("c").build(),
                route("regex").regex("/api/users/[0-9]+").cluster("c").build(),
                route("host").prefix("/").host("*.example.com").cluster("c").build(),
                route("rest").cluster("c").build()), clusters);

        assertThat(table.match(TestRequest.get("/api/users/42").header("x-canary", "true")).name()).isEqualTo("canary");
        assertThat(table.match(TestRequest.get("/api/users/42")).name()).isEqualTo("regex");
        assertThat(table.match(TestRequest.get("/api/users/x").host("a.example.com")).name()).isEqualTo("host");
        assertThat(table.match(TestRequest.get("/api/users/x")).name()).isEqualTo("rest");
        assertThat(table.match(TestRequest.request("POST", "/api/users/x")).name()).isEqualTo("post-only");
    }

    @Test
    void findsTheLastOfFiveThousandPrefixRoutes() {
        List<RouteConfig> routes = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            routes.add(route("r" + i).prefix(String.format("/svc-%05d/", i)).cluster("c").build());
        }
        RouteTable table = RouteTable.compile(routes, clusters);

        assertThat(table.match(TestRequest.get("/svc-04999/items/7")).name()).isEqualTo("r4999");
        assertThat(table.match(TestRequest.get("/svc-00000/")).name()).isEqualTo("r0");
        assertThat(table.match(TestRequest.get("/svc-05000/"))).isNull();
        assertThat(table.route("r4321").name()).isEqualTo("r4321");
    }

    private static RouteConfig randomRoute(Random random, String name) {
        TestConfigs.RouteBuilder b = route(name).cluster("c");
        int kind = random.nextInt(10);
        String path = randomPath(random, 3);
        if (kind < 6) {
            if (random.nextInt(8) == 0) {
                b.prefix(random.nextBoolean() ? "/" : path.substring(0, Math.max(1, path.length() - 1)));
            } else {
                b.prefix(path);
            }
        } else if (kind < 8) {
            b.exact(path);
        } else if (kind < 9) {
            b.regex(path.replace("a", "[ab]") + (random.nextBoolean() ? ".*" : ""));
        } // else: no path condition
        switch (random.nextInt(6)) {
            case 0 -> b.host("api.example.com");
            case 1 -> b.host("*.example.com");
            case 2 -> b.host("*.b.example.com");
            case 3 -> b.host("*");
            default -> { }
        }
        if (random.nextInt(4) == 0) {
            int first = random.nextInt(METHODS.size());
            int second = (first + 1 + random.nextInt(METHODS.size() - 1)) % METHODS.size();
            b.methods(random.nextBoolean()
                    ? new String[] {METHODS.get(first)} : new String[] {METHODS.get(first), METHODS.get(second)});
        }
        if (random.nextInt(5) == 0) {
            b.header(random.nextBoolean() ? "x-canary" : "X-Tenant", random.nextBoolean() ? "true" : "t1");
        }
        return b.build();
    }

    private static TestRequest randomRequest(Random random) {
        TestRequest r = TestRequest.request(METHODS.get(random.nextInt(METHODS.size())), randomPath(random, 4));
        if (random.nextInt(3) > 0) {
            r.host(HOSTS.get(random.nextInt(HOSTS.size())));
        }
        if (random.nextInt(3) == 0) {
            r.header("x-canary", random.nextBoolean() ? "true" : "false");
        }
        if (random.nextInt(3) == 0) {
            r.header("x-tenant", random.nextBoolean() ? "t1" : "t2");
        }
        return r;
    }

    private static String randomPath(Random random, int maxSegments) {
        StringBuilder path = new StringBuilder();
        int segments = 1 + random.nextInt(maxSegments);
        for (int i = 0; i < segments; i++) {
            path.append('/').append(SEGMENTS.get(random.nextInt(SEGMENTS.size())));
        }
        if (random.nextInt(4) == 0) {
            path.append('/');
        }
        return path.toString();
    }
}
