package io.bulwark.proxy.scenario;

import io.bulwark.admin.ConfigVersions;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.routing.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code reload.auto-rollback} under steady load: a reload that sends {@code /api} to a cluster
 * whose upstreams answer 503 is rolled back within the bake time, and no request sent after the
 * rollback fails; a reload that does no harm stays.
 */
class AutoRollbackScenarioTest {

    /** One client request: when it started and ended (nanoTime) and its status. */
    record Sample(long start, long end, int status) {
    }

    TestUpstream good;
    TestUpstream bad;
    ProxyHarness proxy;
    final List<Sample> samples = new CopyOnWriteArrayList<>();
    final AtomicBoolean loading = new AtomicBoolean(true);
    final List<Thread> clients = new CopyOnWriteArrayList<>();

    String config(String apiCluster, String apiExtra, String bakeTime) {
        return """
                reload { auto-rollback = true, bake-time = %s, min-requests = 20 }
                clusters {
                  good { endpoints = [ "%s" ] }
                  bad { endpoints = [ "%s" ] }
                }
                routes = [
                  { name = api, match { path-prefix = "/api" }, cluster = %s %s }
                  { name = web, match { path-prefix = "/" }, cluster = good }
                ]
                """.formatted(bakeTime, good.address(), bad.address(), apiCluster, apiExtra);
    }

    @BeforeEach
    void start() throws Exception {
        good = TestUpstream.start("good", TestUpstream.echo("good"));
        bad = TestUpstream.start("bad", (req, n) -> TestUpstream.Reply.status(503));
    }

    @AfterEach
    void stop() throws Exception {
        loading.set(false);
        for (Thread t : clients) {
            t.join(10_000);
        }
        if (proxy != null) {
            proxy.close();
        }
        good.close();
        bad.close();
    }

    /** Two clients sending GET /api/... back to back, about 100 requests a second each at most. */
    void steadyLoad() {
        for (int c = 0; c < 2; c++) {
            Thread t = new Thread(() -> {
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(5)).build();
                while (loading.get()) {
                    long start = System.nanoTime();
                    int status;
                    try {
                        status = client.send(HttpRequest.newBuilder(proxy.uri("/api/item"))
                                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding())
                                .statusCode();
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
            }, "load-" + c);
            t.setDaemon(true);
            t.start();
            clients.add(t);
        }
    }

    @Test
    void aReloadToAFailingClusterIsRolledBackWithinTheBakeTimeAndNothingFailsAfter() throws Exception {
        proxy = ProxyHarness.start(config("good", "", "20s"), "", "", Cluster.Resolver.SYSTEM);
        steadyLoad();
        Thread.sleep(2000); // a baseline: /api answering 200 for a while
        assertThat(samples).as("load is flowing").hasSizeGreaterThan(20).allMatch(s -> s.status() == 200);

        proxy.rewrite(config("bad", "", "20s"));
        long reloadAt = System.nanoTime();
        assertThat(proxy.admin("POST", "/api/v1/config/reload", "").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10)).until(() ->
                proxy.bulwark().versions().current().orElseThrow().source().equals("rollback"));
        long rollbackSeen = System.nanoTime();
        Thread.sleep(1500); // steady load on the rolled-back config
        loading.set(false);
        for (Thread t : clients) {
            t.join(10_000);
        }

        ConfigVersions versions = proxy.bulwark().versions();
        ConfigVersions.Version rollback = versions.current().orElseThrow();
        ConfigVersions.Version reload = versions.get(2).orElseThrow();
        long reloadToRollbackMs = rollback.timeMillis() - reload.timeMillis();
        assertThat(rollback.number()).isEqualTo(3);
        assertThat(rollback.detail()).containsEntry("rolled_back_to", 1).containsEntry("reason", "error_rate");
        assertThat(reloadToRollbackMs).as("within the bake time").isLessThan(20_000);
        long errorsInWindow = samples.stream().filter(s -> s.end() >= reloadAt && s.start() <= rollbackSeen)
                .filter(s -> s.status() >= 500 || s.status() < 0).count();
        List<Sample> after = samples.stream().filter(s -> s.start() > rollbackSeen).toList();
        assertThat(after).as("load after the rollback").hasSizeGreaterThan(20);
        assertThat(after).as("no client error after the rollback").allMatch(s -> s.status() == 200);
        assertThat(proxy.bulwark().snapshot().config().routes().get(0).clusters().get(0).name()).isEqualTo("good");
        assertThat(proxy.admin("/metrics").body())
                .containsPattern("bulwark_config_rollbacks_total\\{reason=\"error_rate\"} 1.0");
        com.fasterxml.jackson.databind.JsonNode event = null;
        for (com.fasterxml.jackson.databind.JsonNode e : new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(proxy.admin("/api/v1/events?limit=10").body()).get("events")) {
            if (e.get("type").asText().equals("config_rollback")) {
                event = e;
            }
        }
        assertThat(event).as("a config_rollback event").isNotNull();
        assertThat(event.get("detail").get("route").asText()).isEqualTo("api");
        assertThat(event.get("detail").get("version").asInt()).isEqualTo(3);
        assertThat(event.get("detail").get("watched_version").asInt()).isEqualTo(2);
        // A request or two in flight across the swap may still finish 200 on the old config.
        assertThat(event.get("detail").get("after_error_rate").asDouble()).isGreaterThan(80.0);
        assertThat(event.get("detail").get("before_error_rate").asDouble()).isZero();
        System.out.printf("auto-rollback: reload -> rollback %d ms; client 5xx between reload and rollback: %d;"
                + " requests after the rollback: %d, failed: 0%n", reloadToRollbackMs, errorsInWindow, after.size());
    }

    @Test
    void aReloadThatDoesNoHarmStaysAfterTheBakeTime() throws Exception {
        proxy = ProxyHarness.start(config("good", "", "3s"), "", "", Cluster.Resolver.SYSTEM);
        steadyLoad();
        Thread.sleep(1500);
        proxy.rewrite(config("good", ", timeout = 5s", "3s"));
        assertThat(proxy.admin("POST", "/api/v1/config/reload", "").statusCode()).isEqualTo(200);
        assertThat(proxy.bulwark().versions().current().orElseThrow().changes().routesChanged())
                .containsKey("api");
        Thread.sleep(4500); // past the bake time, under load
        assertThat(samples.stream().filter(s -> s.status() == 200).count()).as("load flowed").isGreaterThan(100);
        assertThat(samples).allMatch(s -> s.status() == 200);
        assertThat(proxy.bulwark().versions().current().orElseThrow().number()).isEqualTo(2);
        assertThat(proxy.bulwark().snapshot().config().routes().get(0).timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(proxy.admin("/metrics").body())
                .containsPattern("bulwark_config_rollbacks_total\\{reason=\"error_rate\"} 0.0")
                .containsPattern("bulwark_config_rollbacks_total\\{reason=\"latency\"} 0.0");
    }
}
