package io.bulwark.proxy.server;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import io.bulwark.proxy.testing.ProxyHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retries against two WireMock upstreams, one of them faulty: each retry-on condition, the
 * retry landing on the other host, and the cases that must not be retried.
 */
class RetryTest {

    WireMockServer bad;
    WireMockServer good;
    ProxyHarness proxy;

    @BeforeEach
    void start() {
        bad = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
        good = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
        bad.start();
        good.start();
        good.stubFor(any(anyUrl()).willReturn(ok("good")));
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        bad.stop();
        good.stop();
    }

    private void proxyWith(String retry) throws Exception {
        // round-robin from a random start: the first try may go to either host, so tests send enough
        // requests that some hit the bad host first.
        proxy = ProxyHarness.start("""
                clusters { two { endpoints = [ "127.0.0.1:%d", "127.0.0.1:%d" ] } }
                routes = [ { name = r, match { path-prefix = "/" }, cluster = two, retry { %s } } ]
                """.formatted(bad.port(), good.port(), retry));
    }

    private HttpResponse<String> send(String method, String path) throws Exception {
        HttpRequest.BodyPublisher body = method.equals("GET") ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString("payload");
        return proxy.client().send(HttpRequest.newBuilder(proxy.uri(path)).timeout(Duration.ofSeconds(10))
                .method(method, body).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void resetIsRetriedOnTheOtherHost() throws Exception {
        bad.stubFor(any(anyUrl()).willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
        proxyWith("retry-on = [ reset ], max-retries = 1");
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = send("GET", "/r/" + i);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("good");
        }
        assertThat(bad.getAllServeEvents()).isNotEmpty(); // the bad host was tried and its failures hidden
    }

    @Test
    void emptyResponseCountsAsReset() throws Exception {
        bad.stubFor(any(anyUrl()).willReturn(aResponse().withFault(Fault.EMPTY_RESPONSE)));
        proxyWith("retry-on = [ reset ], max-retries = 1");
        for (int i = 0; i < 10; i++) {
            assertThat(send("GET", "/e/" + i).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void gatewayErrorIsRetriedAndTheRetryCarriesTheAttemptNumber() throws Exception {
        bad.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(503).withBody("bad")));
        proxyWith("retry-on = [ gateway-error ], max-retries = 1");
        for (int i = 0; i < 10; i++) {
            assertThat(send("GET", "/g/" + i).body()).isEqualTo("good");
        }
        assertThat(good.findAll(anyRequestedFor(anyUrl())).stream()
                .map(r -> r.getHeader("x-bulwark-attempt"))).contains("2");
    }

    @Test
    void a500IsPassedThroughUnlessRetryOnNames5xx() throws Exception {
        bad.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(500).withBody("boom")));
        proxyWith("retry-on = [ gateway-error ], max-retries = 1");
        boolean saw500 = false;
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = send("GET", "/f/" + i);
            if (r.statusCode() == 500) {
                saw500 = true;
                assertThat(r.body()).isEqualTo("boom");
                assertThat(r.headers().firstValue("x-bulwark-error")).isEmpty();
            }
        }
        assertThat(saw500).isTrue();
    }

