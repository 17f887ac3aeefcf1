package io.bulwark.proxy.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three upstreams under steady load; one starts failing. Retries hide its failures from clients
 * of idempotent requests, outlier detection takes it out, and the recovery timeline records how
 * long detection took.
 */
class FailingUpstreamScenarioTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void oneUpstreamFailsUnderLoadAndClientsSeeNoErrors() throws Exception {
        try (TestUpstream a = TestUpstream.start("a", TestUpstream.echo("a"));
             TestUpstream b = TestUpstream.start("b", TestUpstream.echo("b"));
             TestUpstream c = TestUpstream.start("c", TestUpstream.echo("c"));
             ProxyHarness proxy = ProxyHarness.start("""
                     clusters { app {
                       endpoints = [ "%s", "%s", "%s" ]
                       outlier-detection { interval = 1s, base-ejection-time = 30s }
                     } }
                     routes = [ { name = main, match { path-prefix = "/" }, cluster = app,
                                  retry { retry-on = [ connect-failure, reset, gateway-error ], max-retries = 2 } } ]
                     """.formatted(a.address(), b.address(), c.address()))) {
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger errors = new AtomicInteger();
            Thread[] clients = new Thread[4];
            for (int i = 0; i < clients.length; i++) {
                clients[i] = new Thread(() -> {
                    try (RawHttp raw = new RawHttp(proxy.port())) {
                        while (running.get()) {
                            raw.send("GET /item HTTP/1.1\r\nHost: x\r\n\r\n");
                            RawHttp.Response r = raw.read();
                            if (r != null && r.status() == 200) {
                                ok.incrementAndGet();
                            } else {
                                errors.incrementAndGet();
                            }
                        }
                    } catch (Exception e) {
                        errors.incrementAndGet();
                    }
                });
                clients[i].start();
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> c.requests() > 20);

            long failingSince = System.nanoTime();
            c.behaviour((req, n) -> Reply.status(503));
            String path = "/api/v1/clusters/app/upstreams/" + c.address();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10)).until(() ->
                    !JSON.readTree(proxy.admin(path).body()).get("outlier").isNull());
            long observedMs = (System.nanoTime() - failingSince) / 1_000_000;
            int cAtEjection = c.requests();
            Thread.sleep(1_000); // a second of load after the ejection
            running.set(false);
            for (Thread t : clients) {
                t.join(10_000);
            }

            JsonNode upstream = JSON.readTree(proxy.admin(path).body());
            assertThat(upstream.get("outlier").get("reason").asText())
                    .isIn("consecutive_5xx", "consecutive_gateway_failure");
            assertThat(upstream.get("eligible").asBoolean()).isFalse();
            assertThat(c.requests()).as("no traffic to the ejected upstream").isEqualTo(cAtEjection);
            assertThat(errors.get()).as("client-visible errors").isZero();
            assertThat(ok.get()).isGreaterThan(100);

            JsonNode recovery = null;
            for (JsonNode u : JSON.readTree(proxy.admin("/api/v1/recovery").body()).get("upstreams")) {
                if (u.get("address").asText().equals(c.address())) {
                    recovery = u;
                }
            }
            assertThat(recovery).isNotNull();
            long timeToDetect = recovery.get("time_to_detect_ms").asLong();
            assertThat(timeToDetect).isBetween(0L, 2_000L);
            assertThat(proxy.admin("/metrics").body()).containsPattern(
                    "bulwark_upstream_ejections_total\\{cluster=\"app\",reason=\"consecutive_[a-z0-9_]+\",upstream=\""
                            + c.address().replace(".", "\\.") + "\"} 1");
            System.out.printf("scenario: time to detect %d ms (recovery API), %d ms observed by the test; "
                    + "%d requests ok, %d client-visible errors%n", timeToDetect, observedMs, ok.get(), errors.get());
        }
    }
}
