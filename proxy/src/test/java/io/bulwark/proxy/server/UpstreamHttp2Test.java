package io.bulwark.proxy.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bulwark.proxy.testing.H2Client;
import io.bulwark.proxy.testing.H2Upstream;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Clusters with {@code protocol = http2} (h2c with prior knowledge here; h2 over TLS in
 * {@code UpstreamHttp2TlsTest}): HTTP/1.1 and HTTP/2 clients through Bulwark to real HTTP/2
 * upstreams — the translation both ways (RFC 9113 §8), trailers, streams multiplexed under a cap,
 * GOAWAY'd streams retried as never sent, and a connection failure counted once.
 */
class UpstreamHttp2Test {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closing(T c) {
        closeables.add(c);
        return c;
    }

    private H2Upstream upstream(String name) throws Exception {
        return closing(H2Upstream.h2c(name));
    }

    private ProxyHarness proxy(String clusterExtras, String routeExtras, H2Upstream... upstreams) throws Exception {
        StringBuilder endpoints = new StringBuilder();
        for (H2Upstream u : upstreams) {
            endpoints.append(endpoints.length() == 0 ? "" : ", ").append('"').append(u.address()).append('"');
        }
        return closing(ProxyHarness.start("""
                clusters { app { endpoints = [ %s ], protocol = http2, %s } }
                routes = [ { match { path-prefix = "/" }, cluster = app, %s } ]
                """.formatted(endpoints, clusterExtras, routeExtras)));
    }

    @Test
    void anHttp1RequestBecomesAnHttp2StreamWithoutConnectionSpecificFields() throws Exception {
        H2Upstream upstream = upstream("a");
        ProxyHarness proxy = proxy("", "", upstream);
        try (RawHttp client = new RawHttp(proxy.port())) {
            RawHttp.Response r = client.send("POST /items?x=1 HTTP/1.1\r\nHost: api.test\r\n"
                    + "Connection: keep-alive, x-hop\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\nTE: trailers\r\n"
                    + "X-Custom: V\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").read();

            assertThat(r.status()).isEqualTo(200);
            // no content-length from the upstream: chunked to the HTTP/1.1 client, and no HTTP/2 leftovers
            assertThat(r.header("transfer-encoding")).isEqualTo("chunked");
            assertThat(r.header("x-http2-stream-id")).isNull();
            JsonNode echo = JSON.readTree(r.body());
            assertThat(echo.get("method").asText()).isEqualTo("POST");
            assertThat(echo.get("path").asText()).isEqualTo("/items?x=1");
            assertThat(echo.get("authority").asText()).isEqualTo("api.test");
            assertThat(echo.get("scheme").asText()).isEqualTo("http");
            assertThat(echo.get("body_bytes").asInt()).isEqualTo(5);

            Http2Headers sent = upstream.received().get(0);
            assertThat(sent.get("te")).hasToString("trailers");
            assertThat(sent.get("x-custom")).hasToString("V");
            assertThat(sent.get("x-bulwark-attempt")).hasToString("1");
            assertThat(sent.names()).extracting(CharSequence::toString)
                    .doesNotContain("connection", "keep-alive", "x-hop", "transfer-encoding", "host", "upgrade",
                            "x-http2-scheme")
                    .allMatch(n -> n.equals(n.toLowerCase(java.util.Locale.ROOT)));

            // the connection is kept alive for the next request
            RawHttp.Response again = client.send("GET /two HTTP/1.1\r\nHost: api.test\r\n\r\n").read();
            assertThat(again.status()).isEqualTo(200);
            assertThat(JSON.readTree(again.body()).get("path").asText()).isEqualTo("/two");
        }
    }

