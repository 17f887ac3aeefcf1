package io.bulwark.it.container;

import com.github.dockerjava.api.command.HealthState;
import com.github.dockerjava.api.command.HealthStateLog;
import com.github.dockerjava.api.model.HealthCheck;
import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The image's life cycle as Docker drives it: {@code docker stop} drains an in-flight request
 * and exits 0, a broken config exits 2 with a readable line, the HEALTHCHECK turns healthy.
 * One container per test.
 */
@ExtendWith(RequiresDocker.class)
class ContainerLifecycleTest {

    @TempDir
    Path dir;

    WireMockServer upstream;
    final List<BulwarkContainer> containers = new ArrayList<>();
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void startUpstream() {
        upstream = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
        upstream.start();
    }

    @AfterEach
    void stopAll() {
        containers.forEach(BulwarkContainer::stop); // also removes them
        upstream.stop();
    }

    private BulwarkContainer container(String config) throws Exception {
        Path file = dir.resolve("bulwark-" + containers.size() + ".conf");
        Files.writeString(file, config);
        BulwarkContainer c = new BulwarkContainer(file);
        containers.add(c);
        return c;
    }

    private String config(int port, int adminPort) {
        return """
                bulwark {
                  listener { host = "127.0.0.1", port = %d }
                  admin { host = "127.0.0.1", port = %d }
                  shutdown { drain-timeout = 10s }
                  clusters { app { endpoints = [ "127.0.0.1:%d" ] } }
                  routes = [ { name = app, cluster = app } ]
                }
                """.formatted(port, adminPort, upstream.port());
    }

    @Test
    void dockerStopLetsAnInFlightRequestFinishAndExitsZero() throws Exception {
        upstream.stubFor(get("/slow").willReturn(aResponse().withStatus(200).withBody("slow done")
                .withFixedDelay(2_000)));
        int port = BulwarkContainer.freePort();
        int adminPort = BulwarkContainer.freePort();
        BulwarkContainer bulwark = container(config(port, adminPort));
        bulwark.start();
        bulwark.awaitReady(adminPort, Duration.ofSeconds(30));

        CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/slow"))
                        .timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        await("the request reached the upstream").atMost(Duration.ofSeconds(10))
                .until(() -> !upstream.getAllServeEvents().isEmpty());

        long stopStart = System.nanoTime();
        bulwark.dockerStop(30); // returns once the container has exited
        long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopStart);

        HttpResponse<String> r = inFlight.get(15, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("slow done");
        assertThat(bulwark.exitCode()).as(bulwark.output()).isZero();
        assertThat(stopMillis).as("stopped by SIGTERM and drain, not by the SIGKILL after 30s").isLessThan(15_000);
        assertThat(bulwark.lines()).as(bulwark.output())
                .anyMatch(l -> l.contains("Received SIGTERM"))
                .anyMatch(l -> l.contains("Shutting down"));
    }

    @Test
    void aBrokenConfigExitsTwoWithAReadableLine() throws Exception {
        BulwarkContainer bulwark = container("""
                bulwark {
                  listener { port = 80800 }
                  clusters { app { endpoints = [ "127.0.0.1:9001" ] } }
                  routes = [ { cluster = app } ]
                }
                """).expectingExit();
        bulwark.start();

        assertThat(bulwark.exitCode()).as(bulwark.output()).isEqualTo(2);
        // The log consumer reads the container's output asynchronously.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(bulwark.lines()).as(bulwark.output())
                .anyMatch(l -> l.startsWith("bulwark.listener.port: 80800")));
        assertThat(bulwark.output()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void theImageStaysSmallForASidecar() {
        // Pulled onto every node that runs a pod with the sidecar (issue #12: at most 120 MB; a
        // Debian JRE base made it 308 MB). The jlinked runtime, the libraries it links, the jar
        // and the class-data-sharing archive.
        long size = BulwarkContainer.docker().inspectImageCmd(BulwarkContainer.IMAGE).exec().getSize();
        assertThat(size).as("image size in bytes").isLessThanOrEqualTo(120_000_000L);
    }

    @Test
    void theImageHealthcheckTurnsHealthy() throws Exception {
        HealthCheck imageCheck = BulwarkContainer.docker().inspectImageCmd(BulwarkContainer.IMAGE).exec()
                .getConfig().getHealthcheck();
        assertThat(imageCheck).as("the image has a HEALTHCHECK").isNotNull();
        List<String> test = imageCheck.getTest();
        assertThat(test).contains("health", "--url", "http://127.0.0.1:9901/ready");

        int port = BulwarkContainer.freePort();
        int adminPort = 9901;
        BulwarkContainer bulwark;
        if (BulwarkContainer.portFree(9901)) {
            bulwark = container(config(port, adminPort)); // the image's check exactly as it is
        } else {
            // Something on this host holds 9901 (host networking shares it): the same check,
            // pointed at another admin port.
            adminPort = BulwarkContainer.freePort();
            String url = "http://127.0.0.1:" + adminPort + "/ready";
            HealthCheck moved = new HealthCheck()
                    .withTest(test.stream().map(a -> a.equals("http://127.0.0.1:9901/ready") ? url : a).toList())
                    .withInterval(imageCheck.getInterval()).withTimeout(imageCheck.getTimeout())
                    .withStartPeriod(imageCheck.getStartPeriod()).withRetries(imageCheck.getRetries());
            bulwark = container(config(port, adminPort)).withCreateContainerCmdModifier(c -> c.withHealthcheck(moved));
        }
        bulwark.start();

        // The first check runs one interval (10s) after the start.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            HealthState health = bulwark.state().getHealth();
            assertThat(health.getStatus()).as("health log %s\n%s", health.getLog(), bulwark.output())
                    .isEqualTo("healthy");
        });
        List<HealthStateLog> log = bulwark.state().getHealth().getLog();
        assertThat(log.get(log.size() - 1).getExitCodeLong()).isZero();
        assertThat(log.get(log.size() - 1).getOutput()).contains("/ready -> 200");
    }
}
