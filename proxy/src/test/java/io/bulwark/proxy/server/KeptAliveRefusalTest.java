package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
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

/**
 * Shedding must be cheaper than serving: a refused keep-alive client keeps its connection (a
 * reconnect per refusal would cost far more than the refusal), and the same connection is
 * served again once the refusal's reason is gone.
 */
class KeptAliveRefusalTest {

    private TestUpstream upstream;
    private ProxyHarness proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private void start(TestUpstream.Behaviour behaviour, String cluster, String route, String listener)
            throws Exception {
        upstream = TestUpstream.start("u", behaviour);
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s" ] %s } }
                routes = [ { name = main, match { path-prefix = "/" }, cluster = app %s } ]
                """.formatted(upstream.address(), cluster, route), listener);
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
    }

    @Test
    void rateLimitedRequestsKeepTheConnectionAndItIsServedAgainAfterTheWindow() throws Exception {
        start(TestUpstream.echo("u"), "", ", rate-limit { requests-per-second = 2, burst = 1 }", "");
        try (RawHttp raw = new RawHttp(proxy.port())) {
            assertThat(raw.send(get("/a")).read().status()).isEqualTo(200);
            for (int i = 0; i < 5; i++) {
                RawHttp.Response refused = raw.send(get("/r" + i)).read();
                assertThat(refused.status()).isEqualTo(429);
                assertThat(refused.header("connection")).as("no Connection: close").isNull();
                assertThat(refused.header("x-request-id")).isNotBlank();
            }
            Thread.sleep(600); // the bucket refills at 2/s (real time: the harness runs on the system clock)
            assertThat(raw.send(get("/b")).read().status()).isEqualTo(200);
            assertThat(raw.closedByPeer(100)).isFalse();
        }
        assertThat(upstream.connectionsAccepted()).isEqualTo(1);
    }

    @Test
    void aRefusedRequestsSmallBodyIsDroppedAndTheConnectionServesTheNextRequest() throws Exception {
        start(TestUpstream.echo("u"), "", ", rate-limit { requests-per-second = 1, burst = 1 }", "");
        try (RawHttp raw = new RawHttp(proxy.port())) {
            assertThat(raw.send(get("/a")).read().status()).isEqualTo(200);
            String body = "x".repeat(10_000);
            RawHttp.Response refused = raw.send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                    + "\r\n\r\n" + body).read();
            assertThat(refused.status()).isEqualTo(429);
            assertThat(refused.header("connection")).isNull();
            Thread.sleep(1_100);
            assertThat(raw.send(get("/after")).read().status()).isEqualTo(200);
        }
        assertThat(upstream.received()).extracting(r -> r.uri()).containsExactly("/a", "/after");
    }

    @Test
    void aRefusedRequestsLargeBodyIsNotReadTheConnectionCloses() throws Exception {
        start(TestUpstream.echo("u"), "", ", rate-limit { requests-per-second = 1, burst = 1 }", "");
        try (RawHttp raw = new RawHttp(proxy.port())) {
            assertThat(raw.send(get("/a")).read().status()).isEqualTo(200);
            RawHttp.Response refused = raw.send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n").read();
            assertThat(refused.status()).isEqualTo(429);
            assertThat(refused.header("connection")).isEqualToIgnoringCase("close");
            assertThat(raw.closedByPeer(2_000)).isTrue();
        }
    }

    @Test
    void aChunkedBodyIsDroppedOnlyUpToTheBound() throws Exception {
        start(TestUpstream.echo("u"), "", ", rate-limit { requests-per-second = 1, burst = 1 }", "");
        try (RawHttp raw = new RawHttp(proxy.port())) {
            assertThat(raw.send(get("/a")).read().status()).isEqualTo(200);
            raw.send("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(429);
            String chunk = Integer.toHexString(16 * 1024) + "\r\n" + "y".repeat(16 * 1024) + "\r\n";
            for (int i = 0; i < 5 && !raw.socket().isClosed(); i++) {
                try {
                    raw.send(chunk); // 80 KiB in all: past the 64 KiB the proxy drops before it gives up
                } catch (java.io.IOException closed) {
                    break;
                }
            }
            assertThat(raw.closedByPeer(2_000)).isTrue();
        }
    }

    @Test
    void closeOnRefusalClosesRefusedConnectionsWhenTheOperatorAsksForIt() throws Exception {
        start(TestUpstream.echo("u"), "", ", rate-limit { requests-per-second = 1, burst = 1 }",
                "close-on-refusal = true");
        try (RawHttp raw = new RawHttp(proxy.port())) {
            assertThat(raw.send(get("/a")).read().status()).isEqualTo(200);
            RawHttp.Response refused = raw.send(get("/b")).read();
            assertThat(refused.status()).isEqualTo(429);
            assertThat(refused.header("connection")).isEqualToIgnoringCase("close");
            assertThat(raw.closedByPeer(2_000)).isTrue();
        }
    }

    @Test
    void circuitOpenRefusalsKeepTheConnectionAndItIsServedAfterHalfOpen() throws Exception {
        start((req, n) -> Reply.status(500), """
                , circuit-breaker { minimum-calls = 2, sliding-window-type = count, sliding-window-size = 2,
                                    wait-in-open = 500ms, half-open-calls = 1 }
                """, "", "");
        try (RawHttp raw = new RawHttp(proxy.port())) {
            assertThat(raw.send(get("/f1")).read().status()).isEqualTo(500);
            assertThat(raw.send(get("/f2")).read().status()).isEqualTo(500);
            for (int i = 0; i < 3; i++) {
                RawHttp.Response open = raw.send(get("/o" + i)).read();
                assertThat(open.status()).isEqualTo(503);
                assertThat(open.header("x-bulwark-error")).isEqualTo("circuit_open");
                assertThat(open.header("connection")).isNull();
            }
            upstream.behaviour(TestUpstream.echo("u"));
            Thread.sleep(600); // wait-in-open
            assertThat(raw.send(get("/trial")).read().status()).isEqualTo(200);
        }
    }

    @Test
    void overloadedRefusalsKeepTheConnectionAndItIsServedOnceASlotFrees() throws Exception {
        start((req, n) -> req.uri().startsWith("/slow") ? Reply.ok("slow").delayed(1_000) : Reply.ok("fast"),
                ", limits { max-concurrent-requests = 1 }", "", "");
        CompletableFuture<HttpResponse<String>> holder = proxy.client().sendAsync(
                HttpRequest.newBuilder(proxy.uri("/slow")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> upstream.requests() == 1);
        try (RawHttp raw = new RawHttp(proxy.port())) {
            for (int i = 0; i < 3; i++) {
                RawHttp.Response refused = raw.send(get("/x" + i)).read();
                assertThat(refused.status()).isEqualTo(503);
                assertThat(refused.header("x-bulwark-error")).isEqualTo("overloaded");
                assertThat(refused.header("connection")).isNull();
            }
            assertThat(holder.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(raw.send(get("/fast")).read().status()).isEqualTo(200);
        }
    }
}
