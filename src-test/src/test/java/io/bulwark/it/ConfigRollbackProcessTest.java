package io.bulwark.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Config versions and rollback in the built jar (CONTRACT §7): a reload that sends {@code /api} to
 * a cluster whose upstream answers 503 is rolled back by itself under steady load; the history
 * survives a restart next to {@code admin.state-file}; a restart on the rolled-back file starts on
 * the last good version with a WARN; a manual rollback to version 1 works from the kept history.
 */
class ConfigRollbackProcessTest {

    record Sample(long start, long end, int status) {
    }

    @TempDir
    Path dir;

    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    final ObjectMapper json = new ObjectMapper();
    final List<HttpServer> upstreams = new ArrayList<>();

    @AfterEach
    void stopUpstreams() {
        upstreams.forEach(s -> s.stop(0));
    }

    private int upstream(int status) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = ("{\"status\":" + status + "}").getBytes(StandardCharsets.UTF_8);
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
        server.start();
        upstreams.add(server);
        return server.getAddress().getPort();
    }

    private static String config(int port, int adminPort, Path stateFile, int good, int bad, String apiCluster) {
        return """
                bulwark {
                  listener { host = "127.0.0.1", port = %d }
                  admin { port = %d, state-file = "%s" }
                  reload { auto-rollback = true, bake-time = 20s, min-requests = 20 }
                  clusters {
                    good { endpoints = [ "127.0.0.1:%d" ] }
                    bad { endpoints = [ "127.0.0.1:%d" ] }
                  }
                  routes = [
                    { name = api, match { path-prefix = "/api" }, cluster = %s }
                    { name = web, match { path-prefix = "/" }, cluster = good }
                  ]
                }
                """.formatted(port, adminPort, stateFile, good, bad, apiCluster);
    }

    private HttpResponse<String> admin(int adminPort, String method, String path, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode versions(int adminPort) throws Exception {
        return json.readTree(admin(adminPort, "GET", "/api/v1/config/versions", null).body());
    }

    @Test
    void aBadReloadRollsItselfBackAndTheHistorySurvivesARestartOnTheRolledBackFile() throws Exception {
        int port = Ports.free();
        int adminPort = Ports.free();
        int good = upstream(200);
        int bad = upstream(503);
        Path stateFile = dir.resolve("bulwark-state.json");
        Path config = dir.resolve("bulwark.conf");
        Files.writeString(config, config(port, adminPort, stateFile, good, bad, "good"));

        List<Sample> samples = new CopyOnWriteArrayList<>();
        AtomicBoolean loading = new AtomicBoolean(true);
        List<Thread> load = new ArrayList<>();
        try (BulwarkProcess p = BulwarkProcess.start("run", "--config", config.toString())) {
            p.awaitReady(adminPort, Duration.ofSeconds(30));
            for (int c = 0; c < 2; c++) {
                Thread t = new Thread(() -> {
                    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                    while (loading.get()) {
                        long start = System.nanoTime();
                        int status;
                        try {
                            status = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                                    + "/api/x")).timeout(Duration.ofSeconds(10)).build(),
                                    HttpResponse.BodyHandlers.discarding()).statusCode();
                        } catch (Exception e) {
                            status = -1;
                        }
                        samples.add(new Sample(start, System.nanoTime(), status));
                        try {
                            Thread.sleep(10);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
                t.setDaemon(true);
                t.start();
                load.add(t);
            }
            Thread.sleep(2000);
            assertThat(samples).hasSizeGreaterThan(20).allMatch(s -> s.status() == 200);

            Files.writeString(config, config(port, adminPort, stateFile, good, bad, "bad"));
            long reloadAt = System.nanoTime();
            assertThat(admin(adminPort, "POST", "/api/v1/config/reload", null).statusCode()).isEqualTo(200);
            long rollbackSeen = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline) {
                if (versions(adminPort).get("running").asInt() == 3) {
                    rollbackSeen = System.nanoTime();
                    break;
                }
                Thread.sleep(20);
            }
            assertThat(rollbackSeen).as("rolled back within the bake time").isPositive();
            Thread.sleep(1500);
            loading.set(false);
            for (Thread t : load) {
                t.join(10_000);
            }
            JsonNode list = versions(adminPort).get("versions");
            JsonNode rollback = list.get(0);
            assertThat(rollback.get("source").asText()).isEqualTo("rollback");
            assertThat(rollback.get("detail").get("reason").asText()).isEqualTo("error_rate");
            long reloadToRollbackMs = java.time.Instant.parse(rollback.get("time").asText()).toEpochMilli()
                    - java.time.Instant.parse(list.get(1).get("time").asText()).toEpochMilli();
            final long seen = rollbackSeen;
            long errors = samples.stream().filter(s -> s.end() >= reloadAt && s.start() <= seen)
                    .filter(s -> s.status() != 200).count();
            List<Sample> after = samples.stream().filter(s -> s.start() > seen).toList();
            assertThat(after).hasSizeGreaterThan(20).allMatch(s -> s.status() == 200);
            assertThat(p.stdout()).anyMatch(l -> l.contains("WARN") && l.contains("Route api got worse"));
            System.out.printf("jar auto-rollback: reload -> rollback %d ms; client errors between reload and"
                    + " rollback: %d; after the rollback: 0 of %d%n", reloadToRollbackMs, errors, after.size());
            p.terminate();
            assertThat(p.awaitExit(Duration.ofSeconds(20))).isZero();
        }

        // The file still holds the rolled-back content: the restart runs the last good version instead.
        try (BulwarkProcess p = BulwarkProcess.start("run", "--config", config.toString())) {
            p.awaitReady(adminPort, Duration.ofSeconds(30));
            assertThat(p.stdout()).anyMatch(l -> l.contains("WARN") && l.contains("rolled back")
                    && l.contains("last good version 3"));
            JsonNode v = versions(adminPort);
            assertThat(v.get("running").asInt()).isEqualTo(4);
            assertThat(v.get("differs_from_file").asBoolean()).isTrue();
            assertThat(v.get("versions")).extracting(n -> n.get("number").asInt()).containsExactly(4, 3, 2, 1);
            assertThat(v.get("versions").get(0).get("detail").get("restored_from").asInt()).isEqualTo(3);
            assertThat(v.get("versions").get(2).get("rolled_back").asBoolean()).isTrue();
            assertThat(client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/x")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            assertThat(admin(adminPort, "GET", "/ready", null).body()).contains("differs from the config file");

            HttpResponse<String> manual = admin(adminPort, "POST", "/api/v1/config/rollback", "{\"to\": 1}");
            assertThat(manual.statusCode()).as(manual.body()).isEqualTo(200);
            assertThat(json.readTree(manual.body()).get("version").get("number").asInt()).isEqualTo(5);
            assertThat(admin(adminPort, "GET", "/metrics", null).body())
                    .containsPattern("bulwark_config_version(\\{})? 5.0")
                    .containsPattern("bulwark_config_rollbacks_total\\{reason=\"manual\"} 1.0");
        }
        assertThat(Files.readString(dir.resolve("bulwark-state.config-versions.json")))
                .contains("\"rolled_back\"").doesNotContain("\"token\":\"s");
    }
}
