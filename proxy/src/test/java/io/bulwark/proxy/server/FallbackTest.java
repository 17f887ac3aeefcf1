package io.bulwark.proxy.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.bulwark.proxy.testing.AccessLogCapture;
import io.bulwark.proxy.testing.ProxyHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** Route fallbacks over real sockets: stale copies on failure, their limits, and the fixed reply. */
class FallbackTest {

    /** What the upstream answers now: a status, fields and a body. */
    record Answer(int status, Map<String, String> headers, String body) {
    }

    private HttpServer upstream;
    private final AtomicReference<Answer> answer = new AtomicReference<>();
    private final AtomicInteger requests = new AtomicInteger();
    private ProxyHarness proxy;
    private boolean upstreamStopped;

    @BeforeEach
    void startUpstream() throws Exception {
        upstream = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        upstream.createContext("/", exchange -> {
            requests.incrementAndGet();
            exchange.getRequestBody().readAllBytes();
            Answer a = answer.get();
            a.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
            byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(a.status(), body.length == 0 ? -1 : body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        upstream.start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (!upstreamStopped) {
            upstream.stop(0);
        }
    }

    private void startProxy(String fallback) throws Exception {
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "127.0.0.1:%d" ] } }
                routes = [ { name = api, match { path-prefix = "/" }, cluster = app,
                             retry { max-retries = 1, backoff { base = 1ms, max = 2ms } },
                             fallback { %s } } ]
                """.formatted(upstream.getAddress().getPort(), fallback));
    }

    private void healthy(Map<String, String> headers, String body) {
        answer.set(new Answer(200, headers, body));
    }

    private void broken() {
        answer.set(new Answer(503, Map.of(), "down"));
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        return proxy.get(path, headers);
    }

    @Test
    void aKeptCopyAnswersWhenTheUpstreamFailsWithAgeAndItsMark() throws Exception {
        startProxy("stale-if-error = 5m");
        healthy(Map.of("Content-Type", "application/json", "Cache-Control", "max-age=1"), "{\"v\":1}");
        assertThat(get("/items?page=1").body()).isEqualTo("{\"v\":1}");

        broken();
        try (AccessLogCapture log = new AccessLogCapture()) {
            HttpResponse<String> r = get("/items?page=1");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("{\"v\":1}");
            assertThat(r.headers().firstValue("x-bulwark-fallback")).contains("stale");
            assertThat(r.headers().firstValue("age")).isPresent();
            assertThat(r.headers().firstValue("content-type")).contains("application/json");
            JsonNode line = log.awaitRequest(r.headers().firstValue("x-request-id").orElseThrow());
            assertThat(line.get("fallback").asText()).isEqualTo("stale");
            assertThat(line.get("status").asInt()).isEqualTo(200);
        }
        assertThat(requests.get()).as("the failing upstream was tried, with its retry").isEqualTo(3);
        assertThat(get("/items?page=2").statusCode()).as("no copy of another target").isEqualTo(503);
        HttpResponse<String> head = proxy.client().send(HttpRequest.newBuilder(proxy.uri("/items?page=1"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("x-bulwark-fallback")).contains("stale");
        assertThat(proxy.admin("/metrics").body())
                .contains("bulwark_fallback_served_total{kind=\"stale\",route=\"api\"} 2.0");
    }

    @Test
    void aCopyIsNotServedPastTheWindow() throws Exception {
        startProxy("stale-if-error = 1s");
        healthy(Map.of(), "fresh");
        assertThat(get("/a").body()).isEqualTo("fresh");
        broken();
        Thread.sleep(1_200); // the window is the proxy's real clock here; the unit test drives it by hand
        HttpResponse<String> r = get("/a");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("x-bulwark-fallback")).isEmpty();
    }

    @Test
    void noStoreVaryPostAndAuthorisedPrivateResponsesAreHonoured() throws Exception {
        startProxy("stale-if-error = 5m");
        healthy(Map.of("Cache-Control", "no-store"), "secret");
        get("/no-store");
        healthy(Map.of("Vary", "Accept-Language"), "hello");
        get("/greeting", "Accept-Language", "en");
        healthy(Map.of(), "mine");
        get("/me", "Authorization", "Bearer a");
        healthy(Map.of("Cache-Control", "public"), "shared");
        get("/catalogue", "Authorization", "Bearer a");
        healthy(Map.of(), "posted");
        proxy.client().send(HttpRequest.newBuilder(proxy.uri("/form")).POST(HttpRequest.BodyPublishers.ofString("x"))
                .build(), HttpResponse.BodyHandlers.ofString());

        broken();
        assertThat(get("/no-store").statusCode()).isEqualTo(503);
        assertThat(get("/greeting", "Accept-Language", "en").body()).isEqualTo("hello");
        assertThat(get("/greeting", "Accept-Language", "fr").statusCode()).as("another variant").isEqualTo(503);
        assertThat(get("/me", "Authorization", "Bearer a").statusCode()).as("authorised, not public").isEqualTo(503);
        assertThat(get("/catalogue", "Authorization", "Bearer b").body()).as("authorised but public").isEqualTo("shared");
        HttpResponse<String> post = proxy.client().send(HttpRequest.newBuilder(proxy.uri("/form"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).as("never for a POST").isEqualTo(503);
    }

    @Test
    void theFixedReplyAnswersWhenNoCopyIsKeptAndNamesTheError() throws Exception {
        startProxy("stale-if-error = 5m, status = 200, body = \"{\\\"items\\\":[]}\", content-type = \"application/json\"");
        healthy(Map.of(), "kept");
        get("/kept");
        broken();
        assertThat(get("/kept").headers().firstValue("x-bulwark-fallback")).contains("stale");

        upstream.stop(0); // now connections are refused
        upstreamStopped = true;
        HttpResponse<String> r = get("/never-kept");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"items\":[]}");
        assertThat(r.headers().firstValue("x-bulwark-fallback")).contains("fixed");
        assertThat(r.headers().firstValue("x-bulwark-error")).contains("upstream_connect_failure");
        assertThat(r.headers().firstValue("content-type")).contains("application/json");
    }
}
