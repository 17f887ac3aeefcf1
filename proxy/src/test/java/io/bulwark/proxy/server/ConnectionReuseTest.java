package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Upstream keep-alive: pooled connections are reused, capped, and never used after the upstream closed them. */
class ConnectionReuseTest {

    TestUpstream upstream;
    ProxyHarness proxy;

    @BeforeEach
    void start() throws Exception {
        upstream = TestUpstream.start("a", TestUpstream.echo("a"));
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s" ], pool { max-connections-per-upstream = 4, idle-timeout = 1s } } }
                routes = [ { match { path-prefix = "/" }, cluster = app } ]
                """.formatted(upstream.address()));
    }

    @AfterEach
    void stop() {
        proxy.close();
        upstream.close();
    }

    @Test
    void thousandSequentialRequestsUseOnePooledConnection() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            for (int i = 0; i < 1000; i++) {
                raw.send("GET /n/" + i + " HTTP/1.1\r\nHost: x\r\n\r\n");
                RawHttp.Response r = raw.read();
                assertThat(r.status()).isEqualTo(200);
            }
        }
        assertThat(upstream.requests()).isEqualTo(1000);
        assertThat(upstream.connectionsAccepted()).isEqualTo(1);
    }

    @Test
    void concurrentRequestsStayWithinThePoolCap() throws Exception {
        upstream.behaviour((req, n) -> TestUpstream.Reply.ok("x").delayed(50));
        var futures = new java.util.ArrayList<java.util.concurrent.CompletableFuture<HttpResponse<String>>>();
        for (int i = 0; i < 40; i++) {
            futures.add(proxy.client().sendAsync(java.net.http.HttpRequest.newBuilder(proxy.uri("/c/" + i))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (var f : futures) {
            assertThat(f.get().statusCode()).isEqualTo(200);
        }
        assertThat(upstream.maxOpenConnections()).isLessThanOrEqualTo(4);
    }

    @Test
    void aConnectionTheUpstreamClosedIsNeverReused() throws Exception {
        assertThat(proxy.get("/first").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> upstream.openConnections() == 1);
        upstream.closeAllConnections(); // as an upstream's own keep-alive timeout would
        await().atMost(Duration.ofSeconds(5)).until(() -> upstream.openConnections() == 0);
        // Give the proxy a moment to see the FIN on its idle pooled connection.
        Thread.sleep(100);
        for (int i = 0; i < 20; i++) {
            assertThat(proxy.get("/after/" + i).statusCode()).isEqualTo(200);
        }
        assertThat(upstream.connectionsAccepted()).isEqualTo(2);
    }

    @Test
    void idlePooledConnectionsAreClosedAfterTheIdleTimeout() throws Exception {
        assertThat(proxy.get("/x").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(1)).until(() -> upstream.openConnections() == 1);
        await().atLeast(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                .until(() -> upstream.openConnections() == 0);
    }

    @Test
    void clientKeepAliveServesPipelinedRequestsInOrder() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET /p/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p/2 HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /p/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertThat(raw.read().body()).contains("/p/1");
            assertThat(raw.read().body()).contains("/p/2");
            RawHttp.Response third = raw.read();
            assertThat(third.body()).contains("/p/3");
            assertThat(third.header("connection")).isEqualTo("close");
            assertThat(raw.closedByPeer(2000)).isTrue();
        }
    }
}
