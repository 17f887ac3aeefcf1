package io.bulwark.proxy.log;

import io.bulwark.proxy.testing.AccessLogCapture;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code bulwark.access-log.enabled}: off at start, on by a reload, off again, without a restart. */
class AccessLogSwitchTest {

    private static String config(boolean enabled, String upstream) {
        return """
                access-log { enabled = %s }
                clusters { app { endpoints = [ "%s" ] } }
                routes = [ { name = app, match { path-prefix = "/" }, cluster = app } ]
                """.formatted(enabled, upstream);
    }

    @Test
    void theConfigSwitchTurnsTheLogOffAndAReloadTurnsItBackOn() throws Exception {
        try (TestUpstream up = TestUpstream.start("up", (req, n) -> Reply.ok("hi"));
             ProxyHarness proxy = ProxyHarness.start(config(false, up.address()));
             AccessLogCapture capture = new AccessLogCapture()) {
            HttpResponse<String> quiet = proxy.get("/quiet");
            assertThat(quiet.statusCode()).isEqualTo(200);
            String quietId = quiet.headers().firstValue("x-request-id").orElseThrow();

            proxy.rewrite(config(true, up.address()));
            assertThat(proxy.admin("POST", "/api/v1/config/reload", "").statusCode()).isEqualTo(200);
            HttpResponse<String> logged = proxy.get("/logged");
            capture.awaitRequest(logged.headers().firstValue("x-request-id").orElseThrow());

            proxy.rewrite(config(false, up.address()));
            assertThat(proxy.admin("POST", "/api/v1/config/reload", "").statusCode()).isEqualTo(200);
            String quietAgainId = proxy.get("/quiet-again").headers().firstValue("x-request-id").orElseThrow();
            // A line is tapped on the request's event loop as the request completes: had the first quiet
            // request been logged, its line would be here long before; the last one's comes in order
            // on the same connection, after /logged's, which is here.
            assertThat(capture.lines()).extracting(l -> l.path("request_id").asText())
                    .doesNotContain(quietId, quietAgainId)
                    .hasSize(1);
            assertThat(proxy.admin("/metrics").body()).contains("bulwark_access_log_dropped_total 0.0");
        }
    }
}
