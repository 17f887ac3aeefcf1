package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code limits.adaptive} on a real proxy: past the limit a request gets 503 overloaded at once. */
class AdaptiveLimitOverSocketsTest {

    @Test
    void pastTheAdaptiveLimitARequestIsRefusedAtOnceAndTheLimitIsShown() throws Exception {
        try (TestUpstream slow = TestUpstream.start("slow", (req, n) -> Reply.ok("slow").delayed(1_500));
             ProxyHarness proxy = ProxyHarness.start("""
                     clusters { app { endpoints = [ "%s" ],
                                      limits { adaptive { min-limit = 1, max-limit = 16, initial-limit = 2 } } } }
                     routes = [ { name = app, match { path-prefix = "/" }, cluster = app } ]
                     """.formatted(slow.address()))) {
            CompletableFuture<HttpResponse<String>> first = send(proxy, "/1");
            CompletableFuture<HttpResponse<String>> second = send(proxy, "/2");
            await().atMost(Duration.ofSeconds(5)).until(() -> slow.requests() == 2);

            long start = System.nanoTime();
            try (RawHttp raw = new RawHttp(proxy.port())) {
                RawHttp.Response refused = raw.send("GET /3 HTTP/1.1\r\nHost: x\r\n\r\n").read();
                assertThat(refused.status()).isEqualTo(503);
                assertThat(refused.header("x-bulwark-error")).isEqualTo("overloaded");
                assertThat(refused.body()).contains("adaptive concurrency limit (2)");
            }
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                    .as("refused at once, not queued behind the slow ones").isLessThan(1_000);
            assertThat(slow.requests()).isEqualTo(2);

            String cluster = proxy.admin("/api/v1/clusters/app").body();
            assertThat(cluster).contains("\"adaptive_limit\":2").contains("\"adaptive_rejected\":1");
            assertThat(proxy.admin("/metrics").body()).contains("bulwark_adaptive_limit{cluster=\"app\"} 2.0");

            assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(second.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(proxy.get("/after").statusCode()).as("the slots came back").isEqualTo(200);
        }
    }

    private static CompletableFuture<HttpResponse<String>> send(ProxyHarness proxy, String path) {
        return proxy.client().sendAsync(HttpRequest.newBuilder(proxy.uri(path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
