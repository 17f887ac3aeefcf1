package io.bulwark.proxy.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.bulwark.proxy.testing.AccessLogCapture;
import io.bulwark.proxy.testing.GrpcLikeUpstream;
import io.bulwark.proxy.testing.GrpcLikeUpstream.Answer;
import io.bulwark.proxy.testing.H2Client;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bulwark's own replies to a gRPC call are gRPC errors (CONTRACT §7): HTTP 200 with
 * {@code grpc-status} / {@code grpc-message} and no body, still with {@code x-bulwark-error}, over
 * HTTP/2 (h2c) and HTTP/1 alike; refusals of a request that is not yet a call stay plain HTTP; and
 * {@code grpc-timeout} caps the route timeout.
 */
class GrpcLocalRepliesTest {

    /** How the test reaches the proxy. */
    enum Client { H2C, HTTP1 }

    /** One answer, whatever the protocol it came over. */
    record Reply(int status, Map<String, String> headers, String body, Map<String, String> trailers) {
        String header(String name) {
            return headers.get(name);
        }
    }

    static GrpcLikeUpstream ok;
    static GrpcLikeUpstream unavailable;
    static GrpcLikeUpstream slow;
    static ProxyHarness proxy;

    @BeforeAll
    static void start() throws Exception {
        ok = GrpcLikeUpstream.always("ok", Answer.streamed("payload", 0));
        unavailable = GrpcLikeUpstream.always("unavailable", Answer.trailersOnly(14));
        slow = GrpcLikeUpstream.always("slow", Answer.streamed("late", 0).delayed(3_000));
        proxy = ProxyHarness.start("""
                clusters {
                  ok { endpoints = [ "%s" ] }
                  drained { endpoints = [ "%s" ] }
                  failing {
                    endpoints = [ "%s" ]
                    circuit-breaker { sliding-window-type = count, sliding-window-size = 2, minimum-calls = 2,
                                      wait-in-open = 60s }
                  }
                  slow { endpoints = [ "%s" ] }
                  dead { endpoints = [ "127.0.0.1:%d" ], connect-timeout = 500ms }
                }
                routes = [
                  { match { path-prefix = "/drained.Svc/" }, cluster = drained }
                  { match { path-prefix = "/failing.Svc/" }, cluster = failing, retry { max-retries = 0 } }
                  { name = limited, match { path-prefix = "/limited.Svc/" }, cluster = ok,
                    rate-limit { requests-per-second = 0.01, burst = 1 } }
                  { match { path-prefix = "/slow.Svc/" }, cluster = slow, timeout = 5s }
                  { match { path-prefix = "/fault503.Svc/" }, cluster = ok, fault { abort { percent = 100, status = 503 } } }
                  { match { path-prefix = "/fault404.Svc/" }, cluster = ok, fault { abort { percent = 100, status = 404 } } }
                  { match { path-prefix = "/fault500.Svc/" }, cluster = ok, fault { abort { percent = 100, status = 500 } } }
                  { match { path-prefix = "/dead.Svc/" }, cluster = dead, retry { max-retries = 0 } }
                  { match { path-prefix = "/ok.Svc/" }, cluster = ok }
                ]
                """.formatted(ok.address(), ok.address(), unavailable.address(), slow.address(),
                        ProxyHarness.freePort()),
                "max-body-size = 1KiB");
    }

    @AfterAll
    static void stop() {
        proxy.close();
        ok.close();
        unavailable.close();
        slow.close();
    }

    /** A unary call's request message: an empty, uncompressed gRPC frame. */
    private static final byte[] EMPTY_MESSAGE = new byte[5];

