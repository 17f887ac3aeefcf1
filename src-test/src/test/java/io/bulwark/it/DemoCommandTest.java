package io.bulwark.it;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code bulwark demo}: three in-process upstreams behind the built-in config, usable at once. */
class DemoCommandTest {

    @Test
    void demoServesItsUpstreamsAndPrintsHowToTryIt() throws Exception {
        int port = Ports.free();
        int adminPort = Ports.free();
        try (BulwarkProcess demo = BulwarkProcess.start("demo", "--port", Integer.toString(port),
                "--admin-port", Integer.toString(adminPort))) {
            demo.awaitReady(adminPort, Duration.ofSeconds(30));
            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<String> healthy = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/healthy/hello")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(healthy.statusCode()).isEqualTo(200);
            assertThat(healthy.body()).contains("\"upstream\":\"healthy\"");

            // The flaky upstream fails every third request; retries hide that from the client.
            for (int i = 0; i < 12; i++) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/item/" + i)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            }
            assertThat(demo.stdout()).anyMatch(l -> l.contains("http://127.0.0.1:" + port + "/"));
            assertThat(demo.stdout()).anyMatch(l -> l.contains("curl"));

            BulwarkProcess health = BulwarkProcess.runToEnd("health", "--url",
                    "http://127.0.0.1:" + adminPort + "/ready");
            assertThat(health.exitCode()).as(health.output()).isZero();
            demo.terminate();
            assertThat(demo.awaitExit(Duration.ofSeconds(20))).isZero();
            BulwarkProcess down = BulwarkProcess.runToEnd("health", "--url",
                    "http://127.0.0.1:" + adminPort + "/ready");
            assertThat(down.exitCode()).isEqualTo(1);
        }
    }
}
