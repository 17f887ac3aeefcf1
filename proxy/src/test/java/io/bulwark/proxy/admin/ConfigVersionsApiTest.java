package io.bulwark.proxy.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.routing.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Config versions and manual rollback on a real proxy (CONTRACT §7): listing, one version, rollback
 * through the reload's swap, the running config differing from the file, the watcher leaving a
 * rolled-back file alone, operator drains surviving, and the 400/404/409 answers.
 */
class ConfigVersionsApiTest {

    static final ObjectMapper JSON = new ObjectMapper();

    TestUpstream a;
    TestUpstream b;
    ProxyHarness proxy;

    String config(String mainCluster, String extra) {
        return """
                %s
                clusters {
                  app { endpoints = [ "%s", "%s" ] }
                  only-b { endpoints = [ "%s" ] }
                }
                routes = [ { name = main, match { path-prefix = "/" }, cluster = %s } ]
                """.formatted(extra, a.address(), b.address(), b.address(), mainCluster);
    }

    @BeforeEach
    void start() throws Exception {
        a = TestUpstream.start("a", TestUpstream.echo("a"));
        b = TestUpstream.start("b", TestUpstream.echo("b"));
    }

    void startProxy(String extra) throws Exception {
        proxy = ProxyHarness.start(config("app", extra), "", "", Cluster.Resolver.SYSTEM);
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        a.close();
        b.close();
    }

    JsonNode json(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        return JSON.readTree(r.body());
    }

    @Test
    void everyConfigIsAVersionAndARollbackToVersionOneSwapsItBackAndSaysTheFileDiffers() throws Exception {
        startProxy("");
        proxy.rewrite(config("only-b", ""));
        json(proxy.admin("POST", "/api/v1/config/reload", ""), 200);
        JsonNode list = json(proxy.admin("/api/v1/config/versions"), 200);
        assertThat(list.get("running").asInt()).isEqualTo(2);
        assertThat(list.get("versions")).extracting(v -> v.get("number").asInt()).containsExactly(2, 1);
        JsonNode v2 = list.get("versions").get(0);
        assertThat(v2.get("source").asText()).isEqualTo("admin_api");
        assertThat(v2.get("hash").asText()).hasSize(64);
        assertThat(v2.get("changes").get("routes_changed").get("main").toString()).contains("cluster");
        assertThat(v2.get("summary").asText()).contains("routes changed: main (cluster)");
        assertThat(list.get("versions").get(1).get("source").asText()).isEqualTo("start");
        JsonNode one = json(proxy.admin("/api/v1/config/versions/1"), 200);
        assertThat(one.get("config").get("bulwark").get("routes").get(0).get("cluster").asText()).isEqualTo("app");
        for (int i = 0; i < 4; i++) {
            assertThat(proxy.get("/x").body()).contains("\"upstream\":\"b\"");
        }

        JsonNode rolled = json(proxy.admin("POST", "/api/v1/config/rollback", "{\"to\": 1}"), 200);
        assertThat(rolled.get("result").asText()).isEqualTo("rolled_back");
        assertThat(rolled.get("version").get("number").asInt()).isEqualTo(3);
        assertThat(rolled.get("version").get("detail").get("rolled_back_to").asInt()).isEqualTo(1);
        assertThat(rolled.get("version").get("detail").get("reason").asText()).isEqualTo("manual");
        int before = a.requests();
        for (int i = 0; i < 4; i++) {
            proxy.get("/x");
        }
        assertThat(a.requests()).as("version 1 balances over a and b again").isGreaterThan(before);

        JsonNode config = json(proxy.admin("/api/v1/config"), 200);
        assertThat(config.get("config_version").get("running").asInt()).isEqualTo(3);
        assertThat(config.get("config_version").get("differs_from_file").asBoolean()).isTrue();
        assertThat(config.get("config_version").get("note").asText()).contains("rolled back to version 1");
        JsonNode summary = json(proxy.admin("/api/v1/summary"), 200); // what the console shows
        assertThat(summary.get("config_version").get("running").asInt()).isEqualTo(3);
        assertThat(summary.get("config_version").get("differs_from_file").asBoolean()).isTrue();
        assertThat(proxy.admin("/ready").body()).startsWith("ready\n").contains("differs from the config file");
        assertThat(json(proxy.admin("/api/v1/config/versions"), 200).get("versions").get(1)
                .get("rolled_back").asBoolean()).isTrue();
        String metrics = proxy.admin("/metrics").body();
        assertThat(metrics).containsPattern("bulwark_config_version(\\{})? 3.0")
                .containsPattern("bulwark_config_rollbacks_total\\{reason=\"manual\"} 1.0")
                .containsPattern("bulwark_config_rollbacks_total\\{reason=\"error_rate\"} 0.0");
        JsonNode events = json(proxy.admin("/api/v1/events?limit=3"), 200).get("events");
        assertThat(events.toString()).contains("\"type\":\"config_version\"").contains("\"type\":\"config_rollback\"");

        // Reloading the file on purpose applies it again: the running config is the file's once more.
        json(proxy.admin("POST", "/api/v1/config/reload", ""), 200);
        assertThat(json(proxy.admin("/api/v1/config"), 200).get("config_version").get("differs_from_file")
                .asBoolean()).isFalse();
        assertThat(proxy.admin("/ready").body()).isEqualTo("ready\n");
    }

