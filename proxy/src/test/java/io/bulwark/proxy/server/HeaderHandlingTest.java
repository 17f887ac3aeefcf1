package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

class HeaderHandlingTest {

    static TestUpstream upstream;
    static ProxyHarness proxy;

    @BeforeAll
    static void start() throws Exception {
        upstream = TestUpstream.start("a", TestUpstream.echo("a"));
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s" ] } }
                routes = [
                  { name = rewritten, match { path-prefix = "/api/" }, cluster = app, prefix-rewrite = "/v2/",
                    request-headers { add { x-from = "bulwark" }, remove = [ "x-debug" ] } }
                  { name = plain, match { path-prefix = "/" }, cluster = app }
                ]
                """.formatted(upstream.address()));
    }

    @AfterAll
    static void stop() {
        proxy.close();
        upstream.close();
    }

    @Test
    void addsForwardingHeadersAndAttemptNumber() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET /hello HTTP/1.1\r\nHost: shop.example.com\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(200);
        }
        HttpHeaders seen = upstream.lastHeaders();
        assertThat(seen.get("x-forwarded-for")).isEqualTo("127.0.0.1");
        assertThat(seen.get("x-forwarded-proto")).isEqualTo("http");
        assertThat(seen.get("x-forwarded-host")).isEqualTo("shop.example.com");
        assertThat(seen.get("x-bulwark-attempt")).isEqualTo("1");
        assertThat(seen.get("host")).isEqualTo("shop.example.com");
    }

    @Test
    void appendsToAnIncomingForwardedFor() throws Exception {
        proxy.get("/hello", "X-Forwarded-For", "203.0.113.7");
        assertThat(upstream.lastHeaders().get("x-forwarded-for")).isEqualTo("203.0.113.7, 127.0.0.1");
    }

    @Test
    void keepsAnIncomingRequestIdAndReturnsIt() throws Exception {
        HttpResponse<String> r = proxy.get("/hello", "X-Request-Id", "abc-123");
        assertThat(upstream.lastHeaders().get("x-request-id")).isEqualTo("abc-123");
        assertThat(r.headers().firstValue("x-request-id")).hasValue("abc-123");
    }

    @Test
    void createsARequestIdWhenNoneCame() throws Exception {
        HttpResponse<String> r = proxy.get("/hello");
        String sent = upstream.lastHeaders().get("x-request-id");
        assertThat(sent).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
        assertThat(r.headers().firstValue("x-request-id")).hasValue(sent);
    }

    @Test
    void stripsHopByHopHeadersIncludingThoseNamedInConnection() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET /hop HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, x-secret, x-forwarded-for\r\n"
                    + "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nx-secret: s\r\n"
                    + "x-kept: k\r\nUpgrade: something\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
        }
        HttpHeaders seen = upstream.lastHeaders();
        assertThat(seen.contains("x-secret")).isFalse();
        assertThat(seen.contains("keep-alive")).isFalse();
        assertThat(seen.contains("proxy-connection")).isFalse();
        assertThat(seen.getAll("te")).containsExactly("trailers"); // the one TE value passed on (CONTRACT §3)
        assertThat(seen.contains("upgrade")).isFalse();
        assertThat(seen.contains("connection")).isFalse();
        assertThat(seen.get("x-kept")).isEqualTo("k");
        // A Connection header can never strip what the proxy vouches for.
        assertThat(seen.get("x-forwarded-for")).isEqualTo("127.0.0.1");
    }

    @Test
    void teIsReducedToTrailersOrDropped() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET /te HTTP/1.1\r\nHost: x\r\nConnection: TE\r\nTE: deflate;q=0.5, Trailers\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(200);
            assertThat(upstream.lastHeaders().getAll("te")).containsExactly("trailers");

            raw.send("GET /te HTTP/1.1\r\nHost: x\r\nTE: deflate\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(200);
            assertThat(upstream.lastHeaders().contains("te")).isFalse();
        }
    }

    @Test
    void rewritesThePrefixAndEditsHeaders() throws Exception {
        HttpResponse<String> r = proxy.get("/api/users/42?x=1", "x-debug", "1");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"uri\":\"/v2/users/42?x=1\"");
        HttpHeaders seen = upstream.lastHeaders();
        assertThat(seen.get("x-from")).isEqualTo("bulwark");
        assertThat(seen.contains("x-debug")).isFalse();
    }

    @Test
    void passesUpstreamResponseHeadersThrough() throws Exception {
        HttpResponse<String> r = proxy.get("/hello");
        assertThat(r.headers().firstValue("x-upstream")).hasValue("a");
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    }

    @Test
    void answersHttp10ClientsInHttp10() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET /old HTTP/1.0\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.head()).startsWith("HTTP/1.0 200");
            assertThat(r.body()).contains("\"uri\":\"/old\"");
            assertThat(raw.closedByPeer(2000)).isTrue();
        }
    }
}
