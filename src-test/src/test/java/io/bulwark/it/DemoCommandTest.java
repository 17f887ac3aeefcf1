package io.bulwark.it;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
            // The console the demo points to is in the jar and served at / of the admin port.
            assertThat(demo.stdout()).anyMatch(l -> l.contains("console: http://127.0.0.1:" + adminPort + "/"));
            HttpResponse<String> console = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + adminPort + "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(console.statusCode()).isEqualTo(200);
            assertThat(console.body()).contains("<title>Bulwark console</title>");

            runThePrintedAdminExamples(demo, client);

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

    private static final Pattern METHOD = Pattern.compile(" -X (\\w+) ");
    private static final Pattern URL = Pattern.compile("'?(http://[^' ]+)'?");
    private static final Pattern BODY = Pattern.compile(" -d '([^']*)'");

    /**
     * The admin calls the demo prints (on its own cluster, route and upstream addresses) work as
     * printed: each answers 2xx. The shell loop that ejects the flaky upstream is run as requests.
     */
    private static void runThePrintedAdminExamples(BulwarkProcess demo, HttpClient client) throws Exception {
        List<String> calls = demo.stdout().stream()
                .filter(l -> l.startsWith("  curl -s") && l.contains("/api/v1/")).toList();
        assertThat(calls).as(demo.output()).hasSizeGreaterThanOrEqualTo(5);
        assertThat(calls).anyMatch(l -> l.contains("/clusters/demo/upstreams/"));
        String loop = demo.stdout().stream().filter(l -> l.contains("fail=503")).findFirst().orElseThrow();
        Matcher flood = URL.matcher(loop);
        assertThat(flood.find()).isTrue();
        for (int i = 0; i < 12; i++) {
            client.send(HttpRequest.newBuilder(URI.create(flood.group(1))).build(),
                    HttpResponse.BodyHandlers.discarding());
        }
        for (String line : calls) {
            Matcher method = METHOD.matcher(line);
            Matcher url = URL.matcher(line);
            Matcher body = BODY.matcher(line);
            assertThat(url.find()).as(line).isTrue();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url.group(1)))
                    .method(method.find() ? method.group(1) : "GET", body.find()
                            ? HttpRequest.BodyPublishers.ofString(body.group(1)) : HttpRequest.BodyPublishers.noBody())
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(line + " -> " + r.body()).isBetween(200, 299);
            if (line.contains("why it gets no traffic")) {
                assertThat(r.body()).as("the flaky upstream, ejected by the loop").contains("\"outlier_ejected\"");
            }
        }
    }
}
