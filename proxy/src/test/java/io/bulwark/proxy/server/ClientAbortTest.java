package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A client that goes away mid-request: the upstream request is cancelled, not pooled, not retried. */
class ClientAbortTest {

    @Test
    void aClientLeavingMidRequestCancelsTheUpstreamRequest() throws Exception {
        try (TestUpstream upstream = TestUpstream.start("slow", (req, n) -> Reply.ok("late").delayed(3_000));
             ProxyHarness proxy = ProxyHarness.start("""
                     clusters { app { endpoints = [ "%s" ] } }
                     routes = [ { match { path-prefix = "/" }, cluster = app,
                                  retry { retry-on = [ connect-failure, reset, gateway-error ] } } ]
                     """.formatted(upstream.address()))) {
            RawHttp raw = new RawHttp(proxy.port());
            raw.send("GET /work HTTP/1.1\r\nHost: x\r\n\r\n");
            await().atMost(Duration.ofSeconds(5)).until(() -> upstream.requests() == 1);
            assertThat(upstream.openConnections()).isEqualTo(1);
            raw.close(); // the client gives up

            // The proxy closes its upstream connection at once instead of waiting for (or pooling) it.
            await().atMost(Duration.ofSeconds(2)).until(() -> upstream.openConnections() == 0);
            Thread.sleep(300);
            assertThat(upstream.requests()).as("nothing retried").isEqualTo(1);
            assertThat(proxy.bulwark().proxyContext().activeExchanges()).isZero();
        }
    }
}