    @Test
    void trailersReachAnHttp11ClientAsChunkedTrailers() throws Exception {
        ProxyHarness proxy = proxy("", "", upstream("a"));
        try (RawHttp client = new RawHttp(proxy.port())) {
            RawHttp.Response r = client.send("GET /trailers HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("body");
            assertThat(r.trailers()).containsIgnoringCase("x-trailer: done");
        }
    }

    @Test
    void anHttp2ClientGetsTrailersAndTrailersOnlyResponsesAsSent() throws Exception {
        ProxyHarness proxy = proxy("", "", upstream("a"));
        try (H2Client client = H2Client.h2c(proxy.port())) {
            H2Client.Response trailers = client.get("/trailers");
            assertThat(trailers.status()).isEqualTo(200);
            assertThat(trailers.body()).isEqualTo("body");
            assertThat(trailers.trailers().get("x-trailer")).hasToString("done");

            H2Client.Response only = client.get("/trailers-only");
            assertThat(only.status()).isEqualTo(200);
            assertThat(only.header("x-only")).isEqualTo("yes");
            assertThat(only.body()).isEmpty();
            assertThat(only.resetCode()).isEqualTo(-1);
            assertThat(client.get("/after").status()).isEqualTo(200); // the connection is fine
        }
    }

    @Test
    void requestsAreMultiplexedOverOneConnection() throws Exception {
        H2Upstream upstream = upstream("a");
        ProxyHarness proxy = proxy("", "", upstream);
        try (H2Client client = H2Client.h2c(proxy.port())) { // one client connection: one event loop's pool
            List<CompletableFuture<H2Client.Response>> all = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                all.add(client.send("GET", "/slow/" + i, Map.of(), null));
            }
            for (int i = 0; i < 20; i++) {
                H2Client.Response r = all.get(i).get(20, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).contains("\"path\":\"/slow/" + i + "\"");
            }
        }
        assertThat(upstream.connectionsAccepted()).isEqualTo(1);
        assertThat(upstream.maxOpenPerConnection()).isGreaterThan(1);
    }

