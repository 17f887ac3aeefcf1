package io.bulwark.it.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Operating the image as Kubernetes and compose do: a config directory mounted like a ConfigMap
 * and updated by a symlink swap (watch-config), a reload by {@code docker kill -s HUP}, and
 * operator state kept in the image's volume across a restart. Two WireMock upstreams in the test
 * JVM answer "a" and "b".
 */
@ExtendWith(RequiresDocker.class)
class ContainerOperationsTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    WireMockServer a;
    WireMockServer b;
    final List<BulwarkContainer> containers = new ArrayList<>();
    final List<String> volumes = new ArrayList<>();
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    final int port = BulwarkContainer.freePort();
    final int adminPort = BulwarkContainer.freePort();

    @BeforeEach
    void startUpstreams() {
        a = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
        b = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
        a.start();
        b.start();
        a.stubFor(get(anyUrl()).willReturn(ok("a")));
        b.stubFor(get(anyUrl()).willReturn(ok("b")));
    }

    @AfterEach
    void stopAll() {
        containers.forEach(BulwarkContainer::stop);
        volumes.forEach(v -> BulwarkContainer.docker().removeVolumeCmd(v).exec());
        a.stop();
        b.stop();
    }

    private String body(String path) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    // --- watch-config with a ConfigMap-style mount -------------------------------------------

    /**
     * Writes a new version of the config the way the kubelet updates a ConfigMap volume: the
     * files go into a fresh timestamped directory, then the {@code ..data} symlink is swapped to
     * it in one rename; {@code bulwark.conf} itself is a symlink to {@code ..data/bulwark.conf}.
     */
    private void publishConfigMapVersion(Path configDir, String text) throws Exception {
        Path version = Files.createDirectory(configDir.resolve("..v" + System.nanoTime()),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Path file = version.resolve("bulwark.conf");
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        Path tmp = configDir.resolve("..data_tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, version.getFileName());
        Files.move(tmp, configDir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        if (!Files.exists(configDir.resolve("bulwark.conf"), LinkOption.NOFOLLOW_LINKS)) {
            Files.createSymbolicLink(configDir.resolve("bulwark.conf"), Path.of("..data/bulwark.conf"));
        }
    }

    private String watchedConfig(int upstreamPort, String cluster) {
        return """
                bulwark {
                  watch-config = true
                  listener { host = "127.0.0.1", port = %d }
                  admin { host = "127.0.0.1", port = %d }
                  clusters { app { endpoints = [ "127.0.0.1:%d" ] } }
                  routes = [ { name = app, cluster = %s } ]
                }
                """.formatted(port, adminPort, upstreamPort, cluster);
    }

    @Test
    void watchConfigReloadsAConfigMapSymlinkSwapAndRejectsABrokenVersion() throws Exception {
        Path configDir = Files.createDirectory(dir.resolve("configmap"));
        publishConfigMapVersion(configDir, watchedConfig(a.port(), "app"));
        BulwarkContainer bulwark = BulwarkContainer.withConfigDirectory(configDir);
        containers.add(bulwark);
        bulwark.start();
        bulwark.awaitReady(adminPort, Duration.ofSeconds(30));
        assertThat(body("/x")).isEqualTo("200 a");

        publishConfigMapVersion(configDir, watchedConfig(b.port(), "app"));
        awaitBody("/x", "200 b", bulwark);
        // The swap can serve before the reload's log line reaches the container's log: wait for it too.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(bulwark.lines()).anyMatch(l -> l.contains("Config reloaded (file_change)")));

        // A broken version is rejected whole; the running config keeps serving.
        publishConfigMapVersion(configDir, watchedConfig(a.port(), "ap"));
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(bulwark.output())
                .contains("Config reload (file_change) rejected")
                .contains("bulwark.routes[0].cluster: unknown cluster \"ap\""));
        assertThat(body("/x")).isEqualTo("200 b");
    }

    @Test
    void dockerKillHupReloadsTheMountedFile() throws Exception {
        Path config = dir.resolve("bulwark.conf");
        Files.writeString(config, watchedConfig(a.port(), "app").replace("watch-config = true", ""));
        BulwarkContainer bulwark = new BulwarkContainer(config);
        containers.add(bulwark);
        bulwark.start();
        bulwark.awaitReady(adminPort, Duration.ofSeconds(30));
        assertThat(body("/x")).isEqualTo("200 a");

        // Rewritten in place (same inode), so the single-file bind mount shows the new content.
        Files.writeString(config, watchedConfig(b.port(), "app").replace("watch-config = true", ""));
        BulwarkContainer.docker().killContainerCmd(bulwark.getContainerId()).withSignal("HUP").exec();

        awaitBody("/x", "200 b", bulwark);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(bulwark.lines()).anyMatch(l -> l.contains("Config reloaded (sighup)")));
        assertThat(bulwark.isRunning()).isTrue();
    }

    private void awaitBody(String path, String expected, BulwarkContainer bulwark) {
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(body(path)).as(bulwark.output()).isEqualTo(expected));
    }

    // --- admin.state-file in the image's volume ------------------------------------------------

    @Test
    void aDrainThroughTheAdminApiSurvivesARestartInTheStateVolume() throws Exception {
        String token = UUID.randomUUID().toString();
        String volume = "bulwark-it-state-" + UUID.randomUUID();
        volumes.add(volume);
        Path config = dir.resolve("bulwark.conf");
        Files.writeString(config, """
                bulwark {
                  listener { host = "127.0.0.1", port = %d }
                  admin { host = "127.0.0.1", port = %d, token = ${?BULWARK_ADMIN_TOKEN},
                          state-file = "/var/lib/bulwark/state.json" }
                  clusters { app { endpoints = [ "127.0.0.1:%d", "127.0.0.1:%d" ] } }
                  routes = [ { name = app, cluster = app } ]
                }
                """.formatted(port, adminPort, a.port(), b.port()));
        String upstreamB = "/api/v1/clusters/app/upstreams/127.0.0.1:" + b.port();

        BulwarkContainer first = new BulwarkContainer(config).withStateVolume(volume)
                .withEnv("BULWARK_ADMIN_TOKEN", token);
        containers.add(first);
        first.start();
        first.awaitReady(adminPort, Duration.ofSeconds(30));
        HttpResponse<String> drain = admin("POST", upstreamB + "/drain", token);
        assertThat(drain.statusCode()).as(drain.body()).isEqualTo(202);
        // Written by the non-root user into the volume (the image made it owned by that user).
        awaitStateFileMentions(first, String.valueOf(b.port()));
        first.dockerStop(30);
        assertThat(first.exitCode()).as(first.output()).isZero();

        BulwarkContainer second = new BulwarkContainer(config).withStateVolume(volume)
                .withEnv("BULWARK_ADMIN_TOKEN", token);
        containers.add(second);
        second.start();
        second.awaitReady(adminPort, Duration.ofSeconds(30));

        JsonNode state = JSON.readTree(admin("GET", upstreamB, token).body());
        assertThat(state.get("admin").asText()).as(state.toString()).isIn("draining", "drained");
        assertThat(state.get("eligible").asBoolean()).isFalse();
        Set<String> bodies = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            bodies.add(body("/x?i=" + i));
        }
        assertThat(bodies).as("the drained upstream gets no traffic after the restart").containsExactly("200 a");
    }

    private HttpResponse<String> admin(String method, String path, String token) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void awaitStateFileMentions(BulwarkContainer bulwark, String text) {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                assertThat(bulwark.execInContainer("cat", "/var/lib/bulwark/state.json").getStdout())
                        .as(bulwark.output()).contains(text));
    }
}