    @Test
    void fiveXxRetryOnHidesA500() throws Exception {
        bad.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(500)));
        proxyWith("retry-on = [ 5xx ], max-retries = 1");
        for (int i = 0; i < 10; i++) {
            assertThat(send("GET", "/x/" + i).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aPostIsNotRetriedAfterItWasSent() throws Exception {
        bad.stubFor(any(anyUrl()).willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
        proxyWith("retry-on = [ reset, gateway-error ], max-retries = 2");
        int resets = 0;
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = send("POST", "/p/" + i);
            if (r.statusCode() == 502) {
                resets++;
                assertThat(r.headers().firstValue("x-bulwark-error")).hasValue("upstream_reset");
            }
        }
        assertThat(resets).isPositive();
        // Every POST that hit the bad host reached it exactly once and was never replayed on the good one.
        assertThat(good.getAllServeEvents().size() + resets).isEqualTo(10);
    }

    @Test
    void retryNonIdempotentAllowsReplayingAPostBody() throws Exception {
        bad.stubFor(any(anyUrl()).willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
        proxyWith("retry-on = [ reset ], max-retries = 1, retry-non-idempotent = true");
        for (int i = 0; i < 10; i++) {
            assertThat(send("POST", "/p/" + i).statusCode()).isEqualTo(200);
        }
        assertThat(good.findAll(anyRequestedFor(anyUrl()))).allMatch(r -> r.getBodyAsString().equals("payload"));
    }

    @Test
    void connectFailureIsRetriedEvenForAPost() throws Exception {
        int deadPort = ProxyHarness.freePort();
        proxy = ProxyHarness.start("""
                clusters { two { endpoints = [ "127.0.0.1:%d", "127.0.0.1:%d" ] } }
                routes = [ { name = r, match { path-prefix = "/" }, cluster = two,
                             retry { retry-on = [ connect-failure ], max-retries = 1 } } ]
                """.formatted(deadPort, good.port()));
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = send("POST", "/c/" + i);
            assertThat(r.statusCode()).isEqualTo(200);
        }
        assertThat(good.findAll(anyRequestedFor(anyUrl()))).allMatch(r -> r.getBodyAsString().equals("payload"));
        String metrics = proxy.admin("/metrics").body();
        assertThat(metrics).containsPattern("bulwark_retries_total\\{reason=\"connect_failure\",route=\"r\"} [1-9]");
    }

    @Test
    void aPerTryTimeoutIsRetriedOnTheOtherHostWithTimeoutInRetryOn() throws Exception {
        bad.stubFor(any(anyUrl()).willReturn(ok("late").withFixedDelay(2_000)));
        proxyWith("retry-on = [ timeout ], per-try-timeout = 200ms, max-retries = 1");
        for (int i = 0; i < 6; i++) {
            long start = System.nanoTime();
            HttpResponse<String> r = send("GET", "/t/" + i);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("good");
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(1_500L);
        }
        assertThat(bad.getAllServeEvents()).isNotEmpty();
    }

    @Test
    void retriableStatusRetriesTheListedCodes() throws Exception {
        bad.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(429)));
        proxyWith("retry-on = [ retriable-status ], retriable-status = [ 429 ], max-retries = 1");
        for (int i = 0; i < 6; i++) {
            assertThat(send("GET", "/s/" + i).statusCode()).isEqualTo(200);
        }
        assertThat(bad.getAllServeEvents()).isNotEmpty();
    }

    @Test
    void garbageInsteadOfAResponseIsAProtocolErrorRetriedAsAReset() throws Exception {
        bad.stubFor(any(anyUrl()).willReturn(aResponse().withFault(Fault.RANDOM_DATA_THEN_CLOSE)));
        proxyWith("retry-on = [ reset ], max-retries = 1");
        for (int i = 0; i < 6; i++) {
            assertThat(send("GET", "/g/" + i).statusCode()).isEqualTo(200);
        }
        proxy.close();
        proxy = null;
        proxyWith("retry-on = [ connect-failure ], max-retries = 0");
        boolean sawProtocolError = false;
        for (int i = 0; i < 6 && !sawProtocolError; i++) {
            HttpResponse<String> r = send("GET", "/h/" + i);
            sawProtocolError = r.statusCode() == 502 && r.headers().firstValue("x-bulwark-error")
                    .filter(v -> v.equals("upstream_protocol_error") || v.equals("upstream_reset")).isPresent();
        }
        assertThat(sawProtocolError).isTrue();
    }

    @Test
    void aMalformedChunkAfterTheHeadersAbortsTheClientConnectionInsteadOfEndingCleanly() throws Exception {
        bad.stubFor(any(anyUrl()).willReturn(aResponse().withFault(Fault.MALFORMED_RESPONSE_CHUNK)));
        good.stubFor(any(anyUrl()).willReturn(aResponse().withFault(Fault.MALFORMED_RESPONSE_CHUNK)));
        proxyWith("retry-on = [ reset ], max-retries = 1");
        // The status and some bytes went out: no retry may replace them, and the response must not look complete.
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> send("GET", "/m"))
                .isInstanceOf(java.io.IOException.class);
    }

    @Test
    void noRetriesLeftReturnsTheLastFailure() throws Exception {
        bad.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(503)));
        good.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(503).withBody("also down")));
        proxyWith("retry-on = [ gateway-error ], max-retries = 2");
        HttpResponse<String> r = send("GET", "/down");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("x-bulwark-error")).isEmpty(); // the upstream's own 503, unchanged
        assertThat(bad.getAllServeEvents().size() + good.getAllServeEvents().size()).isEqualTo(3);
    }
}
