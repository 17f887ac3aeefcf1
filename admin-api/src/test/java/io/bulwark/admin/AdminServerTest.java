package io.bulwark.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.bulwark.config.AdminConfig;
import io.bulwark.routing.Upstream;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.bulwark.admin.AdminFixture.upstreamPath;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin server over a real loopback socket, in front of the admin API: the bearer token on
 * every {@code /api} path, and how the API's answers and the server's 404 reach the client.
 */
class AdminServerTest {

    private static final String TOKEN = "s3cret-token";

    private final AdminFixture f = new AdminFixture();
    private final AtomicReference<AdminConfig> admin = new AtomicReference<>(withToken(TOKEN));
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private PrometheusMeterRegistry registry;
    private EventLoopGroup group;
    private AdminServer server;
    private InetSocketAddress address;

    private static AdminConfig withToken(String token) {
        return new AdminConfig("127.0.0.1", 0, Optional.ofNullable(token), Optional.empty());
    }

    @BeforeEach
    void start() throws InterruptedException {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        server = new AdminServer(admin::get, registry, () -> true, f.api);
        address = server.start(group, NioServerSocketChannel.class);
    }

    @AfterEach
    void stop() {
        server.stop();
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        registry.close();
    }

    private HttpResponse<String> send(String method, String path, String authorization, String body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address.getPort() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> withToken(String method, String path, String body) throws Exception {
        return send(method, path, "Bearer " + TOKEN, body);
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return AdminFixture.JSON.readTree(r.body());
    }

    @Test
    void withoutTheTokenAnApiCallIs401WithABearerChallenge() throws Exception {
        HttpResponse<String> r = send("GET", "/api/v1/clusters", null, null);

        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("www-authenticate")).hasValue("Bearer");
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(json(r).get("error").asText()).isEqualTo("unauthorized");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Bearer wrong", "Bearer s3cret-toke", "Bearer s3cret-token2", "Bearer S3CRET-TOKEN", "Bearer ",
            "Basic czNjcmV0", "s3cret-token", "Bearers3cret-token"})
    void aWrongTokenIs401OnEveryApiPathAndChangesNothing(String authorization) throws Exception {
        assertThat(send("GET", "/api/v1/clusters", authorization, null).statusCode()).isEqualTo(401);
        assertThat(send("GET", "/api/v1/no-such-thing", authorization, null).statusCode()).isEqualTo(401);
        assertThat(send("GET", "/api/v2/clusters", authorization, null).statusCode()).isEqualTo(401);
        HttpResponse<String> drain = send("POST", upstreamPath("users", "127.0.0.1:9001") + "/drain",
                authorization, null);

        assertThat(drain.statusCode()).isEqualTo(401);
        assertThat(f.upstream("users", "127.0.0.1:9001").admin()).isEqualTo(Upstream.AdminState.ACTIVE);
        assertThat(f.events.newest(10)).isEmpty();
    }

    @Test
    void theConsolePageIsServedWithoutTheTokenUnderAStrictSecurityPolicy() throws Exception {
        HttpResponse<String> page = send("GET", "/", null, null);

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(page.body()).contains("<script src=\"/console.js\"").doesNotContain("<script>")
                .doesNotContain("style=").doesNotContain("http://").doesNotContain("https://");
        String csp = page.headers().firstValue("content-security-policy").orElseThrow();
        assertThat(csp).contains("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'")
                .doesNotContain("unsafe-inline").doesNotContain("unsafe-eval");
        assertThat(page.headers().firstValue("x-frame-options")).hasValue("DENY");
        assertThat(page.headers().firstValue("x-content-type-options")).hasValue("nosniff");
        assertThat(page.headers().firstValue("cache-control")).hasValue("no-store");
        assertThat(page.headers().firstValue("set-cookie")).isEmpty();

        HttpResponse<String> script = send("GET", "/console.js", null, null);
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.headers().firstValue("content-type")).hasValue("text/javascript; charset=utf-8");
        assertThat(script.body()).contains("/api/v1/summary").contains("sessionStorage")
                .doesNotContain("localStorage").doesNotContain("document.cookie");
        assertThat(send("GET", "/console.css", null, null).headers().firstValue("content-type"))
                .hasValue("text/css; charset=utf-8");
    }

    @Test
    void theConsoleIsReadOnlyAndOtherPathsStay404() throws Exception {
        assertThat(send("POST", "/", null, "x").statusCode()).isEqualTo(405);
        assertThat(send("GET", "/index.html", null, null).statusCode()).isEqualTo(404);
        assertThat(send("GET", "/console.js.map", null, null).statusCode()).isEqualTo(404);
    }

    @Test
    void theSummaryNeedsTheTokenLikeEveryApiPath() throws Exception {
        assertThat(send("GET", "/api/v1/summary", null, null).statusCode()).isEqualTo(401);
        HttpResponse<String> r = withToken("GET", "/api/v1/summary", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(json(r).get("clusters")).hasSize(2);
    }

    @Test
    void theRightTokenGetsThrough() throws Exception {
        HttpResponse<String> r = withToken("GET", "/api/v1/clusters", null);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(json(r).get("clusters")).hasSize(2);
    }

    @Test
    void theSchemeIsCaseInsensitiveAndSpacesAroundTheTokenDoNotMatter() throws Exception {
        assertThat(send("GET", "/api/v1/routes", "bearer " + TOKEN, null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/api/v1/routes", "BEARER   " + TOKEN + "  ", null).statusCode()).isEqualTo(200);
    }

    @Test
    void aChangedTokenAppliesToTheNextCall() throws Exception {
        admin.set(withToken("rotated"));

        assertThat(withToken("GET", "/api/v1/routes", null).statusCode()).isEqualTo(401);
        assertThat(send("GET", "/api/v1/routes", "Bearer rotated", null).statusCode()).isEqualTo(200);
    }

    @Test
    void withoutAConfiguredTokenTheApiIsOpen() throws Exception {
        admin.set(withToken(null));

        assertThat(send("GET", "/api/v1/routes", null, null).statusCode()).isEqualTo(200);
    }

    @Test
    void healthAndMetricsNeedNoToken() throws Exception {
        assertThat(send("GET", "/live", null, null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/ready", null, null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/metrics", null, null).statusCode()).isEqualTo(200);
    }

    @Test
    void anApiPathTheApiDoesNotServeIs404Json() throws Exception {
        HttpResponse<String> r = withToken("GET", "/api/v1/no-such-thing", null);

        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(json(r).get("error").asText()).isEqualTo("not_found");
        assertThat(json(r).get("message").asText()).isEqualTo("no admin endpoint GET /api/v1/no-such-thing");
    }

    @Test
    void aMutationAnswersOverTheWireWithTheNewState() throws Exception {
        HttpResponse<String> r = withToken("PUT", upstreamPath("users", "127.0.0.1:9002") + "/weight",
                "{\"weight\":4}");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(json(r).get("weight").asInt()).isEqualTo(4);
        assertThat(f.upstream("users", "127.0.0.1:9002").weight()).isEqualTo(4);
    }

    // ---- the comparison itself ----

    private static boolean authorized(String header, String token) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/api/v1/routes",
                Unpooled.EMPTY_BUFFER);
        if (header != null) {
            request.headers().set(HttpHeaderNames.AUTHORIZATION, header);
        }
        try {
            return AdminServer.authorized(request, token);
        } finally {
            request.release();
        }
    }

    @Test
    void theComparisonIsExactOnTheTokensBytes() {
        assertThat(authorized("Bearer abc", "abc")).isTrue();
        assertThat(authorized("Bearer abc", "abcd")).isFalse();
        assertThat(authorized("Bearer abcd", "abc")).isFalse();
        assertThat(authorized("Bearer ABC", "abc")).isFalse();
        assertThat(authorized("Bearer \u00e9", "\u00e9")).isTrue();
        assertThat(authorized("Bearer e\u0301", "\u00e9")).isFalse();
        assertThat(authorized(null, "abc")).isFalse();
        assertThat(authorized("Bear", "abc")).isFalse();
    }
}
