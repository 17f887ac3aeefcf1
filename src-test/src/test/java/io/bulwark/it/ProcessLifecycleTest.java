package io.bulwark.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

/** The built jar as a process in front of a WireMock upstream: proxying, access log, SIGTERM drain. */
class ProcessLifecycleTest {

    @TempDir
    Path dir;

    WireMockServer upstream;
    BulwarkProcess bulwark;
    int port;
    int adminPort;
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void start() throws Exception {
        upstream = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
        upstream.start();
        upstream.stubFor(get("/hello").willReturn(ok("hi from wiremock").withHeader("x-up", "1")));
        upstream.stubFor(get("/slow").willReturn(aResponse().withStatus(200).withBody("slow done")
                .withFixedDelay(2_000)));
        port = Ports.free();
        adminPort = Ports.free();
        Path config = dir.resolve("bulwark.conf");
        Files.writeString(config, """
                bulwark {
                  listener { host = "127.0.0.1", port = %d }
                  admin { port = %d }
                  shutdown { drain-timeout = 10s }
                  clusters { app { endpoints = [ "127.0.0.1:%d" ] } }
                  routes = [ { name = app, match { path-prefix = "/" }, cluster = app } ]
                }
                """.formatted(port, adminPort, upstream.port()));
        bulwark = BulwarkProcess.start("run", "--config", config.toString());
        bulwark.awaitReady(adminPort, Duration.ofSeconds(30));
    }

    @AfterEach
    void stop() {
        bulwark.close();
        upstream.stop();
    }

    private HttpRequest request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).build();
    }

    @Test
    void proxiesAndWritesOneJsonAccessLogLinePerRequest() throws Exception {
        HttpResponse<String> r = client.send(request("/hello"), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("hi from wiremock");
        assertThat(r.headers().firstValue("x-up")).hasValue("1");
        upstream.verify(getRequestedFor(urlEqualTo("/hello")));

        String requestId = r.headers().firstValue("x-request-id").orElseThrow();
        ObjectMapper json = new ObjectMapper();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        JsonNode entry = null;
        while (entry == null && System.nanoTime() < deadline) {
            for (String line : bulwark.stdout()) {
                if (line.startsWith("{") && line.contains(requestId)) {
                    entry = json.readTree(line);
                }
            }
            Thread.sleep(20);
        }
        assertThat(entry).as(bulwark.output()).isNotNull();
        for (String field : new String[] {"time", "request_id", "method", "path", "status", "route", "cluster",
            "upstream", "attempts", "duration_ms", "upstream_ms", "bytes_in", "bytes_out", "error"}) {
            assertThat(entry.has(field)).as(field).isTrue();
        }
        assertThat(entry.get("status").asInt()).isEqualTo(200);
        assertThat(entry.get("route").asText()).isEqualTo("app");
        assertThat(entry.get("upstream").asText()).isEqualTo("127.0.0.1:" + upstream.port());
        assertThat(entry.get("bytes_out").asLong()).isEqualTo("hi from wiremock".length());
    }

    @Test
    void sigtermLetsAnInFlightRequestFinishThenExitsZero() throws Exception {
        CompletableFuture<HttpResponse<String>> inFlight =
                client.sendAsync(request("/slow"), HttpResponse.BodyHandlers.ofString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (upstream.getAllServeEvents().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        bulwark.terminate();
        HttpResponse<String> r = inFlight.get(15, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("slow done");
        assertThat(bulwark.awaitExit(Duration.ofSeconds(15))).as(bulwark.output()).isZero();
        assertThat(bulwark.stdout()).as(bulwark.output()).anyMatch(l -> l.contains("Shutting down"));
    }
}
