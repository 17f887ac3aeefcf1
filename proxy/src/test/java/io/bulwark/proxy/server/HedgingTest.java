package io.bulwark.proxy.server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hedged requests on embedded channels and a driven clock: after the hedge delay without a
 * response head, one more try goes to another upstream; the first head wins and the other try is
 * cancelled (its connection closed, never pooled); never for a non-idempotent or over-buffer
 * request, and never past the retry budget.
 */
class HedgingTest {

    private static final String GET = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    private static final String OK_A = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na";
    private static final String OK_B = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb";

    private EmbeddedProxy proxy;

    @AfterEach
    void close() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static String config(String route) {
        return """
                clusters { app { endpoints = [ "127.0.0.1:9001", "127.0.0.1:9002" ] } }
                routes = [ { name = main, match { path-prefix = "/" }, cluster = app, timeout = 10s %s } ]
                """.formatted(route);
    }

    @Test
    void theHedgeAnswersFirstAndTheFirstTryIsCancelledNotPooled() throws Exception {
        proxy = new EmbeddedProxy(config(", hedge { delay = 50ms }"));
        proxy.clientSends(GET);
        assertThat(proxy.upstreamReceived(0)).contains("x-bulwark-attempt: 1");

        proxy.advance(Duration.ofMillis(49));
        assertThat(proxy.upstreamConnections()).isEqualTo(1);
        proxy.advance(Duration.ofMillis(1));
        assertThat(proxy.upstreamConnections()).as("the hedge").isEqualTo(2);
        assertThat(proxy.upstreamReceived(1)).startsWith("GET /a HTTP/1.1").contains("x-bulwark-attempt: 2");

        proxy.upstreamSends(1, OK_B);
        assertThat(proxy.clientReceived()).startsWith("HTTP/1.1 200").endsWith("b");
        assertThat(proxy.upstreamOpen(0)).as("the losing try's connection is closed").isFalse();
        assertThat(proxy.upstreamOpen(1)).as("the winner's goes back to the pool").isTrue();
        assertThat(proxy.counter("bulwark.hedges", "route", "main", "result", "sent")).isEqualTo(1);
        assertThat(proxy.counter("bulwark.hedges", "route", "main", "result", "won")).isEqualTo(1);
        assertThat(proxy.clientReceived()).as("nothing more reaches the client").isEmpty();
    }

    @Test
    void theFirstTryCanStillWinAfterTheHedgeWasSent() throws Exception {
        proxy = new EmbeddedProxy(config(", hedge { delay = 50ms }"));
        proxy.clientSends(GET);
        proxy.advance(Duration.ofMillis(50));
        assertThat(proxy.upstreamConnections()).isEqualTo(2);

        proxy.upstreamSends(0, OK_A);
        assertThat(proxy.clientReceived()).startsWith("HTTP/1.1 200").endsWith("a");
        assertThat(proxy.upstreamOpen(1)).isFalse();
        assertThat(proxy.counter("bulwark.hedges", "route", "main", "result", "won")).isZero();
    }

    @Test
    void aHedgeThatFailsLeavesTheFirstTryRacing() throws Exception {
        proxy = new EmbeddedProxy(config(", hedge { delay = 50ms }, retry { max-retries = 0 }"));
        proxy.clientSends(GET);
        proxy.refuseConnections(true);
        proxy.advance(Duration.ofMillis(50)); // the hedge's connection is refused
        proxy.refuseConnections(false);
        assertThat(proxy.clientReceived()).as("no 502 while the first try still races").isEmpty();

        proxy.upstreamSends(0, OK_A);
        assertThat(proxy.clientReceived()).startsWith("HTTP/1.1 200").endsWith("a");
    }

    @Test
    void aPostIsNeverHedged() throws Exception {
        proxy = new EmbeddedProxy(config(", hedge { delay = 50ms }"));
        proxy.clientSends("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
        proxy.advance(Duration.ofMillis(500));
        assertThat(proxy.upstreamConnections()).isEqualTo(1);
    }

    @Test
    void aBodyOverTheReplayBufferIsNeverHedged() throws Exception {
        proxy = new EmbeddedProxy(config(", hedge { delay = 50ms }, retry { buffer-limit = 1KiB }"));
        String body = "x".repeat(2_000);
        proxy.clientSends("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" + body);
        proxy.advance(Duration.ofMillis(500));
        assertThat(proxy.upstreamConnections()).isEqualTo(1);
    }

    @Test
    void aPutWithAWholeBodyIsHedgedWithItsOwnCopyOfTheBody() throws Exception {
        proxy = new EmbeddedProxy(config(", hedge { delay = 50ms }"));
        proxy.clientSends("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(proxy.upstreamReceived(0)).endsWith("hello");
        proxy.advance(Duration.ofMillis(50));
        assertThat(proxy.upstreamReceived(1)).contains("x-bulwark-attempt: 2").endsWith("hello");
        proxy.upstreamSends(1, OK_B);
        assertThat(proxy.clientReceived()).endsWith("b");
    }

    @Test
    void hedgesDrawOnTheRetryBudget() throws Exception {
        proxy = new EmbeddedProxy(config(", hedge { delay = 50ms }, retry { budget-percent = 0, min-retry-concurrency = 0 }"));
        proxy.clientSends(GET);
        proxy.advance(Duration.ofMillis(500));
        assertThat(proxy.upstreamConnections()).as("an empty budget sends no hedge").isEqualTo(1);
        assertThat(proxy.counter("bulwark.retry.budget.exhausted", "route", "main")).isEqualTo(1);
    }

    @Test
    void anAdaptiveDelayWaitsForEnoughSamples() throws Exception {
        proxy = new EmbeddedProxy(config(", hedge { delay = p95 }"));
        proxy.clientSends(GET);
        proxy.advance(Duration.ofSeconds(5));
        assertThat(proxy.upstreamConnections()).as("no p95 yet: no hedge").isEqualTo(1);
        proxy.upstreamReceived(0);
        proxy.upstreamSends(0, OK_A);
        assertThat(proxy.clientReceived()).startsWith("HTTP/1.1 200");
    }
}
