package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each worker event loop has its own round-robin balancer; their rotations start at different
 * hosts, so concurrent traffic spreads from the very first requests.
 */
class EventLoopSpreadTest {

    private static final Pattern UPSTREAM = Pattern.compile("\"upstream\":\"([^\"]+)\"");

    @Test
    void twoEventLoopsSendTheirFirstRequestsToDifferentUpstreams() throws Exception {
        TestUpstream a = TestUpstream.start("a", (req, n) -> Reply.ok("{\"upstream\":\"a\"}").delayed(200));
        TestUpstream b = TestUpstream.start("b", (req, n) -> Reply.ok("{\"upstream\":\"b\"}").delayed(200));
        TestUpstream c = TestUpstream.start("c", (req, n) -> Reply.ok("{\"upstream\":\"c\"}").delayed(200));
        String before = System.getProperty("bulwark.workers");
        System.setProperty("bulwark.workers", "2");
        ProxyHarness proxy;
        try {
            proxy = ProxyHarness.start("""
                    clusters { app { endpoints = [ "%s", "%s", "%s" ], load-balancer = round-robin } }
                    routes = [ { name = app, match { path-prefix = "/" }, cluster = app } ]
                    """.formatted(a.address(), b.address(), c.address()));
        } finally {
            if (before == null) {
                System.clearProperty("bulwark.workers");
            } else {
                System.setProperty("bulwark.workers", before);
            }
        }
        // Netty hands accepted connections to the worker loops in turn: these two land on different loops.
        try (proxy; a; b; c; RawHttp first = new RawHttp(proxy.port()); RawHttp second = new RawHttp(proxy.port())) {
            first.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n");
            second.send("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"); // concurrent: the first is still being answered
            Set<String> upstreams = new HashSet<>();
            upstreams.add(upstreamOf(first.read()));
            upstreams.add(upstreamOf(second.read()));

            assertThat(upstreams).hasSize(2);
        }
    }

    private static String upstreamOf(RawHttp.Response r) {
        assertThat(r.status()).isEqualTo(200);
        Matcher m = UPSTREAM.matcher(r.body());
        assertThat(m.find()).as(r.body()).isTrue();
        return m.group(1);
    }
}
