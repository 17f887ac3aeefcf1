package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** Fault injection from the route config and switched at run time through the admin API. */
class FaultInjectionTest {

    static TestUpstream upstream;
    static ProxyHarness proxy;

    @BeforeAll
    static void start() throws Exception {
        upstream = TestUpstream.start("a", TestUpstream.echo("a"));
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s" ] } }
                routes = [
                  { name = chaos, match { path-prefix = "/chaos" }, cluster = app,
                    fault { abort { percent = 100, status = 503 } } }
                  { name = calm, match { path-prefix = "/" }, cluster = app }
                ]
                """.formatted(upstream.address()));
    }

    @AfterAll
    static void stop() {
        proxy.close();
        upstream.close();
    }

    @Test
    void aConfiguredAbortAnswersAtOnceWithoutUpstreamTraffic() throws Exception {
        int before = upstream.requests();
        HttpResponse<String> r = proxy.get("/chaos/x");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("x-bulwark-error")).hasValue("fault_injected");
        assertThat(r.body()).startsWith("{\"error\":\"fault_injected\"");
        assertThat(upstream.requests()).isEqualTo(before);
    }

    @Test
    void faultsAreSwitchedAtRunTime() throws Exception {
        HttpResponse<String> on = proxy.admin("PUT", "/api/v1/routes/calm/fault",
                "{\"abort\":{\"percent\":100,\"status\":500}}");
        assertThat(on.statusCode()).isEqualTo(200);
        assertThat(on.body()).contains("\"active\":true");
        HttpResponse<String> aborted = proxy.get("/calm");
        assertThat(aborted.statusCode()).isEqualTo(500);
        assertThat(aborted.headers().firstValue("x-bulwark-error")).hasValue("fault_injected");

        assertThat(proxy.admin("PUT", "/api/v1/routes/calm/fault",
                "{\"delay\":{\"percent\":100,\"duration\":\"300ms\"}}").statusCode()).isEqualTo(200);
        long start = System.nanoTime();
        assertThat(proxy.get("/calm").statusCode()).isEqualTo(200);
        assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(280L);

        assertThat(proxy.admin("PUT", "/api/v1/routes/calm/fault", "{}").body()).contains("\"active\":false");
        assertThat(proxy.get("/calm").statusCode()).isEqualTo(200);
        assertThat(proxy.admin("/api/v1/events?limit=1").body()).contains("\"type\":\"fault\"");
    }

    @Test
    void badFaultCallsAre400Or404() throws Exception {
        assertThat(proxy.admin("PUT", "/api/v1/routes/nope/fault", "{}").statusCode()).isEqualTo(404);
        assertThat(proxy.admin("PUT", "/api/v1/routes/calm/fault", "{\"abort\":{\"percent\":150}}").statusCode())
                .isEqualTo(400);
        assertThat(proxy.admin("PUT", "/api/v1/routes/calm/fault", "{\"abort\":{\"status\":42}}").statusCode())
                .isEqualTo(400);
        assertThat(proxy.admin("PUT", "/api/v1/routes/calm/fault", "{\"explode\":true}").statusCode())
                .isEqualTo(400);
        assertThat(proxy.admin("PUT", "/api/v1/routes/calm/fault",
                "{\"delay\":{\"percent\":10,\"duration\":\"soon\"}}").statusCode()).isEqualTo(400);
    }
}