    @Test
    void theStreamCapOpensAnotherConnection() throws Exception {
        H2Upstream upstream = upstream("a");
        ProxyHarness proxy = proxy("http2 { max-concurrent-streams = 2 }", "", upstream);
        try (H2Client client = H2Client.h2c(proxy.port())) {
            List<CompletableFuture<H2Client.Response>> all = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                all.add(client.send("GET", "/slow/" + i, Map.of(), null));
            }
            for (CompletableFuture<H2Client.Response> f : all) {
                assertThat(f.get(20, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
        }
        assertThat(upstream.maxOpenPerConnection()).isLessThanOrEqualTo(2);
        assertThat(upstream.connectionsAccepted()).isBetween(3, 6);
    }

    @Test
    void theUpstreamsOwnStreamLimitIsHonoured() throws Exception {
        H2Upstream upstream = closing(H2Upstream.h2c("a", 1));
        ProxyHarness proxy = proxy("", "", upstream);
        try (H2Client client = H2Client.h2c(proxy.port())) {
            client.get("/warm"); // the upstream's SETTINGS are known from now on
            List<CompletableFuture<H2Client.Response>> all = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                all.add(client.send("GET", "/slow/" + i, Map.of(), null));
            }
            for (CompletableFuture<H2Client.Response> f : all) {
                assertThat(f.get(20, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
        }
        assertThat(upstream.maxOpenPerConnection()).isEqualTo(1);
        assertThat(upstream.connectionsAccepted()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void aContentLengthThatDisagreesWithTheDataIsAProtocolError() throws Exception {
        H2Upstream upstream = upstream("a");
        ProxyHarness proxy = proxy("", "retry { max-retries = 0 }", upstream);
        try (RawHttp client = new RawHttp(proxy.port())) {
            RawHttp.Response r = client.send("GET /bad-length HTTP/1.1\r\nHost: x\r\n\r\n").read();
            // The head (content-length: 10) is relayed as soon as it arrives; the short DATA that ends the
            // stream then breaks the response: the client never gets a complete 10-byte body, and its
            // connection is closed (before anything was flushed to it, or after the head).
            if (r != null) {
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body().length()).isLessThan(10);
            }
            assertThat(client.closedByPeer(10_000)).isTrue();
        }
        // the upstream's detectors hear of the broken response
        await().atMost(Duration.ofSeconds(10)).until(() ->
                upstreamJson(proxy, upstream.address()).get("stats").get("failures").asInt() == 1);
    }

    @Test
    void streamsAboveAGoAwayAreRetriedElsewhereEvenForPost() throws Exception {
        H2Upstream leaving = upstream("leaving");
        leaving.mode(H2Upstream.Mode.GOAWAY);
        H2Upstream staying = upstream("staying");
        ProxyHarness proxy = proxy("outlier-detection { consecutive-gateway-failure = 1 }", "", leaving, staying);
        for (int i = 0; i < 4; i++) {
            var r = proxy.client().send(java.net.http.HttpRequest.newBuilder(proxy.uri("/orders/" + i))
                            .timeout(Duration.ofSeconds(20))
                            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("hello")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("x-upstream")).hasValue("staying");
            assertThat(JSON.readTree(r.body()).get("body_bytes").asInt()).isEqualTo(5);
        }
        assertThat(leaving.received()).isNotEmpty(); // it was tried, and refused the streams unprocessed
        assertThat(leaving.answered()).isZero();
        assertThat(staying.received()).anyMatch(h -> h.get("x-bulwark-attempt").toString().equals("2"));
        // a refused stream is the upstream's word, not its failure: no ejection even at a threshold of 1
        JsonNode up = upstreamJson(proxy, leaving.address());
        assertThat(up.get("stats").get("failures").asInt()).isZero();
        assertThat(up.get("outlier").isNull()).isTrue();
    }

    @Test
    void aConnectionFailureCountsOnceForAllItsStreams() throws Exception {
        H2Upstream upstream = upstream("a");
        upstream.mode(H2Upstream.Mode.HOLD);
        ProxyHarness proxy = proxy("outlier-detection { consecutive-gateway-failure = 100 }",
                "retry { max-retries = 0 }", upstream);
        try (H2Client client = H2Client.h2c(proxy.port())) {
            List<CompletableFuture<H2Client.Response>> all = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                all.add(client.send("GET", "/held/" + i, Map.of(), null));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> upstream.held() == 5);
            upstream.killConnections();
            for (CompletableFuture<H2Client.Response> f : all) {
                H2Client.Response r = f.get(20, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(502);
                assertThat(r.header("x-bulwark-error")).isEqualTo("upstream_reset");
            }
        }
        JsonNode up = upstreamJson(proxy, upstream.address());
        assertThat(up.get("stats").get("failures").asInt()).isEqualTo(1);
    }

    @Test
    void aGrpcCallThatReachedTheUpstreamIsNeverRetried() throws Exception {
        H2Upstream upstream = upstream("a");
        upstream.mode(H2Upstream.Mode.HOLD);
        // even where the route would resend a POST that reached its upstream
        ProxyHarness proxy = proxy("outlier-detection { consecutive-gateway-failure = 100 }",
                "retry { max-retries = 2, retry-non-idempotent = true, retry-on = [ connect-failure, reset ] }",
                upstream);
        try (H2Client client = H2Client.h2c(proxy.port())) {
            CompletableFuture<H2Client.Response> call = client.send("POST", "/pkg.Service/Stream",
                    Map.of("content-type", "application/grpc", "te", "trailers"), new byte[] {0, 0, 0, 0, 1, 7});
            await().atMost(Duration.ofSeconds(20)).until(() -> upstream.held() == 1);
            upstream.killConnections();
            H2Client.Response r = call.get(20, TimeUnit.SECONDS);
            assertThat(r.header("x-bulwark-error")).isEqualTo("upstream_reset");
        }
        Thread.sleep(500); // a retry would have reached the upstream by now
        assertThat(upstream.received()).hasSize(1);
    }

    @Test
    void h2loadThroughBulwarkToAnHttp2Upstream() throws Exception {
        org.assertj.core.api.Assumptions.assumeThat(Http2DownstreamTest.onPath("h2load")).as("h2load installed").isTrue();
        H2Upstream upstream = upstream("a");
        ProxyHarness proxy = proxy("", "", upstream);
        Process p = new ProcessBuilder("h2load", "-n", "2000", "-c", "4", "-m", "20",
                "http://127.0.0.1:" + proxy.port() + "/load").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("2000 succeeded").contains("2000 2xx");
        assertThat(upstream.answered()).isEqualTo(2000);
        // 80 streams at once over at most one connection per proxy event loop
        assertThat(upstream.connectionsAccepted()).isLessThanOrEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void theAdminApiShowsTheProtocols() throws Exception {
        ProxyHarness proxy = proxy("", "", upstream("a"));
        JsonNode cluster = JSON.readTree(proxy.admin("/api/v1/clusters/app").body());
        assertThat(cluster.get("protocol").asText()).isEqualTo("http2");
        JsonNode protocols = JSON.readTree(proxy.admin("/api/v1/config").body()).get("protocols");
        assertThat(protocols.get("clusters").get("app").asText()).isEqualTo("h2c");
        assertThat(protocols.get("listener").toString()).isEqualTo("[\"h2c\",\"http/1.1\"]");
        JsonNode config = JSON.readTree(proxy.admin("/api/v1/config").body()).get("bulwark").get("clusters").get("app");
        assertThat(config.get("protocol").asText()).isEqualTo("http2");
        assertThat(config.get("http2").get("max-concurrent-streams").asInt()).isEqualTo(100);
    }

    private static JsonNode upstreamJson(ProxyHarness proxy, String address) throws Exception {
        JsonNode cluster = JSON.readTree(proxy.admin("/api/v1/clusters/app").body());
        for (JsonNode u : cluster.get("upstreams")) {
            if (u.get("address").asText().equals(address)) {
                return u;
            }
        }
        throw new AssertionError("no upstream " + address + " in " + cluster);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
