package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Path normalisation before routing (the same path goes upstream), absolute-form targets, pipelined bodies. */
class RequestTargetTest {

    static TestUpstream upstream;
    static ProxyHarness proxy;

    @BeforeAll
    static void start() throws Exception {
        upstream = TestUpstream.start("a", TestUpstream.echo("a"));
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s" ] } }
                routes = [
                  { name = all, match { path-prefix = "/" }, cluster = app }
                ]
                """.formatted(upstream.address()));
    }

    @AfterAll
    static void stop() {
        proxy.close();
        upstream.close();
    }

    private RawHttp.Response send(String raw) throws Exception {
        try (RawHttp c = new RawHttp(proxy.port())) {
            c.send(raw);
            return c.read();
        }
    }

    @Test
    void dotSegmentsAndRepeatedSlashesAreResolvedBeforeRoutingAndForwarding() throws Exception {
        RawHttp.Response r = send("GET /a/./b/../c//d?q=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(r.status()).isEqualTo(200);
        assertThat(upstream.received().get(upstream.received().size() - 1).uri()).isEqualTo("/a/c/d?q=1");
    }

    @Test
    void unreservedEscapesAreDecodedOnce() throws Exception {
        assertThat(send("GET /%7Euser/%41 HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(200);
        assertThat(upstream.received().get(upstream.received().size() - 1).uri()).isEqualTo("/~user/A");
    }

    @Test
    void anEncodedSlashOrABadEscapeIsRefused() throws Exception {
        int before = upstream.requests();
        RawHttp.Response slash = send("GET /files/a%2F..%2Fetc HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(slash.status()).isEqualTo(400);
        assertThat(slash.header("x-bulwark-error")).isEqualTo("bad_request");
        assertThat(send("GET /x%zz HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(400);
        assertThat(upstream.requests()).isEqualTo(before);
    }

    @Test
    void anAbsoluteFormTargetRoutesOnItsAuthority() throws Exception {
        RawHttp.Response r = send("GET http://shop.example.com/cart?id=2 HTTP/1.1\r\nHost: shop.example.com\r\n\r\n");
        assertThat(r.status()).isEqualTo(200);
        var seen = upstream.received().get(upstream.received().size() - 1);
        assertThat(seen.uri()).isEqualTo("/cart?id=2");
        assertThat(seen.headers().get("host")).isEqualTo("shop.example.com");
    }

    @Test
    void anAbsoluteFormTargetThatDisagreesWithHostIsRefused() throws Exception {
        int before = upstream.requests();
        RawHttp.Response r = send("GET http://evil.example/x HTTP/1.1\r\nHost: shop.example.com\r\n\r\n");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("disagrees with Host");
        assertThat(upstream.requests()).isEqualTo(before);
    }

    @Test
    void optionsAsteriskHasNoRoute() throws Exception {
        assertThat(send("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(404);
    }

    @Test
    void aPipelinedRequestWithABodyIsForwardedWhole() throws Exception {
        try (RawHttp c = new RawHttp(proxy.port())) {
            c.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
            assertThat(c.read().body()).contains("/first");
            RawHttp.Response second = c.read();
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.body()).contains("\"uri\":\"/second\"").contains("\"body_bytes\":3");
        }
    }
}
