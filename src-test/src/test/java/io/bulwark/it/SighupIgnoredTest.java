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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Started with SIGHUP ignored (as under {@code nohup}), {@code kill -HUP} cannot reload: the jar
 * says so at start-up, at WARN, naming the reload paths that work, and {@code /api/v1/config}
 * leaves {@code sighup} out of {@code reload_paths}.
 */
class SighupIgnoredTest {

    @TempDir
    Path dir;

    @Test
    void startUpWarnsThatSighupCannotReloadAndNamesTheOtherPaths() throws Exception {
        int port = Ports.free();
        int adminPort = Ports.free();
        Path config = dir.resolve("bulwark.conf");
        Files.writeString(config, """
                bulwark {
                  listener { host = "127.0.0.1", port = %d }
                  admin { port = %d }
                  clusters { app { endpoints = [ "127.0.0.1:%d" ] } }
                  routes = [ { name = app, match { path-prefix = "/" }, cluster = app } ]
                }
                """.formatted(port, adminPort, Ports.free()));
        try (BulwarkProcess bulwark = BulwarkProcess.startWithSighupIgnored("run", "--config", config.toString())) {
            bulwark.awaitReady(adminPort, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (bulwark.stdout().stream().noneMatch(l -> l.contains("SIGHUP")) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(bulwark.stdout()).as(bulwark.output()).anySatisfy(line -> assertThat(line)
                    .contains("WARN")
                    .contains("SIGHUP is ignored")
                    .contains("POST /api/v1/config/reload")
                    .contains("watch-config"));

            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + adminPort + "/api/v1/config")).build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode paths = new ObjectMapper().readTree(r.body()).get("reload_paths");
            assertThat(paths.toString()).isEqualTo("[\"admin_api\"]");

            // And indeed: the signal neither reloads nor stops it.
            bulwark.signal("HUP");
            Thread.sleep(500); // nothing to wait for: this checks that nothing happens
            assertThat(bulwark.isAlive()).isTrue();
            assertThat(bulwark.stdout()).noneMatch(l -> l.contains("Received SIGHUP"));
        }
    }
}
