package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** Every response Bulwark makes itself: status, {@code x-bulwark-error} and the JSON body (CONTRACT §3). */
class LocalRepliesTest {

    static TestUpstream ok;
    static TestUpstream slow;
    static TestUpstream resetting;
    static int deadPort;
    static ProxyHarness proxy;

    @BeforeAll
    static void start() throws Exception {
        ok = TestUpstream.start("ok", TestUpstream.echo("ok"));
        slow = TestUpstream.start("slow", (req, n) -> Reply.ok("late").delayed(3_000));
        resetting = TestUpstream.start("reset", (req, n) -> Reply.closeConnection());
        deadPort = ProxyHarness.freePort();
        proxy = ProxyHarness.start("""
                clusters {
                  ok { endpoints = [ "%s" ] }
                  slow { endpoints = [ "%s" ] }
                  reset { endpoints = [ "%s" ] }
                  dead { endpoints = [ "127.0.0.1:%d" ], connect-timeout = 500ms }
                  drained { endpoints = [ "%s" ] }
                }
                routes = [
                  { name = slow, match { path-prefix = "/slow" }, cluster = slow, timeout = 300ms }
                  { name = reset, match { path-prefix = "/reset" }, cluster = reset, retry { max-retries = 0 } }
                  { name = dead, match { path-prefix = "/dead" }, cluster = dead }
                  { name = drained, match { path-prefix = "/drained" }, cluster = drained }
                  { name = only-post, match { path-prefix = "/post-only", methods = [POST] }, cluster = ok }
                  { name = ok, match { path-prefix = "/ok" }, cluster = ok }
                ]
                """.formatted(ok.address(), slow.address(), resetting.address(), deadPort, ok.address()),
                "max-body-size = 1KiB\nmax-initial-line-length = 1KiB\nmax-header-size = 2KiB\n"
                        + "request-header-timeout = 500ms");
    }

    @AfterAll
    static void stop() {
        proxy.close();
        ok.close();
        slow.close();
        resetting.close();
    }

    private static void assertLocalReply(RawHttp.Response r, int status, String code) {
        assertThat(r.status()).isEqualTo(status);
        assertThat(r.header("x-bulwark-error")).isEqualTo(code);
        assertThat(r.header("content-type")).isEqualTo("application/json");
        assertThat(r.body()).startsWith("{\"error\":\"" + code + "\",\"message\":\"");
        // A string always, also for a request refused before its headers were read (CONTRACT §3).
        String id = r.header("x-request-id");
        assertThat(id).isNotBlank();
        assertThat(r.body()).contains("\"request_id\":\"" + id + "\"");
    }

    private static void assertLocalReply(HttpResponse<String> r, int status, String code) {
        assertThat(r.statusCode()).isEqualTo(status);
        assertThat(r.headers().firstValue("x-bulwark-error")).hasValue(code);
        assertThat(r.body()).startsWith("{\"error\":\"" + code + "\"");
        String id = r.headers().firstValue("x-request-id").orElseThrow();
        assertThat(r.body()).contains("\"request_id\":\"" + id + "\"");
    }

