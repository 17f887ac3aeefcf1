package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.H2Client;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawH2;
import io.bulwark.proxy.testing.TestUpstream;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP/2 attacks proxies were hit by, driven with raw frames over a real socket: each is cut
 * off with the right GOAWAY or RST_STREAM after a bounded amount of work, counted in
 * {@code bulwark_http2_refusals_total}, never forwarded — and a good client on another connection
 * is served meanwhile.
 */
class Http2AttackTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private TestUpstream upstream;
    private ProxyHarness proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private void start(String http2) throws Exception {
        upstream = TestUpstream.start("app", (request, body) -> request.uri().startsWith("/slow")
                ? TestUpstream.Reply.ok("slow").delayed(2_000) : TestUpstream.Reply.ok("ok"));
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s" ] } }
                routes = [ { match { path-prefix = "/" }, cluster = app } ]
                """.formatted(upstream.address()), "http2 { " + http2 + " }");
    }

    private static Http2Headers get(String path) {
        return new DefaultHttp2Headers().method("GET").scheme("http").authority("localhost").path(path);
    }

    private void assertGoodClientServed() throws Exception {
        try (H2Client good = H2Client.h2c(proxy.port())) {
            H2Client.Response r = good.get("/fine");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ok");
        }
    }

    private void assertRefusalCounted(String reason) throws Exception {
        assertThat(proxy.admin("/metrics").body())
                .containsPattern("bulwark_http2_refusals_total\\{reason=\"" + reason + "\"} [1-9]");
    }

    @Test
    void rapidResetGetsGoAwayAfterTheResetLimit() throws Exception {
        start("max-resets-per-minute = 20");
        int opened = 0;
        try (RawH2 attacker = RawH2.connect(proxy.port())) {
            for (int stream = 1; opened < 2_000; stream += 2) {
                if (!attacker.headers(stream, get("/slow"), true) || !attacker.rst(stream, 8 /* CANCEL */)) {
                    break;
                }
                opened++;
            }
            RawH2.Frame goAway = attacker.await(RawH2.GOAWAY, 0, WAIT);
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).as(goAway.debugText()).isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
            assertThat(attacker.closedWithin(WAIT)).isTrue();
        }
        // Bounded: the streams the limit let through reached the upstream at most, not the flood.
        assertThat(upstream.requests()).isLessThanOrEqualTo(40);
        assertRefusalCounted("rapid_reset");
        assertGoodClientServed();
    }

    @Test
    void continuationFloodOfSmallFramesGetsGoAway() throws Exception {
        start("enabled = true");
        try (RawH2 attacker = RawH2.connect(proxy.port())) {
            byte[] start = attacker.encode(1, get("/"));
            attacker.frame(RawH2.HEADERS, RawH2.END_STREAM, 1, start); // no END_HEADERS: a header block opens
            byte[] crumb = new byte[] {0x40, 0x01, 'x', 0x01, 'y'}; // a literal field, again and again
            int sent = 0;
            while (sent < 100_000 && attacker.frame(RawH2.CONTINUATION, 0, 1, crumb)) {
                sent++;
                if (sent % 1_000 == 0 && attacker.closedWithin(Duration.ZERO)) {
                    break;
                }
            }
            RawH2.Frame goAway = attacker.await(RawH2.GOAWAY, 0, WAIT);
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).as(goAway.debugText()).isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
            assertThat(attacker.closedWithin(WAIT)).isTrue();
        }
        assertThat(upstream.requests()).isZero();
        assertRefusalCounted("continuation_flood");
        assertGoodClientServed();
    }

    @Test
    void continuationFloodOfLargeFramesIsCutOffAtTheHeaderListBound() throws Exception {
        start("max-header-list-size = 16KiB");
        try (RawH2 attacker = RawH2.connect(proxy.port())) {
            byte[] chunk = new byte[9_000];
            Arrays.fill(chunk, (byte) 'a');
            attacker.frame(RawH2.HEADERS, RawH2.END_STREAM, 1, attacker.encode(1, get("/")));
            int sent = 0;
            while (sent < 10_000 && attacker.frame(RawH2.CONTINUATION, 0, 1, chunk)) {
                sent++;
                if (attacker.closedWithin(Duration.ZERO)) {
                    break;
                }
            }
            RawH2.Frame goAway = attacker.await(RawH2.GOAWAY, 0, WAIT);
            assertThat(goAway).isNotNull();
            assertThat(attacker.closedWithin(WAIT)).isTrue();
        }
        assertThat(upstream.requests()).isZero();
        assertRefusalCounted("continuation_flood");
        assertGoodClientServed();
    }

    @Test
    void oversizedHeaderListGets431OnItsStreamAndTheConnectionGoesOn() throws Exception {
        start("max-header-list-size = 4KiB");
        try (RawH2 client = RawH2.connect(proxy.port())) {
            Http2Headers big = get("/big").add("x-big", "b".repeat(4_300));
            client.headers(1, big, true);
            RawH2.Frame head = client.await(RawH2.HEADERS, 1, WAIT);
            assertThat(head).isNotNull();
            Http2Headers fields = client.decode(head);
            assertThat(fields.status().toString()).isEqualTo("431");
            assertThat(fields.get("x-bulwark-error").toString()).isEqualTo("headers_too_large");
            RawH2.Frame body = client.await(RawH2.DATA, 1, WAIT);
            assertThat(new String(body.payload(), StandardCharsets.UTF_8)).contains("\"error\":\"headers_too_large\"");

            client.headers(3, get("/after"), true); // the same connection still serves
            RawH2.Frame next = client.await(RawH2.HEADERS, 3, WAIT);
            assertThat(next).isNotNull();
            assertThat(client.decode(next).status().toString()).isEqualTo("200");
        }
        assertThat(upstream.received()).noneMatch(r -> r.uri().equals("/big"));
        assertRefusalCounted("header_list_too_large");
    }

    @Test
    void settingsFloodGetsGoAway() throws Exception {
        start("enabled = true");
        try (RawH2 attacker = RawH2.connect(proxy.port())) {
            for (int i = 0; i < 10_000 && attacker.frame(RawH2.SETTINGS, 0, 0, new byte[0]); i++) {
                if (i % 500 == 0 && attacker.closedWithin(Duration.ZERO)) {
                    break;
                }
            }
            RawH2.Frame goAway = attacker.await(RawH2.GOAWAY, 0, WAIT);
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).as(goAway.debugText()).isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
            assertThat(attacker.closedWithin(WAIT)).isTrue();
        }
        assertRefusalCounted("settings_flood");
        assertGoodClientServed();
    }

    @Test
    void pingFloodGetsGoAway() throws Exception {
        start("enabled = true");
        try (RawH2 attacker = RawH2.connect(proxy.port())) {
            for (int i = 0; i < 10_000 && attacker.ping(i); i++) {
                if (i % 500 == 0 && attacker.closedWithin(Duration.ZERO)) {
                    break;
                }
            }
            RawH2.Frame goAway = attacker.await(RawH2.GOAWAY, 0, WAIT);
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).as(goAway.debugText()).isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
        }
        assertRefusalCounted("ping_flood");
        assertGoodClientServed();
    }

    @ParameterizedTest(name = "client acknowledges SETTINGS: {0}")
    @ValueSource(booleans = {true, false})
    void streamsPastMaxConcurrentStreamsAreRefused(boolean ackSettings) throws Exception {
        start("max-concurrent-streams = 2");
        try (RawH2 client = RawH2.connect(proxy.port(), ackSettings)) {
            for (int stream = 1; stream <= 7; stream += 2) {
                client.headers(stream, get("/slow"), true);
            }
            RawH2.Frame refused = client.await(RawH2.RST_STREAM, -1, WAIT);
            assertThat(refused).isNotNull();
            assertThat(refused.streamId()).isGreaterThan(3);
            assertThat(refused.errorCode()).isEqualTo(Http2Error.REFUSED_STREAM.code());
            RawH2.Frame first = client.await(RawH2.HEADERS, 1, WAIT);
            assertThat(first).isNotNull();
            assertThat(client.decode(first).status().toString()).isEqualTo("200");
        }
        assertRefusalCounted("too_many_streams");
    }
}
