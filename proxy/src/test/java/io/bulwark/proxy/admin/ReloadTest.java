package io.bulwark.proxy.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.routing.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Safe hot reload (CONTRACT §2): rejected whole or swapped atomically, state carried over. */
class ReloadTest {

    static final ObjectMapper JSON = new ObjectMapper();

    TestUpstream a;
    TestUpstream b;
    ProxyHarness proxy;

    static String config(String aAddress, String bAddress, String extraRoute) {
        return """
                clusters { app { endpoints = [ "%s", "%s" ] } }
                routes = [ %s { name = main, match { path-prefix = "/" }, cluster = app } ]
                """.formatted(aAddress, bAddress, extraRoute);
    }

    @BeforeEach
    void start() throws Exception {
        a = TestUpstream.start("a", TestUpstream.echo("a"));
        b = TestUpstream.start("b", TestUpstream.echo("b"));
        proxy = ProxyHarness.start(config(a.address(), b.address(), ""), "", "", Cluster.Resolver.SYSTEM);
    }

    @AfterEach
    void stop() {
        proxy.close();
        a.close();
        b.close();
    }

    @Test
    void anInvalidConfigIsRejectedWholeAndTheOldOneKeepsServing() throws Exception {
        proxy.rewrite("""
                clusters { app { endpoints = [ "%s" ], load-balancer = round-robbin } }
                routes = [ { name = other, match { path-prefix = "/other" }, cluster = nope } ]
                """.formatted(a.address()));
        HttpResponse<String> r = proxy.admin("POST", "/api/v1/config/reload", "");
        assertThat(r.statusCode()).isEqualTo(422);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("problems").toString())
                .contains("bulwark.clusters.app.load-balancer")
                .contains("bulwark.routes[0].cluster");
        assertThat(proxy.get("/still/served").statusCode()).isEqualTo(200);
        assertThat(proxy.bulwark().snapshot().routes().routes()).extracting(rt -> rt.name()).containsExactly("main");
        assertThat(proxy.admin("/metrics").body())
                .containsPattern("bulwark_config_reloads_total\\{result=\"failure\"} 1");
        JsonNode events = JSON.readTree(proxy.admin("/api/v1/events?limit=1").body()).get("events");
        assertThat(events.get(0).get("type").asText()).isEqualTo("reload");
        assertThat(events.get(0).get("reason").asText()).isEqualTo("rejected");
    }

    @Test
    void aValidConfigIsSwappedIn() throws Exception {
        proxy.rewrite(config(a.address(), b.address(),
                "{ name = only-a, match { path-prefix = \"/a\" }, cluster = only-a },")
                .replace("clusters {", "clusters { only-a { endpoints = [ \"" + a.address() + "\" ] }\n"));
        HttpResponse<String> r = proxy.admin("POST", "/api/v1/config/reload", "");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).get("result").asText()).isEqualTo("accepted");
        for (int i = 0; i < 5; i++) {
            assertThat(proxy.get("/a/" + i).body()).contains("\"upstream\":\"a\"");
        }
        assertThat(proxy.admin("/metrics").body())
                .containsPattern("bulwark_config_reloads_total\\{result=\"success\"} 1");
    }

    @Test
    void aDrainedUpstreamStaysDrainedAcrossAReload() throws Exception {
        String path = "/api/v1/clusters/app/upstreams/" + a.address();
        assertThat(proxy.admin("POST", path + "/drain", null).statusCode()).isEqualTo(202);
        // A changed cluster (new pool setting) is rebuilt; the drain must carry over to it.
        proxy.rewrite(config(a.address(), b.address(), "")
                .replace("] } }", "], pool { idle-timeout = 10s } } }"));
        assertThat(proxy.admin("POST", "/api/v1/config/reload", "").statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(proxy.admin(path).body()).get("admin").asText()).isIn("draining", "drained");
        int before = a.requests();
        for (int i = 0; i < 6; i++) {
            assertThat(proxy.get("/x/" + i).body()).contains("\"upstream\":\"b\"");
        }
        assertThat(a.requests()).isEqualTo(before);
    }

    @Test
    void anEjectedUpstreamStaysEjectedAcrossAReloadThatChangesItsCluster() throws Exception {
        a.behaviour((req, n) -> TestUpstream.Reply.status(503));
        for (int i = 0; i < 20 && JSON.readTree(proxy.admin("/api/v1/clusters/app/upstreams/" + a.address()).body())
                .get("outlier").isNull(); i++) {
            proxy.get("/fail/" + i);
        }
        String path = "/api/v1/clusters/app/upstreams/" + a.address();
        JsonNode before = JSON.readTree(proxy.admin(path).body()).get("outlier");
        assertThat(before.isNull()).isFalse();
        proxy.rewrite(config(a.address(), b.address(), "").replace("] } }", "], pool { idle-timeout = 11s } } }"));
        assertThat(proxy.admin("POST", "/api/v1/config/reload", "").statusCode()).isEqualTo(200);
        JsonNode after = JSON.readTree(proxy.admin(path).body());
        assertThat(after.get("outlier").isNull()).as("still ejected after the reload").isFalse();
        assertThat(after.get("outlier").get("ejected_until").asText()).isEqualTo(before.get("ejected_until").asText());
        assertThat(after.get("eligible").asBoolean()).isFalse();
    }

    @Test
    void sighupStyleReloadAndWatchConfigPickUpAFileChange() throws Exception {
        proxy.rewrite("watch-config = true\n" + config(a.address(), b.address(), ""));
        assertThat(proxy.bulwark().reload("test").accepted()).isTrue();
        proxy.rewrite("watch-config = true\n" + config(a.address(), b.address(),
                "{ name = watched, match { path-exact = \"/watched\" }, cluster = app },"));
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.bulwark().snapshot().routes().routes().stream()
                .anyMatch(rt -> rt.name().equals("watched")));
        assertThat(proxy.get("/watched").statusCode()).isEqualTo(200);
    }

    @Test
    void keepAliveLoadSeesNoErrorsAcrossTwentyReloads() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        java.util.List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread[] clients = new Thread[4];
        for (int c = 0; c < clients.length; c++) {
            clients[c] = new Thread(() -> {
                try (RawHttp raw = new RawHttp(proxy.port())) {
                    while (running.get()) {
                        raw.send("GET /load HTTP/1.1\r\nHost: x\r\n\r\n");
                        RawHttp.Response r = raw.read();
                        if (r != null && r.status() == 200) {
                            ok.incrementAndGet();
                        } else {
                            errors.incrementAndGet();
                            failures.add(r == null ? "connection closed" : r.status() + " " + r.body());
                        }
                    }
                } catch (Exception e) {
                    errors.incrementAndGet();
                    failures.add(e.toString());
                }
            });
            clients[c].start();
        }
        for (int i = 0; i < 20; i++) {
            // Alternate between two real configurations so every reload swaps something.
            String pool = i % 2 == 0 ? "10s" : "20s";
            proxy.rewrite(config(a.address(), b.address(), "").replace("] } }",
                    "], pool { idle-timeout = " + pool + " } } }"));
            assertThat(proxy.admin("POST", "/api/v1/config/reload", "").statusCode()).isEqualTo(200);
            Thread.sleep(50);
        }
        running.set(false);
        for (Thread t : clients) {
            t.join(10_000);
        }
        assertThat(errors.get()).as(failures.toString()).isZero();
        assertThat(ok.get()).isGreaterThan(100);
    }
}