    @Test
    void noRouteIs404AndKeepsTheConnection() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
            assertLocalReply(raw.read(), 404, "no_route");
            raw.send("GET /ok/again HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(200);
        }
    }

    @Test
    void methodMismatchIsNoRoute() throws Exception {
        assertLocalReply(proxy.get("/post-only"), 404, "no_route");
    }

    @Test
    void malformedRequestIs400AndCloses() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
            assertLocalReply(raw.read(), 400, "bad_request");
            assertThat(raw.closedByPeer(2000)).isTrue();
        }
    }

    @Test
    void missingHostOnHttp11Is400() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET /ok HTTP/1.1\r\n\r\n");
            assertLocalReply(raw.read(), 400, "bad_request");
            assertThat(raw.closedByPeer(2000)).isTrue();
        }
    }

    @Test
    void longRequestLineIs414() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET /ok/" + "a".repeat(2000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertLocalReply(raw.read(), 414, "uri_too_long");
            assertThat(raw.closedByPeer(2000)).isTrue();
        }
    }

    @Test
    void largeHeadersAre431() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET /ok HTTP/1.1\r\nHost: x\r\nx-big: " + "b".repeat(3000) + "\r\n\r\n");
            assertLocalReply(raw.read(), 431, "headers_too_large");
        }
    }

    @Test
    void declaredBodyOverTheLimitIs413BeforeReadingIt() throws Exception {
        int before = ok.requests();
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
            assertLocalReply(raw.read(), 413, "body_too_large");
            assertThat(raw.closedByPeer(2000)).isTrue();
        }
        assertThat(ok.requests()).isEqualTo(before);
    }

    @Test
    void a413OnAMatchedRouteIsCountedUnderThatRouteAndCluster() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("POST /ok/big HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
            assertLocalReply(raw.read(), 413, "body_too_large");
        }
        String metrics = proxy.admin("/metrics").body();
        assertThat(metrics).containsPattern(
                "bulwark_requests_seconds_count\\{cluster=\"ok\",route=\"ok\",status=\"413\"} [1-9]");
        assertThat(metrics).doesNotContain("route=\"none\",status=\"413\"");
    }

    @Test
    void streamedBodyOverTheLimitIs413() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("POST /ok HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "400\r\n" + "x".repeat(1024) + "\r\n" + "400\r\n" + "y".repeat(1024) + "\r\n");
            RawHttp.Response r = raw.read();
            assertLocalReply(r, 413, "body_too_large");
        }
    }

    @Test
    void headersNotCompleteInTimeAre408() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET /ok HTTP/1.1\r\nHost: x\r\n"); // never finished
            long start = System.nanoTime();
            RawHttp.Response r = raw.read();
            assertLocalReply(r, 408, "request_timeout");
            assertThat((System.nanoTime() - start) / 1_000_000).isBetween(200L, 5_000L);
            assertThat(raw.closedByPeer(2000)).isTrue();
        }
    }

    @Test
    void connectFailureIs502() throws Exception {
        assertLocalReply(proxy.get("/dead"), 502, "upstream_connect_failure");
    }

    @Test
    void upstreamClosingWithoutAnswerIs502Reset() throws Exception {
        assertLocalReply(proxy.get("/reset"), 502, "upstream_reset");
    }

    @Test
    void routeTimeoutIs504() throws Exception {
        long start = System.nanoTime();
        assertLocalReply(proxy.get("/slow"), 504, "upstream_timeout");
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(2_500L);
    }

    @Test
    void everyUpstreamDrainedIs503NoHealthyUpstream() throws Exception {
        Upstream u = proxy.bulwark().snapshot().clusters().get("drained").upstreams().get(0);
        u.setAdmin(Upstream.AdminState.DRAINED);
        try {
            assertLocalReply(proxy.get("/drained"), 503, "no_healthy_upstream");
        } finally {
            u.setAdmin(Upstream.AdminState.ACTIVE);
        }
        assertThat(proxy.get("/drained").statusCode()).isEqualTo(200);
    }

    @Test
    void localRepliesAreCountedInMetrics() throws Exception {
        proxy.get("/nowhere-else");
        String metrics = proxy.admin("/metrics").body();
        assertThat(metrics).containsPattern("bulwark_local_replies_total\\{code=\"no_route\"} [1-9]");
        assertThat(metrics).contains("bulwark_requests_seconds_count{cluster=\"none\",route=\"none\",status=\"404\"}");
    }

    @Test
    void unsupportedHttpVersionIsABadRequest() throws IOException {
        // CONTRACT §3 has no 505: a version other than 1.0/1.1 is a malformed request, 400 bad_request.
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET /ok HTTP/1.2\r\nHost: x\r\n\r\n");
            assertLocalReply(raw.read(), 400, "bad_request");
            assertThat(raw.closedByPeer(2000)).isTrue();
        }
    }
}
