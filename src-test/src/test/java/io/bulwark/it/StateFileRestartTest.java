package io.bulwark.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Operator overrides survive a restart through {@code admin.state-file}; a corrupt file is never fatal. */
class StateFileRestartTest {

    @TempDir
    Path dir;

    final HttpClient client = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();

    private Path config(int port, int adminPort, Path stateFile) throws Exception {
        Path config = dir.resolve("bulwark.conf");
        Files.writeString(config, """
                bulwark {
                  listener { host = "127.0.0.1", port = %d }
                  admin { port = %d, state-file = "%s" }
                  clusters { app { endpoints = [ "127.0.0.1:9", "127.0.0.1:10" ] } }
                  routes = [ { match { path-prefix = "/" }, cluster = app } ]
                }
                """.formatted(port, adminPort, stateFile));
        return config;
    }

    private HttpResponse<String> admin(int adminPort, String method, String path, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aDrainAndAWeightSurviveARestart() throws Exception {
        int port = Ports.free();
        int adminPort = Ports.free();
        Path stateFile = dir.resolve("state/bulwark-state.json");
        Path config = config(port, adminPort, stateFile);
        String upstream = "/api/v1/clusters/app/upstreams/127.0.0.1:9";
        try (BulwarkProcess first = BulwarkProcess.start("run", "--config", config.toString())) {
            first.awaitReady(adminPort, Duration.ofSeconds(30));
            assertThat(admin(adminPort, "POST", upstream + "/drain", null).statusCode()).isEqualTo(202);
            assertThat(admin(adminPort, "PUT", "/api/v1/clusters/app/upstreams/127.0.0.1:10/weight",
                    "{\"weight\":7}").statusCode()).isEqualTo(200);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while ((!Files.exists(stateFile) || !Files.readString(stateFile).contains("\"weight\":7"))
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(Files.readString(stateFile)).contains("\"drained\":true").contains("\"weight\":7");
            first.terminate();
            assertThat(first.awaitExit(Duration.ofSeconds(20))).isZero();
        }
        try (BulwarkProcess second = BulwarkProcess.start("run", "--config", config.toString())) {
            second.awaitReady(adminPort, Duration.ofSeconds(30));
            JsonNode drained = json.readTree(admin(adminPort, "GET", upstream, null).body());
            assertThat(drained.get("admin").asText()).isEqualTo("drained");
            assertThat(drained.get("eligible").asBoolean()).isFalse();
            JsonNode weighted = json.readTree(admin(adminPort, "GET",
                    "/api/v1/clusters/app/upstreams/127.0.0.1:10", null).body());
            assertThat(weighted.get("weight").asInt()).isEqualTo(7);
            JsonNode events = json.readTree(admin(adminPort, "GET", "/api/v1/events", null).body()).get("events");
            assertThat(events.toString()).contains("\"reason\":\"state_file\"");
        }
    }

    @Test
    void aCorruptStateFileIsReportedAndMovedAsideNotFatal() throws Exception {
        int port = Ports.free();
        int adminPort = Ports.free();
        Path stateFile = dir.resolve("bulwark-state.json");
        Files.writeString(stateFile, "{ this is not json");
        Path config = config(port, adminPort, stateFile);
        try (BulwarkProcess p = BulwarkProcess.start("run", "--config", config.toString())) {
            p.awaitReady(adminPort, Duration.ofSeconds(30));
            JsonNode events = json.readTree(admin(adminPort, "GET", "/api/v1/events", null).body()).get("events");
            assertThat(events.toString()).contains("state_file_unreadable");
            assertThat(p.stdout()).anyMatch(l -> l.contains("state file") && l.contains("unreadable"));
            try (Stream<Path> files = Files.list(dir)) {
                assertThat(files.map(f -> f.getFileName().toString()))
                        .anyMatch(n -> n.startsWith("bulwark-state.json.corrupt-"));
            }
            // Still fully working: a new override is persisted to a fresh file.
            assertThat(admin(adminPort, "POST", "/api/v1/clusters/app/upstreams/127.0.0.1:9/drain", null)
                    .statusCode()).isEqualTo(202);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!Files.exists(stateFile) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(Files.readString(stateFile)).contains("\"drained\":true");
        }
    }
}