    static Reply call(Client client, String path, Map<String, String> extraHeaders, byte[] body) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("content-type", "application/grpc");
        headers.put("te", "trailers");
        headers.putAll(extraHeaders);
        if (client == Client.H2C) {
            try (H2Client h2 = H2Client.h2c(proxy.port())) {
                H2Client.Response r = h2.send("POST", path, headers, body).get(10, TimeUnit.SECONDS);
                Map<String, String> head = new LinkedHashMap<>();
                r.headers().forEach(e -> head.put(e.getKey().toString(), e.getValue().toString()));
                Map<String, String> trailers = new LinkedHashMap<>();
                if (r.trailers() != null) {
                    r.trailers().forEach(e -> trailers.put(e.getKey().toString(), e.getValue().toString()));
                }
                return new Reply(r.status(), head, r.body(), trailers);
            }
        }
        try (RawHttp raw = new RawHttp(proxy.port())) {
            StringBuilder request = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: x\r\n");
            headers.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
            request.append("content-length: ").append(body.length).append("\r\n\r\n");
            raw.send(request + new String(body, StandardCharsets.ISO_8859_1));
            RawHttp.Response r = raw.read();
            Map<String, String> head = new LinkedHashMap<>();
            for (String line : r.head().split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    head.put(line.substring(0, colon).trim().toLowerCase(), line.substring(colon + 1).trim());
                }
            }
            return new Reply(r.status(), head, r.body(), Map.of());
        }
    }

    static Reply call(Client client, String path) throws Exception {
        return call(client, path, Map.of(), EMPTY_MESSAGE);
    }

    /** A trailers-only gRPC error: 200, the status and a message in the head, no body, and the proxy's code. */
    static void assertGrpcError(Reply r, int grpcStatus, String code) {
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).isEqualTo("application/grpc");
        assertThat(r.header("grpc-status")).isEqualTo(String.valueOf(grpcStatus));
        assertThat(r.header("grpc-message")).isNotBlank();
        assertThat(r.header("x-bulwark-error")).isEqualTo(code);
        assertThat(r.header("x-request-id")).isNotBlank();
        assertThat(r.body()).isEmpty();
        assertThat(r.trailers()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void noRouteIsUnimplemented(Client client) throws Exception {
        assertGrpcError(call(client, "/nowhere.Svc/Method"), 12, "no_route");
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void everyUpstreamDrainedIsUnavailable(Client client) throws Exception {
        Upstream u = proxy.bulwark().snapshot().clusters().get("drained").upstreams().get(0);
        u.setAdmin(Upstream.AdminState.DRAINED);
        try {
            assertGrpcError(call(client, "/drained.Svc/Method"), 14, "no_healthy_upstream");
        } finally {
            u.setAdmin(Upstream.AdminState.ACTIVE);
        }
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void anUpstreamNobodyListensOnIsUnavailable(Client client) throws Exception {
        assertGrpcError(call(client, "/dead.Svc/Method"), 14, "upstream_connect_failure");
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void faultAbortsMapThroughGrpcsHttpTable(Client client) throws Exception {
        assertGrpcError(call(client, "/fault503.Svc/M"), 14, "fault_injected");
        assertGrpcError(call(client, "/fault404.Svc/M"), 12, "fault_injected");
        assertGrpcError(call(client, "/fault500.Svc/M"), 2, "fault_injected");
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void aGrpcTimeoutShorterThanTheRouteTimeoutEndsTheCallWithDeadlineExceeded(Client client) throws Exception {
        long start = System.nanoTime();
        Reply r = call(client, "/slow.Svc/M", Map.of("grpc-timeout", "200m"), EMPTY_MESSAGE);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertGrpcError(r, 4, "upstream_timeout");
        assertThat(r.header("grpc-message")).contains("grpc-timeout");
        assertThat(millis).as("the 200ms grpc-timeout, not the 5s route timeout nor the 3s upstream")
                .isLessThan(2_000L);
        // The upstream sees the client's deadline as it was sent.
        assertThat(slow.received().get(slow.received().size() - 1).get("grpc-timeout")).isEqualTo("200m");
    }

    @Test
    void aMalformedGrpcTimeoutIsIgnored() throws Exception {
        long start = System.nanoTime();
        Reply r = call(Client.H2C, "/slow.Svc/M", Map.of("grpc-timeout", "soon"), EMPTY_MESSAGE);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("x-bulwark-error")).isNull();
        assertThat(r.trailers()).containsEntry("grpc-status", "0");
        assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(2_900L);
    }

    @Test
    void rateLimitedIsResourceExhaustedAndTheAccessLogKeepsTheCode() throws Exception {
        try (AccessLogCapture log = new AccessLogCapture()) {
            assertThat(call(Client.H2C, "/limited.Svc/M").trailers()).containsEntry("grpc-status", "0");
            Reply limited = call(Client.H2C, "/limited.Svc/M");
            assertGrpcError(limited, 8, "rate_limited");
            Reply overHttp1 = call(Client.HTTP1, "/limited.Svc/M");
            assertGrpcError(overHttp1, 8, "rate_limited");

            JsonNode line = log.awaitRequest(limited.header("x-request-id"));
            assertThat(line.get("status").asInt()).isEqualTo(200);
            assertThat(line.get("error").asText()).isEqualTo("rate_limited");
            assertThat(line.get("route").asText()).isEqualTo("limited");
        }
        assertThat(proxy.admin("/metrics").body()).contains("bulwark_local_replies_total{code=\"rate_limited\"}");
    }

    @Test
    void unavailableAnswersOpenTheCircuitAndItsRefusalIsUnavailable() throws Exception {
        // The breaker judges gRPC calls by their status: two UNAVAILABLE answers open it.
        for (int i = 0; i < 2; i++) {
            Reply r = call(Client.H2C, "/failing.Svc/M");
            assertThat(r.header("grpc-status")).isEqualTo("14");
            assertThat(r.header("x-bulwark-error")).as("the upstream's own answer, passed through").isNull();
        }
        int calls = unavailable.calls();
        assertGrpcError(call(Client.H2C, "/failing.Svc/M"), 14, "circuit_open");
        assertGrpcError(call(Client.HTTP1, "/failing.Svc/M"), 14, "circuit_open");
        assertThat(unavailable.calls()).isEqualTo(calls);
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void aBodyTooLargeStaysAPlainHttpRefusal(Client client) throws Exception {
        Reply r = call(client, "/ok.Svc/M", Map.of(), new byte[2048]);
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.header("x-bulwark-error")).isEqualTo("body_too_large");
        assertThat(r.header("grpc-status")).isNull();
        assertThat(r.body()).startsWith("{\"error\":\"body_too_large\"");
    }

    @Test
    void aRequestThatIsNotGrpcStillGetsTheJsonReply() throws Exception {
        try (H2Client h2 = H2Client.h2c(proxy.port())) {
            H2Client.Response r = h2.get("/nowhere");
            assertThat(r.status()).isEqualTo(404);
            assertThat(r.header("grpc-status")).isNull();
            assertThat(r.body()).startsWith("{\"error\":\"no_route\"");
        }
    }

    @Test
    void aSuccessfulCallPassesThroughWithItsTrailers() throws Exception {
        Reply r = call(Client.H2C, "/ok.Svc/M");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("payload");
        assertThat(r.trailers()).containsEntry("grpc-status", "0");
    }
}
