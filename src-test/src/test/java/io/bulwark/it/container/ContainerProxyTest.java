package io.bulwark.it.container;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testcontainers.containers.Container.ExecResult;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.moreThanOrExactly;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The image {@code bulwark:local} in front of WireMock upstreams in the test JVM, all on loopback
 * (host networking): proxying, retries of a 503 and of a dead upstream, the admin token, and
 * that the container runs as its non-root user with the sidecar JVM flags as PID 1.
 * One container serves every test of the class.
 */
@ExtendWith(RequiresDocker.class)
class ContainerProxyTest {

    static final String TOKEN = UUID.randomUUID().toString();

    static WireMockServer upstream;
    static BulwarkContainer bulwark;
    static Path dir;
    static int port;
    static int adminPort;
    static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        upstream = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
        upstream.start();
        port = BulwarkContainer.freePort();
        adminPort = BulwarkContainer.freePort();
        int dead = BulwarkContainer.freePort(); // nothing listens there: connect refused
        dir = Files.createTempDirectory("bulwark-container");
        Path config = dir.resolve("bulwark.conf");
        Files.writeString(config, """
                bulwark {
                  listener { host = "127.0.0.1", port = %d }
                  admin { host = "127.0.0.1", port = %d, token = ${?BULWARK_ADMIN_TOKEN} }
                  shutdown { drain-timeout = 5s }
                  clusters {
                    app { endpoints = [ "127.0.0.1:%d" ] }
                    pair { endpoints = [ "127.0.0.1:%d", "127.0.0.1:%d" ] }
                  }
                  routes = [
                    { name = failover, match { path-prefix = "/failover" }, cluster = pair,
                      retry { retry-on = [ connect-failure ] } }
                    { name = flaky, match { path-prefix = "/flaky" }, cluster = app,
                      retry { retry-on = [ gateway-error ] } }
                    { name = app, cluster = app }
                  ]
                }
                """.formatted(port, adminPort, upstream.port(), dead, upstream.port()));
        bulwark = new BulwarkContainer(config).withEnv("BULWARK_ADMIN_TOKEN", TOKEN);
        bulwark.start();
        bulwark.awaitReady(adminPort, Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() throws Exception {
        if (bulwark != null) {
            bulwark.stop();
        }
        if (upstream != null) {
            upstream.stop();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return client.send(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder proxy(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    }

    private static HttpRequest.Builder admin(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path));
    }

    @Test
    void proxiesToAnUpstreamOnLoopback() throws Exception {
        upstream.stubFor(get("/hello").willReturn(ok("hi from wiremock").withHeader("x-up", "1")));

        HttpResponse<String> r = send(proxy("/hello"));

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("hi from wiremock");
        assertThat(r.headers().firstValue("x-up")).hasValue("1");
        assertThat(r.headers().firstValue("x-request-id")).isPresent();
        upstream.verify(getRequestedFor(urlEqualTo("/hello")).withHeader("x-bulwark-attempt", equalTo("1")));
    }

    @Test
    void retriesAn503OnceAndTheClientSees200() throws Exception {
        upstream.stubFor(get("/flaky").inScenario("flaky").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(503).withBody("down for a moment"))
                .willSetStateTo("recovered"));
        upstream.stubFor(get("/flaky").inScenario("flaky").whenScenarioStateIs("recovered")
                .willReturn(ok("recovered")));

        HttpResponse<String> r = send(proxy("/flaky"));

        assertThat(r.statusCode()).as(bulwark.output()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("recovered");
        upstream.verify(1, getRequestedFor(urlEqualTo("/flaky")).withHeader("x-bulwark-attempt", equalTo("1")));
        upstream.verify(1, getRequestedFor(urlEqualTo("/flaky")).withHeader("x-bulwark-attempt", equalTo("2")));
    }

    @Test
    void retriesOnTheLiveUpstreamWhenTheOtherIsDown() throws Exception {
        upstream.stubFor(get(urlPathEqualTo("/failover")).willReturn(ok("alive")));

        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            statuses.add(send(proxy("/failover?i=" + i)).statusCode());
        }

        assertThat(statuses).as(bulwark.output()).containsOnly(200);
        upstream.verify(6, getRequestedFor(urlPathEqualTo("/failover")));
        // Round-robin sent some first tries to the dead upstream; their retries reached this one.
        upstream.verify(moreThanOrExactly(1),
                getRequestedFor(urlPathEqualTo("/failover")).withHeader("x-bulwark-attempt", equalTo("2")));
    }

    @Test
    void adminApiNeedsTheTokenFromTheEnvironment() throws Exception {
        assertThat(send(admin("/api/v1/anything")).statusCode()).isEqualTo(401);
        assertThat(send(admin("/api/v1/anything").header("Authorization", "Bearer wrong")).statusCode())
                .isEqualTo(401);

        HttpResponse<String> withToken = send(admin("/api/v1/anything").header("Authorization", "Bearer " + TOKEN));
        assertThat(withToken.statusCode()).as(withToken.body()).isNotEqualTo(401);

        assertThat(send(admin("/ready")).statusCode()).isEqualTo(200);
        assertThat(send(admin("/live")).statusCode()).isEqualTo(200);
        assertThat(send(admin("/metrics")).statusCode()).isEqualTo(200);
    }

    @Test
    void runsAsItsNonRootUserWithTheSidecarJvmFlagsAsPid1() throws Exception {
        ExecResult id = bulwark.execInContainer("id", "-u");
        assertThat(id.getStdout().trim()).isEqualTo("10001");

        // Exec form: java itself is PID 1, so docker stop's SIGTERM reaches it.
        ExecResult cmdline = bulwark.execInContainer("cat", "/proc/1/cmdline");
        List<String> args = List.of(cmdline.getStdout().split("\0"));
        assertThat(args.get(0)).isEqualTo("java");
        assertThat(args).contains("-XX:+UseSerialGC", "-Xss512k", "-XX:ReservedCodeCacheSize=48m",
                "-XX:MaxMetaspaceSize=64m", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/bulwark/bulwark.jar",
                "run", "--config", BulwarkContainer.CONFIG_PATH);
        assertThat(args).anyMatch(a -> a.startsWith("-XX:MaxRAMPercentage="));
        assertThat(args).contains("-XX:SharedArchiveFile=" + ARCHIVE);
    }

    /** The image's class-data-sharing archive, trained in its build on this runtime and jar. */
    private static final String ARCHIVE = "/opt/bulwark/bulwark.jsa";

    @Test
    void theClassDataSharingArchiveMatchesTheImagesRuntimeAndJar() throws Exception {
        // -Xshare:on fails the start when the archive cannot be mapped (another JVM, another jar),
        // where the ENTRYPOINT's default would quietly start slower without it.
        ExecResult mapped = bulwark.execInContainer("java", "-XX:SharedArchiveFile=" + ARCHIVE, "-Xshare:on",
                "-Xlog:cds=info", "-jar", "/opt/bulwark/bulwark.jar", "help");
        assertThat(mapped.getExitCode()).as(mapped.getStdout() + mapped.getStderr()).isZero();
        assertThat(mapped.getStdout()).contains("Mapped static", "Usage: java -jar bulwark.jar");
    }
}
