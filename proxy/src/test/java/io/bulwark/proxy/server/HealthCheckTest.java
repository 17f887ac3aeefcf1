package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Active health checks take an upstream out and bring it back. */
class HealthCheckTest {

    @Test
    void anUpstreamFailingItsChecksGetsNoTrafficUntilTheyPassAgain() throws Exception {
        AtomicBoolean bHealthy = new AtomicBoolean(true);
        TestUpstream.Behaviour b = (req, n) -> req.uri().equals("/health")
                ? (bHealthy.get() ? Reply.ok("ok") : Reply.status(503))
                : Reply.ok("{\"upstream\":\"b\"}");
        try (TestUpstream a = TestUpstream.start("a", TestUpstream.echo("a"));
             TestUpstream bUp = TestUpstream.start("b", b);
             ProxyHarness proxy = ProxyHarness.start("""
                     clusters { app {
                       endpoints = [ "%s", "%s" ]
                       health-check { path = "/health", interval = 200ms, timeout = 500ms,
                                      unhealthy-threshold = 2, healthy-threshold = 2 }
                     } }
                     routes = [ { name = main, match { path-prefix = "/" }, cluster = app } ]
                     """.formatted(a.address(), bUp.address()))) {
            String bPath = "/api/v1/clusters/app/upstreams/" + bUp.address();
            await().atMost(Duration.ofSeconds(5)).until(() -> proxy.admin(bPath).body()
                    .contains("\"health\":\"healthy\""));
            long checksSoFar = bUp.received().stream().filter(r -> r.uri().equals("/health")).count();
            assertThat(checksSoFar).isPositive();

            bHealthy.set(false);
            await().atMost(Duration.ofSeconds(5)).until(() -> proxy.admin(bPath).body()
                    .contains("\"health\":\"unhealthy\""));
            assertThat(proxy.admin(bPath).body()).contains("health_check_failed").contains("\"eligible\":false");
            long bTraffic = bUp.received().stream().filter(r -> !r.uri().equals("/health")).count();
            for (int i = 0; i < 10; i++) {
                assertThat(proxy.get("/x/" + i).body()).contains("\"upstream\":\"a\"");
            }
            assertThat(bUp.received().stream().filter(r -> !r.uri().equals("/health")).count()).isEqualTo(bTraffic);
            assertThat(proxy.admin("/api/v1/events?limit=20").body()).contains("\"type\":\"health_flip\"");

            bHealthy.set(true);
            await().atMost(Duration.ofSeconds(5)).until(() -> proxy.admin(bPath).body()
                    .contains("\"health\":\"healthy\""));
            boolean reachedB = false;
            for (int i = 0; i < 10 && !reachedB; i++) {
                reachedB = proxy.get("/y/" + i).body().contains("\"upstream\":\"b\"");
            }
            assertThat(reachedB).isTrue();
            // Checks keep their connection alive (a new one only after a failed check closed it).
            assertThat(bUp.received().stream().filter(r -> r.uri().equals("/health"))
                    .noneMatch(r -> "close".equals(r.headers().get("connection")))).isTrue();
        }
    }
}
