package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class GracefulShutdownTest {

    TestUpstream upstream;
    ProxyHarness proxy;

    @AfterEach
    void stop() {
        proxy.close();
        upstream.close();
    }

    @Test
    void shutdownLetsAnInFlightRequestFinish() throws Exception {
        upstream = TestUpstream.start("slow", (req, n) -> Reply.ok("finished").delayed(1_500));
        proxy = ProxyHarness.start("""
                clusters { slow { endpoints = [ "%s" ] } }
                routes = [ { match { path-prefix = "/" }, cluster = slow } ]
                """.formatted(upstream.address()));
        int port = proxy.port();
        CompletableFuture<HttpResponse<String>> inFlight = proxy.client().sendAsync(
                java.net.http.HttpRequest.newBuilder(proxy.uri("/work")).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> upstream.requests() == 1);

        // An idle keep-alive client connection is closed at once by the drain.
        RawHttp idle = new RawHttp(port);
        idle.send("GET /quick HTTP/1.1\r\nHost: x\r\n\r\n");
        CompletableFuture<Boolean> stopped = CompletableFuture.supplyAsync(() -> proxy.bulwark().shutdown());
        await().atMost(Duration.ofSeconds(2)).until(() -> !proxy.bulwark().ready());

        HttpResponse<String> r = inFlight.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("finished");
        assertThat(r.headers().firstValue("connection")).hasValue("close");
        assertThat(stopped.get(10, TimeUnit.SECONDS)).isTrue();
        idle.close();
        assertThatThrownBy(() -> new java.net.Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
    }

    @Test
    void readinessTurns503WhileDraining() throws Exception {
        upstream = TestUpstream.start("slow", (req, n) -> Reply.ok("finished").delayed(1_500));
        proxy = ProxyHarness.start("""
                clusters { slow { endpoints = [ "%s" ] } }
                routes = [ { match { path-prefix = "/" }, cluster = slow } ]
                """.formatted(upstream.address()));
        assertThat(proxy.admin("/ready").statusCode()).isEqualTo(200);
        CompletableFuture<HttpResponse<String>> inFlight = proxy.client().sendAsync(
                java.net.http.HttpRequest.newBuilder(proxy.uri("/work")).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> upstream.requests() == 1);
        CompletableFuture.runAsync(() -> proxy.bulwark().shutdown());
        await().atMost(Duration.ofSeconds(1)).until(() -> proxy.admin("/ready").statusCode() == 503);
        assertThat(proxy.admin("/live").statusCode()).isEqualTo(200);
        assertThat(inFlight.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
}
