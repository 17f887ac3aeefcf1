package io.bulwark.proxy.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bulwark.proxy.testing.AccessLogCapture;
import io.bulwark.proxy.testing.H2Client;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawH2;
import io.bulwark.proxy.testing.TestUpstream;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * HTTP/2 clients through Bulwark to HTTP/1 upstreams, over h2c with prior knowledge: each stream
 * is one request through the same routing, admission, retries and local replies as HTTP/1, and
 * what goes upstream is a clean HTTP/1.1 request.
 */
class Http2DownstreamTest {

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

    private ProxyHarness proxy(String clustersAndRoutes, String listenerExtras) throws Exception {
        return closing(ProxyHarness.start(clustersAndRoutes, listenerExtras));
    }

    private TestUpstream echo(String name) throws Exception {
        return closing(TestUpstream.start(name, TestUpstream.echo(name)));
    }

    private static String oneCluster(TestUpstream upstream) {
        return """
                clusters { app { endpoints = [ "%s" ] } }
                routes = [ { match { path-prefix = "/" }, cluster = app } ]
                """.formatted(upstream.address());
    }

    @Test
    void aStreamBecomesACleanHttp11RequestUpstream() throws Exception {
        TestUpstream upstream = echo("a");
        ProxyHarness proxy = proxy(oneCluster(upstream), "");
        try (H2Client client = H2Client.h2c(proxy.port())) {
            H2Client.Response r = client.send("GET", "/items/1?x=y", Map.of("cookie", "a=1", "x-custom", "v"), null)
                    .get(10, TimeUnit.SECONDS);

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).contains("\"upstream\":\"a\"").contains("\"uri\":\"/items/1?x=y\"");
            assertThat(r.header("x-request-id")).isNotBlank();
            assertThat(r.header("connection")).isNull();
            HttpRequest sent = upstream.received().get(0);
            assertThat(sent.protocolVersion().text()).isEqualTo("HTTP/1.1");
            assertThat(sent.headers().get("host")).isEqualTo("localhost");
            assertThat(sent.headers().get("x-custom")).isEqualTo("v");
            assertThat(sent.headers().get("x-forwarded-proto")).isEqualTo("http");
            assertThat(sent.headers().get("x-request-id")).isEqualTo(r.header("x-request-id"));
            assertThat(sent.headers().get("x-bulwark-attempt")).isEqualTo("1");
            assertThat(sent.headers().names()).noneMatch(n -> n.startsWith("x-http2") || n.startsWith(":"));
            assertThat(sent.headers().contains("transfer-encoding")).isFalse();
        }
    }

    @Test
    void manyStreamsOnOneConnectionEachGetTheirOwnResponse() throws Exception {
        TestUpstream upstream = echo("a");
        ProxyHarness proxy = proxy(oneCluster(upstream), "");
        try (H2Client client = H2Client.h2c(proxy.port())) {
            List<CompletableFuture<H2Client.Response>> all = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                all.add(client.send("GET", "/n/" + i, Map.of(), null));
            }
            for (int i = 0; i < 20; i++) {
                H2Client.Response r = all.get(i).get(10, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).contains("\"uri\":\"/n/" + i + "\"");
            }
        }
    }

    @Test
    void postBodiesGoUpstreamWithAndWithoutContentLength() throws Exception {
        TestUpstream upstream = echo("a");
        ProxyHarness proxy = proxy(oneCluster(upstream), "");
        byte[] body = new byte[300_000]; // several stream windows: flow control both ways
        try (H2Client client = H2Client.h2c(proxy.port())) {
            H2Client.Response withLength = client.send("POST", "/upload",
                    Map.of("content-length", Integer.toString(body.length)), body).get(10, TimeUnit.SECONDS);
            assertThat(withLength.status()).isEqualTo(200);
            assertThat(withLength.body()).contains("\"body_bytes\":300000");
            assertThat(upstream.received().get(0).headers().get("content-length")).isEqualTo("300000");

            H2Client.Response unannounced = client.send("POST", "/upload", Map.of(), body).get(10, TimeUnit.SECONDS);
            assertThat(unannounced.status()).isEqualTo(200);
            assertThat(unannounced.body()).contains("\"body_bytes\":300000");
            assertThat(upstream.received().get(1).headers().get("transfer-encoding")).isEqualTo("chunked");
        }
    }

    @Test
    void aFailedTryIsRetriedOnAnotherUpstream() throws Exception {
        TestUpstream good = echo("good");
        TestUpstream bad = closing(TestUpstream.start("bad", (r, b) -> TestUpstream.Reply.closeConnection()));
        ProxyHarness proxy = proxy("""
                clusters { app { endpoints = [ "%s", "%s" ] } }
                routes = [ { match { path-prefix = "/" }, cluster = app } ]
                """.formatted(bad.address(), good.address()), "");
        try (H2Client client = H2Client.h2c(proxy.port())) {
            for (int i = 0; i < 4; i++) {
                H2Client.Response r = client.get("/r/" + i);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).contains("\"upstream\":\"good\"");
            }
        }
        assertThat(bad.requests()).isPositive();
        assertThat(good.received()).anyMatch(r -> "2".equals(r.headers().get("x-bulwark-attempt")));
    }

    @Test
    void localRepliesCarryTheContractsJsonAndHeaders() throws Exception {
        TestUpstream upstream = echo("a");
        ProxyHarness proxy = proxy("""
                clusters { app { endpoints = [ "%s" ] } }
                routes = [
                  { match { path-prefix = "/fault" }, cluster = app, fault { abort { percent = 100, status = 503 } } }
                  { match { path-prefix = "/api" }, cluster = app }
                ]
                """.formatted(upstream.address()), "max-body-size = 1KiB");
        try (AccessLogCapture log = new AccessLogCapture(); H2Client client = H2Client.h2c(proxy.port())) {
            assertLocalReply(client.get("/nowhere"), 404, "no_route");
            assertLocalReply(client.get("/fault/x"), 503, "fault_injected");
            H2Client.Response tooLarge = client.send("POST", "/api/up", Map.of("content-length", "5000"),
                    new byte[5000]).get(10, TimeUnit.SECONDS);
            assertLocalReply(tooLarge, 413, "body_too_large");

            JsonNode line = log.awaitRequest(client.get("/api/ok").header("x-request-id"));
            assertThat(line.get("status").asInt()).isEqualTo(200);
            assertThat(line.get("route").asText()).isEqualTo("route-1");
        }
        assertThat(upstream.requests()).isEqualTo(1);
        assertThat(proxy.admin("/metrics").body())
                .contains("bulwark_local_replies_total{code=\"fault_injected\"}");
    }

    private static void assertLocalReply(H2Client.Response r, int status, String code) throws Exception {
        assertThat(r.status()).isEqualTo(status);
        assertThat(r.header("x-bulwark-error")).isEqualTo(code);
        assertThat(r.header("content-type")).startsWith("application/json");
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.has("request_id")).as(r.body()).isTrue();
        assertThat(body.get("error").asText()).isEqualTo(code);
        assertThat(body.get("message").asText()).isNotBlank();
        assertThat(body.get("request_id").asText()).isEqualTo(r.header("x-request-id"));
    }

    @Test
    void streamsCountAgainstTheRateLimitAndTheBulkhead() throws Exception {
        TestUpstream upstream = closing(TestUpstream.start("slow", (r, b) -> TestUpstream.Reply.ok("slow")
                .delayed(r.uri().startsWith("/held") ? 1_500 : 0)));
        ProxyHarness proxy = proxy("""
                clusters { app { endpoints = [ "%s" ], limits { max-concurrent-requests = 1 } } }
                routes = [
                  { match { path-prefix = "/limited" }, cluster = app,
                    rate-limit { requests-per-second = 1, burst = 2 } }
                  { match { path-prefix = "/held" }, cluster = app }
                ]
                """.formatted(upstream.address()), "");
        try (H2Client client = H2Client.h2c(proxy.port())) {
            List<H2Client.Response> limited = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                limited.add(client.get("/limited"));
            }
            assertThat(limited).filteredOn(r -> r.status() == 429).hasSizeGreaterThanOrEqualTo(3)
                    .allSatisfy(r -> {
                        assertThat(r.header("x-bulwark-error")).isEqualTo("rate_limited");
                        assertThat(r.header("retry-after")).isNotBlank();
                    });

            List<CompletableFuture<H2Client.Response>> held = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                held.add(client.send("GET", "/held", Map.of(), null));
            }
            List<Integer> statuses = new ArrayList<>();
            for (CompletableFuture<H2Client.Response> f : held) {
                H2Client.Response r = f.get(10, TimeUnit.SECONDS);
                statuses.add(r.status());
                if (r.status() == 503) {
                    assertThat(r.header("x-bulwark-error")).isEqualTo("overloaded");
                }
            }
            assertThat(statuses).containsOnly(200, 503).contains(200).filteredOn(s -> s == 503).hasSize(2);
        }
    }

    @Test
    void trailersOfAChunkedHttp1ResponseArriveAsTrailingHeaders() throws Exception {
        try (ServerSocket raw = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> serveChunkedWithTrailers(raw), "trailer-upstream");
            server.setDaemon(true);
            server.start();
            ProxyHarness proxy = proxy("""
                    clusters { app { endpoints = [ "127.0.0.1:%d" ] } }
                    routes = [ { match { path-prefix = "/" }, cluster = app } ]
                    """.formatted(raw.getLocalPort()), "");
            try (H2Client client = H2Client.h2c(proxy.port())) {
                H2Client.Response r = client.send("POST", "/grpc-like", Map.of("te", "trailers"),
                        "ping".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("hello");
                assertThat(r.header("x-te-seen")).isEqualTo("true"); // te: trailers went upstream
                assertThat(r.trailers()).isNotNull();
                assertThat(r.trailers().get("x-checksum").toString()).isEqualTo("abc123");
            }
        }
    }

    /** One HTTP/1 exchange: reads the request (expecting te: trailers forwarded), answers chunked with a trailer. */
    private static void serveChunkedWithTrailers(ServerSocket raw) {
        try (Socket s = raw.accept()) {
            InputStream in = s.getInputStream();
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1));
            boolean te = false;
            String line;
            while ((line = reader.readLine()) != null && !line.isEmpty()) {
                te |= line.equalsIgnoreCase("te: trailers");
            }
            OutputStream out = s.getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-checksum\r\n"
                    + "x-te-seen: " + te + "\r\n\r\n5\r\nhello\r\n0\r\nx-checksum: abc123\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            Thread.sleep(2_000); // keep the connection open while the proxy relays
        } catch (Exception ignored) {
            // test socket closed
        }
    }

    @Test
    void malformedStreamsAreRefusedAndNeverForwarded() throws Exception {
        TestUpstream upstream = echo("a");
        ProxyHarness proxy = proxy(oneCluster(upstream), "");
        try (H2Client client = H2Client.h2c(proxy.port())) {
            H2Client.Response crlf = client.send("GET", "/x", Map.of("x-evil", "a\r\nx-injected: 1"), null)
                    .get(10, TimeUnit.SECONDS);
            assertThat(crlf.status() == 400 || crlf.resetCode() == Http2Error.PROTOCOL_ERROR.code())
                    .as("refused: " + crlf).isTrue();

            H2Client.Response hostMismatch = client.send("GET", "/x", Map.of("host", "other.example"), null)
                    .get(10, TimeUnit.SECONDS);
            assertThat(hostMismatch.status()).isEqualTo(400);

            H2Client.Response te = client.send("GET", "/x", Map.of("te", "gzip"), null).get(10, TimeUnit.SECONDS);
            assertThat(te.resetCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());

            H2Client.Response shortBody = client.send("POST", "/x", Map.of("content-length", "10"),
                    "12345".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
            assertThat(shortBody.status()).isNotEqualTo(200);

            assertThat(client.get("/after").status()).isEqualTo(200); // the connection is still good
        }
        // Only the last, good request was answered by the upstream; the short body never completed there.
        assertThat(upstream.received()).noneMatch(r -> r.headers().contains("x-injected")
                || "other.example".equals(r.headers().get("host")));
    }

    @Test
    void shutdownSendsGoAwayAndLetsTheOpenStreamFinish() throws Exception {
        TestUpstream upstream = closing(TestUpstream.start("slow",
                (r, b) -> TestUpstream.Reply.ok("finished").delayed(1_500)));
        ProxyHarness proxy = proxy(oneCluster(upstream), "");
        try (RawH2 client = RawH2.connect(proxy.port())) {
            client.headers(1, new DefaultHttp2Headers().method("GET").scheme("http").authority("localhost")
                    .path("/work"), true);
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> upstream.requests() == 1);

            CompletableFuture<Boolean> stopped = CompletableFuture.supplyAsync(() -> proxy.bulwark().shutdown());

            RawH2.Frame goAway = client.await(RawH2.GOAWAY, 0, java.time.Duration.ofSeconds(5));
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
            RawH2.Frame head = client.await(RawH2.HEADERS, 1, java.time.Duration.ofSeconds(10));
            assertThat(head).isNotNull();
            assertThat(client.decode(head).status().toString()).isEqualTo("200");
            RawH2.Frame body = client.await(RawH2.DATA, 1, java.time.Duration.ofSeconds(10));
            assertThat(new String(body.payload(), StandardCharsets.UTF_8)).isEqualTo("finished");
            assertThat(stopped.get(15, TimeUnit.SECONDS)).isTrue();
            assertThat(client.closedWithin(java.time.Duration.ofSeconds(10))).isTrue();
        }
    }

    @Test
    void anIdleConnectionGetsGoAwayAndIsClosed() throws Exception {
        TestUpstream upstream = echo("a");
        ProxyHarness proxy = proxy(oneCluster(upstream), "idle-timeout = 1s");
        try (RawH2 client = RawH2.connect(proxy.port())) {
            RawH2.Frame goAway = client.await(RawH2.GOAWAY, 0, java.time.Duration.ofSeconds(10));
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
            assertThat(client.closedWithin(java.time.Duration.ofSeconds(10))).isTrue();
        }
    }

    @Test
    void curlWithPriorKnowledgeSpeaksHttp2() throws Exception {
        assumeThat(curlSupportsHttp2()).as("curl with HTTP/2 support").isTrue();
        TestUpstream upstream = echo("a");
        ProxyHarness proxy = proxy(oneCluster(upstream), "");
        Process p = new ProcessBuilder("curl", "-s", "--http2-prior-knowledge", "-w", "\n%{http_version} %{http_code}",
                "-d", "hello", "http://127.0.0.1:" + proxy.port() + "/curl").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("\"body_bytes\":5").endsWith("2 200");
    }

    @Test
    void withHttp2OffThePrefaceIsNotHttp2() throws Exception {
        assumeThat(curlSupportsHttp2()).as("curl with HTTP/2 support").isTrue();
        TestUpstream upstream = echo("a");
        ProxyHarness proxy = proxy(oneCluster(upstream), "http2 { enabled = false }");
        Process p = new ProcessBuilder("curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w",
                "%{http_version}", "http://127.0.0.1:" + proxy.port() + "/curl").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(out).doesNotStartWith("2");
        assertThat(upstream.requests()).isZero();
        assertThat(proxy.get("/http1").statusCode()).isEqualTo(200); // HTTP/1.1 as before
    }

    @Test
    void h2loadSmoke() throws Exception {
        assumeThat(onPath("h2load")).as("h2load installed").isTrue();
        TestUpstream upstream = echo("a");
        ProxyHarness proxy = proxy(oneCluster(upstream), "");
        Process p = new ProcessBuilder("h2load", "-n", "400", "-c", "4", "-m", "10",
                "http://127.0.0.1:" + proxy.port() + "/load").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("400 succeeded").contains("400 2xx");
    }

    static boolean curlSupportsHttp2() {
        try {
            Process p = new ProcessBuilder("curl", "-V").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor(10, TimeUnit.SECONDS) && out.contains("HTTP2");
        } catch (Exception e) {
            return false;
        }
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (new java.io.File(dir, tool).canExecute()) {
                return true;
            }
        }
        return false;
    }
}