    @Test
    void badRollbackAndVersionCallsAreAnsweredWithAJsonReason() throws Exception {
        startProxy("");
        assertThat(json(proxy.admin("POST", "/api/v1/config/rollback", ""), 409).get("message").asText())
                .contains("no earlier version");
        assertThat(json(proxy.admin("POST", "/api/v1/config/rollback", "{\"to\": 1}"), 409).get("message")
                .asText()).contains("already running");
        assertThat(json(proxy.admin("POST", "/api/v1/config/rollback", "{\"to\": 7}"), 404).get("error")
                .asText()).isEqualTo("not_found");
        assertThat(json(proxy.admin("POST", "/api/v1/config/rollback", "{\"to\": \"one\"}"), 400).get("error")
                .asText()).isEqualTo("bad_request");
        json(proxy.admin("POST", "/api/v1/config/rollback", "{\"to\": 0}"), 400);
        json(proxy.admin("POST", "/api/v1/config/rollback", "{\"too\": 1}"), 400);
        json(proxy.admin("POST", "/api/v1/config/rollback", "not json"), 400);
        json(proxy.admin("GET", "/api/v1/config/rollback", null), 405);
        json(proxy.admin("/api/v1/config/versions/abc"), 400);
        json(proxy.admin("/api/v1/config/versions/9"), 404);
    }

    @Test
    void theWatcherDoesNotReapplyARolledBackFileUntilItChangesAgain() throws Exception {
        startProxy("watch-config = true");
        proxy.rewrite(config("only-b", "watch-config = true"));
        await().atMost(Duration.ofSeconds(15)).until(() -> proxy.bulwark().versions().current().orElseThrow()
                .number() == 2);
        assertThat(proxy.bulwark().versions().current().orElseThrow().source()).isEqualTo("file_change");
        assertThat(proxy.bulwark().rollback(java.util.OptionalInt.empty()).version().number()).isEqualTo(3);
        Thread.sleep(3000); // three watcher polls: the rolled-back file must stay out
        assertThat(proxy.bulwark().versions().current().orElseThrow().number()).isEqualTo(3);
        assertThat(proxy.bulwark().snapshot().config().routes().get(0).clusters().get(0).name()).isEqualTo("app");

        proxy.rewrite(config("only-b", "watch-config = true\nshutdown.drain-timeout = 4s"));
        await().atMost(Duration.ofSeconds(15)).until(() -> proxy.bulwark().versions().current().orElseThrow()
                .number() == 4);
        assertThat(proxy.bulwark().snapshot().config().routes().get(0).clusters().get(0).name()).isEqualTo("only-b");
    }

    @Test
    void anOperatorDrainSurvivesAReloadAndARollback() throws Exception {
        startProxy("");
        String path = "/api/v1/clusters/app/upstreams/" + a.address();
        assertThat(proxy.admin("POST", path + "/drain", null).statusCode()).isEqualTo(202);
        proxy.rewrite(config("app", "").replace("\" ] }\n  only-b", "\" ], pool { idle-timeout = 10s } }\n  only-b"));
        json(proxy.admin("POST", "/api/v1/config/reload", ""), 200);
        assertThat(proxy.bulwark().snapshot().config().clusters().get("app").pool().idleTimeout())
                .isEqualTo(Duration.ofSeconds(10));
        assertThat(json(proxy.admin(path), 200).get("admin").asText()).isIn("draining", "drained");
        json(proxy.admin("POST", "/api/v1/config/rollback", "{}"), 200);
        assertThat(proxy.bulwark().snapshot().config().clusters().get("app").pool().idleTimeout())
                .isEqualTo(Duration.ofSeconds(30));
        assertThat(json(proxy.admin(path), 200).get("admin").asText()).isIn("draining", "drained");
        int before = a.requests();
        for (int i = 0; i < 6; i++) {
            assertThat(proxy.get("/x/" + i).body()).contains("\"upstream\":\"b\"");
        }
        assertThat(a.requests()).isEqualTo(before);
    }
}
