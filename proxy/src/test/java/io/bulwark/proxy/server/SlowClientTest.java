package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Slow and flooding clients: a stalled body, the connection cap, and a slowloris flood. */
class SlowClientTest {

    TestUpstream upstream;
    ProxyHarness proxy;

    @BeforeEach
    void start() throws Exception {
        upstream = TestUpstream.start("a", TestUpstream.echo("a"));
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s" ] } }
                routes = [ { match { path-prefix = "/" }, cluster = app } ]
                """.formatted(upstream.address()),
                "max-connections = 2100\nrequest-header-timeout = 3s\nbody-timeout = 500ms");
    }

    @AfterEach
    void stop() {
        proxy.close();
        upstream.close();
    }

    @Test
    void aStalledRequestBodyGets408AndTheConnectionCloses() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part");
            long start = System.nanoTime();
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(408);
            assertThat(r.header("x-bulwark-error")).isEqualTo("request_timeout");
            assertThat((System.nanoTime() - start) / 1_000_000).isBetween(300L, 3_000L);
            assertThat(raw.closedByPeer(2_000)).isTrue();
        }
    }

    @Test
    void aBodyStillMissingAtTheRouteTimeoutIsTheClientsTimeoutNotTheUpstreams() throws Exception {
        // The route timeout (1s) comes before the body stall timer (30s): the upstream took every
        // byte it was sent, so this is a 408 for the client and no failure of the upstream.
        try (ProxyHarness slow = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s" ] } }
                routes = [ { match { path-prefix = "/" }, cluster = app, timeout = 1s } ]
                """.formatted(upstream.address()), "body-timeout = 30s");
             RawHttp raw = new RawHttp(slow.port())) {
            raw.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part");
            long start = System.nanoTime();
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(408);
            assertThat(r.header("x-bulwark-error")).isEqualTo("request_timeout");
            assertThat((System.nanoTime() - start) / 1_000_000).isBetween(700L, 5_000L);
            assertThat(raw.closedByPeer(2_000)).isTrue();

            String cluster = slow.admin("/api/v1/clusters/app").body();
            assertThat(cluster).contains("\"failures\":0").doesNotContain("\"failures\":1");
            assertThat(slow.admin("/metrics").body()).doesNotContainPattern("outcome=\"timeout\"[^\\n]* [1-9]");
        }
    }

    @Test
    void aSlowlorisFloodCannotStarveAWellBehavedClient() throws Exception {
        List<Socket> flood = new ArrayList<>();
        long heapBefore = usedHeap();
        try {
            for (int i = 0; i < 2_000; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 2_000);
                OutputStream out = s.getOutputStream();
                out.write("GET /slow HTTP/1.1\r\nHost: x\r\nX-a: ".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                flood.add(s);
            }
            long worstMs = 0;
            for (int i = 0; i < 30; i++) {
                for (Socket s : flood.subList(i * 50 % flood.size(), Math.min(flood.size(), i * 50 % flood.size() + 50))) {
                    dribble(s); // one more header byte now and then, as slowloris does
                }
                long start = System.nanoTime();
                try (RawHttp good = new RawHttp(proxy.port())) {
                    good.send("GET /ok/" + i + " HTTP/1.1\r\nHost: x\r\n\r\n");
                    assertThat(good.read().status()).isEqualTo(200);
                }
                worstMs = Math.max(worstMs, (System.nanoTime() - start) / 1_000_000);
            }
            // Starved, it would wait out the header timeout (10 s) or never be served; the room above
            // a normal few ms is for a loaded test machine (a GC of the 2,000 connections' buffers).
            assertThat(worstMs).as("worst latency of a normal client during the flood").isLessThan(3_000L);
            assertThat(proxy.bulwark().proxyContext().connections().size()).isGreaterThanOrEqualTo(2_000);
            long heapDuring = usedHeap();
            assertThat(heapDuring - heapBefore).as("heap grown by the flood").isLessThan(64L * 1024 * 1024);

            // Past max-connections (2,100) new connections are closed at once.
            List<Socket> extra = new ArrayList<>();
            try {
                for (int i = 0; i < 150; i++) {
                    Socket s = new Socket("127.0.0.1", proxy.port());
                    extra.add(s);
                }
                int closedAtOnce = 0;
                for (Socket s : extra) {
                    s.setSoTimeout(1_000);
                    try {
                        if (s.getInputStream().read() < 0) {
                            closedAtOnce++;
                        }
                    } catch (IOException e) {
                        closedAtOnce++;
                    }
                }
                assertThat(closedAtOnce).isGreaterThanOrEqualTo(50);
            } finally {
                for (Socket s : extra) {
                    s.close();
                }
            }
        } finally {
            for (Socket s : flood) {
                s.close();
            }
        }
    }

    private static void dribble(Socket s) {
        try {
            s.getOutputStream().write('a');
        } catch (IOException ignored) {
            // the proxy timed it out: that is what it should do
        }
    }

    private static long usedHeap() {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }
}
