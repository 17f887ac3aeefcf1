package io.bulwark.proxy.server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The connection handler, the exchange and its attempts on embedded channels, with time driven
 * by hand: the route timeout, the per-try timeout, the wait before a retry and 100-continue,
 * each checked to the millisecond without sleeping.
 */
class DrivenClockTest {

    private static final String GET = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    private EmbeddedProxy proxy;

    @AfterEach
    void close() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static String config(String cluster, String route) {
        return """
                clusters { app { endpoints = [ "127.0.0.1:9001", "127.0.0.1:9002" ] %s } }
                routes = [ { name = main, match { path-prefix = "/" }, cluster = app %s } ]
                """.formatted(cluster, route);
    }

    @Test
    void theRouteTimeoutAnswers504WhenItFallsDueAndNotBefore() throws Exception {
        proxy = new EmbeddedProxy(config("", ", timeout = 2s, retry { max-retries = 0 }"));
        proxy.clientSends(GET);
        assertThat(proxy.upstreamReceived(0)).startsWith("GET /a HTTP/1.1").contains("x-bulwark-attempt: 1");

        proxy.advance(Duration.ofMillis(1_999));
        assertThat(proxy.clientReceived()).isEmpty();

        proxy.advance(Duration.ofMillis(1));
        String reply = proxy.clientReceived();
        assertThat(reply).startsWith("HTTP/1.1 504").contains("x-bulwark-error: upstream_timeout");
        assertThat(proxy.clientOpen()).as("a timeout keeps the client connection").isTrue();
    }

    @Test
    void aPerTryTimeoutMovesTheRequestToAnotherUpstream() throws Exception {
        proxy = new EmbeddedProxy(config(", load-balancer = round-robin",
                ", timeout = 10s, retry { max-retries = 1, per-try-timeout = 500ms, retry-on = [ timeout ], "
                        + "backoff { base = 1ms, max = 1ms } }"));
        proxy.clientSends(GET);
        assertThat(proxy.upstreamConnections()).isEqualTo(1);
        assertThat(proxy.upstreamReceived(0)).contains("x-bulwark-attempt: 1");

        proxy.advance(Duration.ofMillis(499));
        assertThat(proxy.upstreamConnections()).as("no retry before the per-try timeout").isEqualTo(1);
        proxy.advance(Duration.ofMillis(1));  // the per-try timeout
        proxy.advance(Duration.ofMillis(1));  // the backoff, at most 1ms
        assertThat(proxy.upstreamConnections()).isEqualTo(2);
        assertThat(proxy.upstreamReceived(1)).contains("x-bulwark-attempt: 2");

        proxy.upstreamSends(1, OK);
        assertThat(proxy.clientReceived()).startsWith("HTTP/1.1 200").endsWith("ok");
    }

    @Test
    void aRetryWaitsExactlyTheUpstreamsRetryAfter() throws Exception {
        proxy = new EmbeddedProxy(config("", ", timeout = 10s, retry { max-retries = 1, retry-on = [ gateway-error ] }"));
        proxy.clientSends(GET);
        proxy.upstreamReceived(0);
        proxy.upstreamSends(0, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\nContent-Length: 0\r\n\r\n");

        proxy.advance(Duration.ofMillis(1_999));
        assertThat(proxy.upstreamConnections()).as("still waiting for Retry-After").isEqualTo(1);
        assertThat(proxy.clientReceived()).isEmpty();

        proxy.advance(Duration.ofMillis(1));
        assertThat(proxy.upstreamConnections()).isEqualTo(2);
        assertThat(proxy.upstreamReceived(1)).contains("x-bulwark-attempt: 2");
        proxy.upstreamSends(1, OK);
        assertThat(proxy.clientReceived()).startsWith("HTTP/1.1 200");
    }

    @Test
    void theBackoffBeforeARetryIsBoundedByItsMax() throws Exception {
        proxy = new EmbeddedProxy(config("", ", timeout = 10s, retry { max-retries = 1, retry-on = [ connect-failure ], "
                + "backoff { base = 300ms, max = 300ms } }"));
        proxy.refuseConnections(true);
        proxy.clientSends(GET);
        proxy.refuseConnections(false);
        assertThat(proxy.upstreamConnections()).isZero();

        proxy.advance(Duration.ofMillis(300)); // full jitter: somewhere in [0, 300ms]
        assertThat(proxy.upstreamConnections()).isEqualTo(1);
        assertThat(proxy.upstreamReceived(0)).contains("x-bulwark-attempt: 2");
        proxy.upstreamSends(0, OK);
        assertThat(proxy.clientReceived()).startsWith("HTTP/1.1 200");
    }

    @Test
    void continueIsSentOnlyOnceTheRequestIsAdmittedAndTheBodyThenGoesUpstream() throws Exception {
        proxy = new EmbeddedProxy(config("", ""));
        proxy.clientSends("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        assertThat(proxy.clientReceived()).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
        assertThat(proxy.upstreamReceived(0)).startsWith("POST /a HTTP/1.1").doesNotContainIgnoringCase("expect:");

        proxy.clientSends("hello");
        assertThat(proxy.upstreamReceived(0)).isEqualTo("hello");
        proxy.upstreamSends(0, OK);
        assertThat(proxy.clientReceived()).startsWith("HTTP/1.1 200");
    }

    @Test
    void aRefusedRequestExpectingContinueGetsItsFinalStatusAndNoContinue() throws Exception {
        proxy = new EmbeddedProxy(config("", ", rate-limit { requests-per-second = 1, burst = 1 }"));
        proxy.clientSends(GET);
        proxy.upstreamReceived(0);
        proxy.upstreamSends(0, OK);
        assertThat(proxy.clientReceived()).startsWith("HTTP/1.1 200");

        proxy.clientSends("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        String refused = proxy.clientReceived();
        assertThat(refused).startsWith("HTTP/1.1 429").doesNotContain("100 Continue")
                .containsIgnoringCase("retry-after: 1");
        assertThat(proxy.upstreamConnections()).as("the refused request never went upstream").isEqualTo(1);
        assertThat(proxy.clientOpen()).as("its body was never invited, so the connection closes").isFalse();
    }

    @Test
    void theRequestHeaderTimeoutAnswers408() throws Exception {
        proxy = new EmbeddedProxy(config("", ""));
        proxy.clientSends("GET /a HTTP/1.1\r\nHost: x\r\n"); // the head never ends
        proxy.advance(Duration.ofMillis(9_999));
        assertThat(proxy.clientReceived()).isEmpty();
        proxy.advance(Duration.ofMillis(1));
        assertThat(proxy.clientReceived()).startsWith("HTTP/1.1 408").contains("request_timeout");
    }
}
