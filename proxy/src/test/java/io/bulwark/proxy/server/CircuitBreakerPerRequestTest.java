package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster circuit breaker judges requests, not tries: a partial failure that retries hide
 * must never open it (and so never turn into a total outage), while requests that fail after
 * their retries do.
 */
class CircuitBreakerPerRequestTest {

    private final List<TestUpstream> upstreams = new ArrayList<>();
    private ProxyHarness proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        upstreams.forEach(TestUpstream::close);
    }

    private void start(String cluster, String route, TestUpstream.Behaviour... behaviours) throws Exception {
        StringBuilder endpoints = new StringBuilder();
        for (int i = 0; i < behaviours.length; i++) {
            TestUpstream u = TestUpstream.start("u" + i, behaviours[i]);
            upstreams.add(u);
            endpoints.append(i == 0 ? "" : ", ").append('"').append(u.address()).append('"');
        }
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ %s ] %s } }
                routes = [ { name = main, match { path-prefix = "/" }, cluster = app %s } ]
                """.formatted(endpoints, cluster, route));
    }

    @Test
    void oneHostFailingEveryTryWhileRetriesSucceedNeverOpensTheBreaker() throws Exception {
        // A count window of 4 tries would open after two requests that hit the sick host; outlier
        // detection is kept from ejecting it so that it keeps failing tries all along.
        start("""
                , outlier-detection { consecutive-5xx = 1000000, consecutive-gateway-failure = 1000000 }
                , circuit-breaker { sliding-window-type = count, sliding-window-size = 4, minimum-calls = 4,
                                    failure-rate-threshold = 50, wait-in-open = 60s }
                """, ", retry { max-retries = 2, retry-on = [ gateway-error ] }",
                (req, n) -> Reply.status(503), TestUpstream.echo("a"), TestUpstream.echo("b"));

        for (int i = 0; i < 60; i++) {
            HttpResponse<String> r = proxy.get("/r/" + i);
            assertThat(r.statusCode()).as("request %d", i).isEqualTo(200);
        }

        assertThat(upstreams.get(0).requests()).as("the sick host kept failing tries").isGreaterThanOrEqualTo(15);
        String cluster = proxy.admin("/api/v1/clusters/app").body();
        assertThat(cluster).contains("\"state\":\"closed\"");
        assertThat(proxy.admin("/api/v1/events?limit=100").body()).doesNotContain("\"type\":\"circuit_breaker\"");
        assertThat(proxy.admin("/metrics").body()).doesNotContain("bulwark_local_replies_total{code=\"circuit_open\"}");
    }

    @Test
    void requestsFailingAfterTheirRetriesOpenTheBreakerCountedOncePerRequest() throws Exception {
        start(", circuit-breaker { sliding-window-type = count, sliding-window-size = 4, minimum-calls = 4, "
                        + "failure-rate-threshold = 50, wait-in-open = 500ms, half-open-calls = 1 }"
                        + ", outlier-detection { consecutive-5xx = 1000000, consecutive-gateway-failure = 1000000 }",
                ", retry { max-retries = 2, retry-on = [ gateway-error ], backoff { base = 1ms, max = 2ms } }",
                (req, n) -> Reply.status(503), (req, n) -> Reply.status(503));

        // Three requests are nine failed tries: a per-try breaker would be open by now.
        for (int i = 0; i < 3; i++) {
            assertThat(proxy.get("/f/" + i).statusCode()).isEqualTo(503);
        }
        int triesAfterThree = upstreams.get(0).requests() + upstreams.get(1).requests();
        assertThat(triesAfterThree).isEqualTo(9);
        assertThat(proxy.admin("/api/v1/clusters/app").body()).contains("\"state\":\"closed\"");

        assertThat(proxy.get("/f/3").statusCode()).isEqualTo(503); // the fourth failed request decides it
        HttpResponse<String> refused = proxy.get("/f/open");
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.headers().firstValue("x-bulwark-error")).hasValue("circuit_open");
        assertThat(upstreams.get(0).requests() + upstreams.get(1).requests()).isEqualTo(12);
        String events = proxy.admin("/api/v1/events?limit=20").body();
        assertThat(events).contains("\"to\":\"open\"").contains("\"calls\":4").contains("\"failed_calls\":4");

        upstreams.forEach(u -> u.behaviour(TestUpstream.echo(u.name())));
        Thread.sleep(600); // wait-in-open (real time: the harness runs on the system clock)
        assertThat(proxy.get("/f/trial").statusCode()).isEqualTo(200); // the half-open trial request
        assertThat(proxy.admin("/api/v1/clusters/app").body()).contains("\"state\":\"closed\"");
        assertThat(proxy.get("/f/after").statusCode()).isEqualTo(200);
    }

    @Test
    void refusalsThatAreNotTheUpstreamsFaultAreNotRecorded() throws Exception {
        // Every upstream drained: no_healthy_upstream is a consequence, not a verdict on the upstreams.
        start(", panic-threshold = 0, circuit-breaker { sliding-window-type = count, sliding-window-size = 2, "
                        + "minimum-calls = 2, failure-rate-threshold = 50, half-open-calls = 1 }", "",
                TestUpstream.echo("a"));
        assertThat(proxy.admin("POST", "/api/v1/clusters/app/upstreams/" + upstreams.get(0).address() + "/drain?force=true", "")
                .statusCode()).isEqualTo(202);
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = proxy.get("/n/" + i);
            assertThat(r.headers().firstValue("x-bulwark-error")).hasValue("no_healthy_upstream");
        }
        assertThat(proxy.admin("/api/v1/clusters/app").body()).contains("\"state\":\"closed\"");
    }

    @Test
    void theBreakerOpeningWhileUpstreamsAreEligibleIsAnEvent() throws Exception {
        start(", circuit-breaker { sliding-window-type = count, sliding-window-size = 4, minimum-calls = 4, "
                        + "failure-rate-threshold = 50, wait-in-open = 60s }"
                        + ", outlier-detection { consecutive-5xx = 1000000, consecutive-gateway-failure = 1000000 }",
                "", (req, n) -> Reply.status(500));
        for (int i = 0; i < 4; i++) {
            assertThat(proxy.get("/e/" + i).statusCode()).isEqualTo(500);
        }
        String events = proxy.admin("/api/v1/events?limit=20").body();
        assertThat(events).contains("\"type\":\"circuit_open_with_eligible_upstreams\"")
                .contains("\"eligible_upstreams\":1").contains("\"failed_calls\":4");
    }
}
