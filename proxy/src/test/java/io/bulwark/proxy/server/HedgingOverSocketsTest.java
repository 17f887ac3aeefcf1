package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** Hedging through the real proxy over sockets: a slow upstream is hidden from clients by the hedge. */
class HedgingOverSocketsTest {

    private TestUpstream slow;
    private TestUpstream fast;
    private TestUpstream fast2;
    private ProxyHarness proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (slow != null) {
            slow.close();
        }
        if (fast != null) {
            fast.close();
        }
        if (fast2 != null) {
            fast2.close();
        }
    }

    @Test
    void aSlowUpstreamIsHiddenByTheHedgeAndItsTriesAreCancelled() throws Exception {
        slow = TestUpstream.start("slow", (req, n) -> Reply.ok("slow").delayed(3_000));
        fast = TestUpstream.start("fast", (req, n) -> Reply.ok("fast"));
        fast2 = TestUpstream.start("fast2", (req, n) -> Reply.ok("fast"));
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s", "%s", "%s" ], outlier-detection { consecutive-5xx = 1000,
                       latency { threshold = 50ms, factor = 2, window = 5s, request-volume = 2, minimum-hosts = 3 },
                       max-ejection-percent = 50 } } }
                routes = [ { name = main, match { path-prefix = "/" }, cluster = app, hedge { delay = 100ms },
                             retry { budget-percent = 100, min-retry-concurrency = 10 } } ]
                """.formatted(slow.address(), fast.address(), fast2.address()));
        for (int i = 0; i < 9; i++) {
            long start = System.nanoTime();
            HttpResponse<String> r = proxy.get("/h/" + i);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("fast");
            assertThat(millis).as("request %d took %d ms", i, millis).isLessThan(2_000);
        }
        assertThat(slow.requests()).as("round robin sent some first tries to the slow host").isGreaterThan(0);
        String metrics = proxy.admin("/metrics").body();
        assertThat(metrics).contains("bulwark_hedges_total{result=\"sent\",route=\"main\"} " + slow.requests() + ".0")
                .contains("bulwark_hedges_total{result=\"won\",route=\"main\"} " + slow.requests() + ".0");
        // Every try the hedge beat was cancelled: its connection closed rather than pooled.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                .until(() -> slow.openConnections() == 0);
        // Cancelled tries count as latency (never as failures), so the latency detector finds the slow host.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(proxy.admin("/api/v1/clusters/app/upstreams/" + slow.address()).body())
                        .contains("\"reason\":\"latency\""));
    }
}
