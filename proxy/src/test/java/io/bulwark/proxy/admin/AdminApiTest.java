package io.bulwark.proxy.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import io.bulwark.routing.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The operator endpoints of CONTRACT §5 against a running proxy, every error status included. */
class AdminApiTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String TOKEN = "s3cret-token";

    TestUpstream a;
    TestUpstream b;
    ProxyHarness proxy;

    @BeforeEach
    void start() throws Exception {
        a = TestUpstream.start("a", TestUpstream.echo("a"));
        b = TestUpstream.start("b", TestUpstream.echo("b"));
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s", "%s" ] } }
                routes = [ { name = main, match { path-prefix = "/" }, cluster = app } ]
                """.formatted(a.address(), b.address()), "", "token = \"" + TOKEN + "\"",
                Cluster.Resolver.SYSTEM);
    }

    @AfterEach
    void stop() {
        proxy.close();
        a.close();
        b.close();
    }

    HttpResponse<String> call(String method, String path, String body) throws Exception {
        return proxy.adminWithToken(method, path, body, TOKEN);
    }

    JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    String upstreamPath(TestUpstream u) {
        return "/api/v1/clusters/app/upstreams/" + u.address();
    }

    @Test
    void everyApiCallNeedsTheTokenButHealthAndMetricsDoNot() throws Exception {
        HttpResponse<String> none = proxy.admin("GET", "/api/v1/clusters", null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(json(none).get("error").asText()).isEqualTo("unauthorized");
        assertThat(proxy.adminWithToken("GET", "/api/v1/clusters", null, "wrong").statusCode()).isEqualTo(401);
        assertThat(proxy.adminWithToken("POST", upstreamPath(a) + "/drain", null, "wrong").statusCode())
                .isEqualTo(401);
        assertThat(call("GET", "/api/v1/clusters", null).statusCode()).isEqualTo(200);
        assertThat(proxy.admin("/live").statusCode()).isEqualTo(200);
        assertThat(proxy.admin("/ready").statusCode()).isEqualTo(200);
        assertThat(proxy.admin("/metrics").statusCode()).isEqualTo(200);
    }

    @Test
    void clustersShowEveryUpstreamWithItsFlags() throws Exception {
        proxy.get("/warm");
        JsonNode cluster = json(call("GET", "/api/v1/clusters", null)).get("clusters").get(0);
        assertThat(cluster.get("name").asText()).isEqualTo("app");
        assertThat(cluster.get("load_balancer").asText()).isEqualTo("round-robin");
        assertThat(cluster.get("panic").asBoolean()).isFalse();
        JsonNode up = cluster.get("upstreams").get(0);
        for (String field : new String[] {"address", "admin", "health", "outlier", "override", "eligible", "reasons",
            "weight", "effective_weight", "active_requests", "stats"}) {
            assertThat(up.has(field)).as(field).isTrue();
        }
        assertThat(up.get("admin").asText()).isEqualTo("active");
        assertThat(up.get("eligible").asBoolean()).isTrue();
        assertThat(up.get("outlier").isNull()).isTrue();
        long requests = cluster.get("upstreams").get(0).get("stats").get("requests").asLong()
                + cluster.get("upstreams").get(1).get("stats").get("requests").asLong();
        assertThat(requests).isEqualTo(1);
        assertThat(json(call("GET", "/api/v1/clusters/app", null)).get("name").asText()).isEqualTo("app");
        assertThat(json(call("GET", upstreamPath(a), null)).get("address").asText()).isEqualTo(a.address());
    }

    @Test
    void unknownNamesAre404WithAReason() throws Exception {
        HttpResponse<String> cluster = call("GET", "/api/v1/clusters/nope", null);
        assertThat(cluster.statusCode()).isEqualTo(404);
        assertThat(json(cluster).get("error").asText()).isEqualTo("not_found");
        assertThat(json(cluster).get("message").asText()).contains("nope");
        HttpResponse<String> upstream = call("POST", "/api/v1/clusters/app/upstreams/1.2.3.4:80/drain", null);
        assertThat(upstream.statusCode()).isEqualTo(404);
        assertThat(json(upstream).get("message").asText()).isEqualTo("no upstream 1.2.3.4:80 in cluster app");
        assertThat(call("GET", "/api/v1/nothing", null).statusCode()).isEqualTo(404);
    }

    @Test
    void drainStopsNewRequestsAndRestoreBringsItBack() throws Exception {
        HttpResponse<String> drained = call("POST", upstreamPath(a) + "/drain", null);
        assertThat(drained.statusCode()).isEqualTo(202);
        assertThat(json(drained).get("admin").asText()).isIn("draining", "drained");
        assertThat(json(drained).get("eligible").asBoolean()).isFalse();
        int before = a.requests();
        for (int i = 0; i < 10; i++) {
            assertThat(proxy.get("/d/" + i).body()).contains("\"upstream\":\"b\"");
        }
        assertThat(a.requests()).isEqualTo(before);

        HttpResponse<String> restored = call("POST", upstreamPath(a) + "/restore", null);
        assertThat(restored.statusCode()).isEqualTo(200);
        assertThat(json(restored).get("admin").asText()).isEqualTo("active");
        boolean reachedA = false;
        for (int i = 0; i < 10 && !reachedA; i++) {
            reachedA = proxy.get("/r/" + i).body().contains("\"upstream\":\"a\"");
        }
        assertThat(reachedA).isTrue();
    }

    @Test
    void drainingTheLastEligibleUpstreamIs409UnlessForced() throws Exception {
        assertThat(call("POST", upstreamPath(a) + "/drain", null).statusCode()).isEqualTo(202);
        HttpResponse<String> last = call("POST", upstreamPath(b) + "/drain", null);
        assertThat(last.statusCode()).isEqualTo(409);
        assertThat(json(last).get("message").asText()).contains("last eligible");
        assertThat(proxy.get("/still").statusCode()).isEqualTo(200);
        assertThat(call("POST", upstreamPath(b) + "/drain?force=true", null).statusCode()).isEqualTo(202);
        assertThat(proxy.get("/none").statusCode()).isEqualTo(503);
    }

    @Test
    void drainLetsInFlightRequestsFinishThenReportsDrained() throws Exception {
        a.behaviour((req, n) -> Reply.ok("slow-a").delayed(1_500));
        b.behaviour((req, n) -> Reply.ok("slow-b").delayed(1_500));
        CompletableFuture<HttpResponse<String>> inFlight = proxy.client().sendAsync(
                java.net.http.HttpRequest.newBuilder(proxy.uri("/slow")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> a.requests() + b.requests() == 1);
        TestUpstream busy = a.requests() == 1 ? a : b;
        TestUpstream other = busy == a ? b : a;
        other.behaviour(TestUpstream.echo(other.name()));
        HttpResponse<String> drain = call("POST", upstreamPath(busy) + "/drain", null);
        assertThat(json(drain).get("admin").asText()).isEqualTo("draining");
        assertThat(json(drain).get("active_requests").asInt()).isEqualTo(1);
        for (int i = 0; i < 5; i++) {
            assertThat(proxy.get("/n/" + i).body()).contains("\"upstream\":\"" + other.name() + "\"");
        }
        HttpResponse<String> finished = inFlight.get(10, TimeUnit.SECONDS);
        assertThat(finished.statusCode()).isEqualTo(200);
        assertThat(finished.body()).isEqualTo("slow-" + busy.name());
        await().atMost(Duration.ofSeconds(2)).until(() ->
                json(call("GET", upstreamPath(busy), null)).get("admin").asText().equals("drained"));
        assertThat(busy.requests()).isEqualTo(1);
        JsonNode done = json(call("GET", "/api/v1/events?limit=20", null)).get("events").get(0);
        assertThat(done.get("type").asText()).isEqualTo("drained");
        assertThat(done.get("upstream").asText()).isEqualTo(busy.address());
        assertThat(done.get("from").asText()).isEqualTo("draining");
        assertThat(done.get("to").asText()).isEqualTo("drained");
        assertThat(done.get("reason").asText()).isEqualTo("in_flight_finished");
    }

    @Test
    void aDrainWithATtlRevertsByItselfWithAnEvent() throws Exception {
        assertThat(call("POST", upstreamPath(a) + "/drain?ttl=300ms", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(5)).until(() ->
                json(call("GET", upstreamPath(a), null)).get("admin").asText().equals("active"));
        JsonNode events = json(call("GET", "/api/v1/events?limit=5", null)).get("events");
        assertThat(events.get(0).get("type").asText()).isEqualTo("restored");
        assertThat(events.get(0).get("reason").asText()).isEqualTo("ttl_expired");
        assertThat(events.get(1).get("type").asText()).isEqualTo("drained");
        assertThat(events.get(1).get("reason").asText()).isEqualTo("operator");
        assertThat(events.get(1).get("upstream").asText()).isEqualTo(a.address());
    }

    @Test
    void aTtlWithoutAUnitIsRefusedWithAHint() throws Exception {
        HttpResponse<String> r = call("POST", upstreamPath(a) + "/drain?ttl=10", null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r).get("message").asText()).isEqualTo("ttl \"10\" has no unit (write 10s or 10m)");
        assertThat(json(call("GET", upstreamPath(a), null)).get("admin").asText()).isEqualTo("active");
    }

    @Test
    void healthOverrideBeatsTheChecksAndRejectsBadBodies() throws Exception {
        HttpResponse<String> r = call("PUT", upstreamPath(a) + "/health", "{\"override\":\"unhealthy\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(json(r).get("override").asText()).isEqualTo("unhealthy");
        assertThat(json(r).get("reasons").toString()).contains("override_unhealthy");
        int before = a.requests();
        for (int i = 0; i < 6; i++) {
            proxy.get("/h/" + i);
        }
        assertThat(a.requests()).isEqualTo(before);
        assertThat(json(call("PUT", upstreamPath(a) + "/health", "{\"override\":\"none\"}")).get("override")
                .asText()).isEqualTo("none");

        HttpResponse<String> notJson = call("PUT", upstreamPath(a) + "/health", "{oops");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(json(notJson).get("error").asText()).isEqualTo("bad_request");
        assertThat(call("PUT", upstreamPath(a) + "/health", "{\"override\":\"maybe\"}").statusCode())
                .isEqualTo(400);
        assertThat(call("PUT", upstreamPath(a) + "/health", "{\"override\":\"healthy\",\"ttl\":\"soon\"}")
                .statusCode()).isEqualTo(400);
    }

    @Test
    void weightIsSetAndValidated() throws Exception {
        HttpResponse<String> r = call("PUT", upstreamPath(a) + "/weight", "{\"weight\":5}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(json(r).get("weight").asInt()).isEqualTo(5);
        assertThat(call("PUT", upstreamPath(a) + "/weight", "{\"weight\":-1}").statusCode()).isEqualTo(400);
        assertThat(call("PUT", upstreamPath(a) + "/weight", "{\"weight\":\"x\"}").statusCode()).isEqualTo(400);
        assertThat(call("PUT", upstreamPath(a) + "/weight", "[]").statusCode()).isEqualTo(400);
    }

    @Test
    void effectiveConfigHidesTheToken() throws Exception {
        HttpResponse<String> r = call("GET", "/api/v1/config", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).doesNotContain(TOKEN).contains("<redacted>");
        assertThat(json(r).get("bulwark").get("clusters").has("app")).isTrue();
    }

    @Test
    void effectiveConfigNamesTheReloadPathsThatWork() throws Exception {
        // Started in-process: no SIGHUP handler (the command line installs it), watch-config off.
        assertThat(json(call("GET", "/api/v1/config", null)).get("reload_paths").toString())
                .isEqualTo("[\"admin_api\"]");
        try (ProxyHarness watching = ProxyHarness.start("""
                watch-config = true
                clusters { app { endpoints = [ "%s" ] } }
                routes = [ { name = main, match { path-prefix = "/" }, cluster = app } ]
                """.formatted(a.address()))) {
            assertThat(JSON.readTree(watching.admin("/api/v1/config").body()).get("reload_paths").toString())
                    .isEqualTo("[\"admin_api\",\"watch_config\"]");
            watching.bulwark().sighupReloads(true);
            assertThat(JSON.readTree(watching.admin("/api/v1/config").body()).get("reload_paths").toString())
                    .isEqualTo("[\"admin_api\",\"sighup\",\"watch_config\"]");
        }
    }

    @Test
    void routesListTheirEffectiveSettings() throws Exception {
        JsonNode route = json(call("GET", "/api/v1/routes", null)).get("routes").get(0);
        assertThat(route.get("name").asText()).isEqualTo("main");
        assertThat(route.get("match").get("path_prefix").asText()).isEqualTo("/");
        assertThat(route.get("clusters").get(0).get("name").asText()).isEqualTo("app");
        assertThat(route.get("retry").get("max_retries").asInt()).isEqualTo(2);
    }

    @Test
    void routesShowEverySettingInForceWithTheirDefaults() throws Exception {
        try (ProxyHarness configured = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s" ] } }
                routes = [ {
                  name = tuned, match { path-prefix = "/" }, cluster = app
                  request-headers { add { x-from = bulwark }, remove = [ x-debug ] }
                  retry {
                    retry-on = [ reset, retriable-status ], retriable-status = [ 429, 503 ]
                    backoff { base = 10ms, max = 80ms }, min-retry-concurrency = 7
                  }
                  fault { abort { percent = 5, status = 502 } }
                } ]
                """.formatted(a.address()))) {
            JsonNode route = JSON.readTree(configured.admin("/api/v1/routes").body()).get("routes").get(0);
            assertThat(route.get("request_headers").toString())
                    .isEqualTo("{\"add\":{\"x-from\":\"bulwark\"},\"remove\":[\"x-debug\"]}");
            JsonNode retry = route.get("retry");
            assertThat(retry.get("retriable_status").toString()).isEqualTo("[429,503]");
            assertThat(retry.get("backoff").toString()).isEqualTo("{\"base_ms\":10,\"max_ms\":80}");
            assertThat(retry.get("min_retry_concurrency").asInt()).isEqualTo(7);
            assertThat(route.get("fault").get("active").asBoolean()).isTrue();
            assertThat(route.get("fault").get("abort").toString()).isEqualTo("{\"percent\":5.0,\"status\":502}");

            // The operator's run-time switch is what is in force, so that is what the route shows.
            configured.admin("PUT", "/api/v1/routes/tuned/fault", "{}");
            JsonNode after = JSON.readTree(configured.admin("/api/v1/routes").body()).get("routes").get(0);
            assertThat(after.get("fault").get("active").asBoolean()).isFalse();
        }
        JsonNode defaults = json(call("GET", "/api/v1/routes", null)).get("routes").get(0);
        assertThat(defaults.get("retry").get("retriable_status").toString()).isEqualTo("[503]");
        assertThat(defaults.get("retry").get("backoff").toString()).isEqualTo("{\"base_ms\":25,\"max_ms\":250}");
        assertThat(defaults.get("retry").get("min_retry_concurrency").asInt()).isEqualTo(3);
        assertThat(defaults.get("request_headers").toString()).isEqualTo("{\"add\":{},\"remove\":[]}");
        assertThat(defaults.get("fault").get("active").asBoolean()).isFalse();
    }

    @Test
    void eventsRejectABadLimit() throws Exception {
        assertThat(call("GET", "/api/v1/events?limit=x", null).statusCode()).isEqualTo(400);
        assertThat(call("GET", "/api/v1/events?limit=0", null).statusCode()).isEqualTo(400);
        assertThat(call("GET", "/api/v1/events", null).statusCode()).isEqualTo(200);
    }

    @Test
    void recoveryListsEveryUpstream() throws Exception {
        JsonNode ups = json(call("GET", "/api/v1/recovery", null)).get("upstreams");
        assertThat(ups).hasSize(2);
        assertThat(ups.get(0).has("time_to_detect_ms")).isTrue();
        assertThat(ups.get(0).has("time_to_recover_ms")).isTrue();
        assertThat(ups.get(0).has("episodes")).isTrue();
    }

    @Test
    void wrongMethodIs405() throws Exception {
        assertThat(call("GET", upstreamPath(a) + "/drain", null).statusCode()).isEqualTo(405);
        assertThat(call("DELETE", "/api/v1/clusters", null).statusCode()).isEqualTo(405);
    }

    @Test
    void readOnlyEndpointsAnswer405ToOtherMethods() throws Exception {
        for (String path : new String[] {"/metrics", "/live", "/ready"}) {
            for (String method : new String[] {"POST", "PUT", "DELETE"}) {
                HttpResponse<String> r = proxy.admin(method, path, "x");
                assertThat(r.statusCode()).as(method + " " + path).isEqualTo(405);
                assertThat(json(r).get("error").asText()).isEqualTo("method_not_allowed");
                assertThat(r.headers().firstValue("allow")).hasValue("GET, HEAD");
            }
            assertThat(proxy.admin("GET", path, null).statusCode()).as("GET " + path).isEqualTo(200);
            assertThat(proxy.admin("HEAD", path, null).statusCode()).as("HEAD " + path).isEqualTo(200);
        }
    }
}
