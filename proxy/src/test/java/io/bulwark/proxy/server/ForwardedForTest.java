package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** X-Forwarded-For is appended to, and believed for the client's address only from trusted peers. */
class ForwardedForTest {

    TestUpstream upstream;
    ProxyHarness proxy;

    @AfterEach
    void stop() {
        proxy.close();
        upstream.close();
    }

    private void start(String listenerExtras) throws Exception {
        upstream = TestUpstream.start("a", TestUpstream.echo("a"));
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s" ] } }
                routes = [ { name = main, match { path-prefix = "/" }, cluster = app,
                             rate-limit { requests-per-second = 0.01, burst = 1, key = client-ip } } ]
                """.formatted(upstream.address()), listenerExtras);
    }

    private int get(String path, String forwardedFor) throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET " + path + " HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: " + forwardedFor + "\r\n\r\n");
            return raw.read().status();
        }
    }

    @Test
    void anUntrustedPeersForwardedForIsNotTheClient() throws Exception {
        start("");
        assertThat(get("/a", "203.0.113.1")).isEqualTo(200);
        // A different claimed client from the same peer is still the same client: the bucket is spent.
        assertThat(get("/b", "203.0.113.2")).isEqualTo(429);
        assertThat(upstream.lastHeaders().get("x-forwarded-for")).isEqualTo("203.0.113.1, 127.0.0.1");
    }

    @Test
    void behindATrustedProxyTheRightmostUntrustedAddressIsTheClient() throws Exception {
        start("trust-forwarded-from = [ \"127.0.0.0/8\" ]");
        assertThat(get("/a", "203.0.113.1")).isEqualTo(200);
        assertThat(get("/b", "203.0.113.2")).isEqualTo(200); // another client, its own bucket
        assertThat(get("/c", "198.51.100.7, 203.0.113.1")).isEqualTo(429); // rightmost untrusted: .1 again
        assertThat(upstream.lastHeaders().get("x-forwarded-for")).isEqualTo("203.0.113.2, 127.0.0.1");
    }

    @Test
    void unsafePathEscapesCanBePassedThroughWhenConfigured() throws Exception {
        start("unsafe-path-escapes = pass");
        assertThat(get("/files/a%2Fb", "203.0.113.1")).isEqualTo(200);
        assertThat(upstream.received().get(upstream.received().size() - 1).uri()).isEqualTo("/files/a%2Fb");
    }
}
