package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Rate limiting, the circuit breaker, bulkhead limits and the retry budget, through the real proxy. */
class ResilienceLayersTest {

    TestUpstream upstream;
    ProxyHarness proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private void start(TestUpstream.Behaviour behaviour, String cluster, String route) throws Exception {
        upstream = TestUpstream.start("u", behaviour);
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s" ] %s } }
                routes = [ { name = main, match { path-prefix = "/" }, cluster = app %s } ]
                """.formatted(upstream.address(), cluster, route));
    }

    private CompletableFuture<HttpResponse<String>> async(String path) {
        return proxy.client().sendAsync(HttpRequest.newBuilder(proxy.uri(path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void overTheRateLimitIs429WithRetryAfterAndRateLimitHeaders() throws Exception {
        start(TestUpstream.echo("u"), "", ", rate-limit { requests-per-second = 1, burst = 2, key = \"header:x-user\" }");
        assertThat(proxy.get("/a", "x-user", "alice").statusCode()).isEqualTo(200);
        HttpResponse<String> second = proxy.get("/a", "x-user", "alice");
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.headers().firstValue("ratelimit-policy")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("\"main\";q=2"));
        int before = upstream.requests();
        HttpResponse<String> limited = proxy.get("/a", "x-user", "alice");
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("x-bulwark-error")).hasValue("rate_limited");
        assertThat(Integer.parseInt(limited.headers().firstValue("retry-after").orElseThrow())).isGreaterThanOrEqualTo(1);
        assertThat(limited.headers().firstValue("ratelimit")).isPresent();
        assertThat(upstream.requests()).isEqualTo(before);
        // Another key has its own bucket.
        assertThat(proxy.get("/a", "x-user", "bob").statusCode()).isEqualTo(200);
        assertThat(proxy.admin("/metrics").body()).contains("bulwark_rate_limited_total{route=\"main\"} 1.0");
    }

    @Test
    void theCircuitOpensRejectsAtOnceAndClosesAgainAfterAHalfOpenTrial() throws Exception {
        start((req, n) -> Reply.status(500), """
                , circuit-breaker { minimum-calls = 4, sliding-window-size = 4, failure-rate-threshold = 50,
                                    wait-in-open = 500ms, half-open-calls = 1 }
                """, "");
        for (int i = 0; i < 4; i++) {
            assertThat(proxy.get("/f/" + i).statusCode()).isEqualTo(500);
        }
        int before = upstream.requests();
        HttpResponse<String> open = proxy.get("/f/open");
        assertThat(open.statusCode()).isEqualTo(503);
        assertThat(open.headers().firstValue("x-bulwark-error")).hasValue("circuit_open");
        assertThat(upstream.requests()).as("no upstream traffic while open").isEqualTo(before);
        assertThat(proxy.admin("/api/v1/clusters/app").body()).contains("\"state\":\"open\"");
        assertThat(proxy.admin("/metrics").body())
                .contains("bulwark_circuit_breaker_state{cluster=\"app\",state=\"open\"} 1.0");

        upstream.behaviour(TestUpstream.echo("u"));
        Thread.sleep(600); // wait-in-open
        assertThat(proxy.get("/f/trial").statusCode()).isEqualTo(200); // the half-open trial call
        assertThat(proxy.admin("/api/v1/clusters/app").body()).contains("\"state\":\"closed\"");
        assertThat(proxy.get("/f/after").statusCode()).isEqualTo(200);
        String events = proxy.admin("/api/v1/events?limit=10").body();
        assertThat(events).contains("\"type\":\"circuit_breaker\"").contains("\"to\":\"open\"")
                .contains("\"to\":\"half_open\"").contains("\"to\":\"closed\"");
    }

    @Test
    void overMaxConcurrentRequestsIs503OverloadedAtOnce() throws Exception {
        start((req, n) -> Reply.ok("slow").delayed(1_000), ", limits { max-concurrent-requests = 1 }", "");
        CompletableFuture<HttpResponse<String>> first = async("/1");
        await().atMost(Duration.ofSeconds(5)).until(() -> upstream.requests() == 1);
        long start = System.nanoTime();
        HttpResponse<String> second = proxy.get("/2");
        assertThat(second.statusCode()).isEqualTo(503);
        assertThat(second.headers().firstValue("x-bulwark-error")).hasValue("overloaded");
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(500L);
        assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(upstream.requests()).isEqualTo(1);
    }

    @Test
    void overMaxPendingRequestsIs503Overloaded() throws Exception {
        start((req, n) -> Reply.ok("slow").delayed(1_000),
                ", pool { max-connections-per-upstream = 1 }, limits { max-pending-requests = 1 }", "");
        CompletableFuture<HttpResponse<String>> first = async("/1");
        await().atMost(Duration.ofSeconds(5)).until(() -> upstream.requests() == 1);
        CompletableFuture<HttpResponse<String>> waiting = async("/2");
        await().atMost(Duration.ofSeconds(5)).until(() ->
                proxy.admin("/api/v1/clusters/app").body().contains("\"pending_requests\":1"));
        HttpResponse<String> third = proxy.get("/3");
        assertThat(third.statusCode()).isEqualTo(503);
        assertThat(third.headers().firstValue("x-bulwark-error")).hasValue("overloaded");
        assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(waiting.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void aRefusedRequestExpectingContinueGetsItsFinalStatusBeforeSendingItsBody() throws Exception {
        start(TestUpstream.echo("u"), "", ", rate-limit { requests-per-second = 1, burst = 1 }");
        try (io.bulwark.proxy.testing.RawHttp raw = new io.bulwark.proxy.testing.RawHttp(proxy.port())) {
            raw.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(100);
            raw.send("hello");
            assertThat(raw.read().status()).isEqualTo(200);
            raw.send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            io.bulwark.proxy.testing.RawHttp.Response refused = raw.read();
            assertThat(refused.status()).isEqualTo(429); // no 100 first: the body is never invited
            assertThat(raw.closedByPeer(2_000)).isTrue();
        }
        assertThat(upstream.requests()).isEqualTo(1);
        assertThat(upstream.lastHeaders().contains("expect")).isFalse();
    }

    @Test
    void anEmptyRetryBudgetRefusesRetriesAndCountsThem() throws Exception {
        start((req, n) -> Reply.status(503), ", circuit-breaker { enabled = false }",
                ", retry { retry-on = [ gateway-error ], budget-percent = 0, min-retry-concurrency = 0 }");
        HttpResponse<String> r = proxy.get("/x");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("x-bulwark-error")).isEmpty();
        assertThat(upstream.requests()).isEqualTo(1);
        assertThat(proxy.admin("/metrics").body())
                .contains("bulwark_retry_budget_exhausted_total{route=\"main\"} 1.0");
    }
}
