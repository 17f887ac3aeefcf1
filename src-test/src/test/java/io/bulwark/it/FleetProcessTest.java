package io.bulwark.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fleet mode end to end: three Bulwark processes (the built jar) in one fleet, sharing a
 * {@code redis-server} the test starts, kills and starts again. One scenario in order: the global
 * limit holds across the three; a fleet drain on one sidecar reaches all three within a second;
 * with Redis killed every sidecar keeps serving (local shares), and once Redis is back (empty) the
 * drain is in force again, also on a sidecar started afterwards.
 */
@ExtendWith(RequiresRedis.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetProcessTest {

    /** The global limit: requests per second (and burst) for the whole fleet. */
    static final int RATE = 40;

    @TempDir
    static Path dir;

    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    final ObjectMapper json = new ObjectMapper();
    final List<HttpServer> upstreams = new ArrayList<>();
    final Map<Integer, AtomicInteger> hits = new ConcurrentHashMap<>();
    final List<Sidecar> sidecars = new ArrayList<>();
    RedisServer redis;
    int u1;
    int u2;

    record Sidecar(String name, int port, int adminPort, Path config, BulwarkProcess[] process) {
        BulwarkProcess proc() {
            return process[0];
        }
    }

    @BeforeAll
    void startFleet() throws Exception {
        redis = new RedisServer(Ports.free(), dir).start();
        u1 = upstream();
        u2 = upstream();
        for (String name : List.of("a", "b", "c")) {
            int port = Ports.free();
            int adminPort = Ports.free();
            Path config = dir.resolve(name + ".conf");
            Files.writeString(config, """
                    bulwark {
                      access-log { enabled = false }
                      listener { host = "127.0.0.1", port = %d }
                      admin { port = %d }
                      fleet { redis = "%s", name = "it", member-ttl = 3s }
                      clusters { app { endpoints = [ "127.0.0.1:%d", "127.0.0.1:%d" ] } }
                      routes = [
                        { name = limited, match { path-prefix = "/limited" }, cluster = app,
                          rate-limit { requests-per-second = %d, burst = %d, scope = global } }
                        { name = open, match { path-prefix = "/" }, cluster = app }
                      ]
                    }
                    """.formatted(port, adminPort, redis.uri(), u1, u2, RATE, RATE));
            sidecars.add(new Sidecar(name, port, adminPort, config,
                    new BulwarkProcess[] {BulwarkProcess.start("run", "--config", config.toString())}));
        }
        for (Sidecar s : sidecars) {
            s.proc().awaitReady(s.adminPort(), Duration.ofSeconds(60));
        }
        // Every sidecar sees the three members (the local shares are rate / 3 from then on).
        for (Sidecar s : sidecars) {
            awaitTrue(Duration.ofSeconds(15), () -> fleet(s).get("members").size() == 3
                    && fleet(s).path("redis").path("connected").asBoolean(), "three members seen by " + s.name());
        }
    }

    private int upstream() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        int port = server.getAddress().getPort();
        AtomicInteger count = new AtomicInteger();
        hits.put(port, count);
        server.createContext("/", exchange -> {
            count.incrementAndGet();
            byte[] body = ("upstream " + port).getBytes();
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
        server.start();
        upstreams.add(server);
        return port;
    }

    @AfterAll
    void stopFleet() throws Exception {
        for (Sidecar s : sidecars) {
            s.proc().close();
        }
        upstreams.forEach(u -> u.stop(0));
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    @Order(1)
    void aGlobalLimitHoldsAcrossThreeSidecars() throws Exception {
        Duration run = Duration.ofSeconds(6);
        AtomicLong allowed = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        Map<Integer, AtomicInteger> other = new ConcurrentHashMap<>();
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        long end = start + run.toNanos();
        for (Sidecar s : sidecars) {
            for (int t = 0; t < 2; t++) {
                Thread thread = new Thread(() -> {
                    while (System.nanoTime() < end) {
                        try {
                            int code = get(s, "/limited").statusCode();
                            if (code == 200) {
                                allowed.incrementAndGet();
                            } else if (code == 429) {
                                refused.incrementAndGet();
                            } else {
                                other.computeIfAbsent(code, c -> new AtomicInteger()).incrementAndGet();
                            }
                        } catch (Exception e) {
                            other.computeIfAbsent(-1, c -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                });
                thread.start();
                threads.add(thread);
            }
        }
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long expected = Math.round(RATE + RATE * seconds); // a full bucket, then the refill
        System.out.printf("global limit %d/s over %.1f s across 3 sidecars: %d allowed (expected %d), %d refused%n",
                RATE, seconds, allowed.get(), expected, refused.get());
        assertThat(other).as("only 200 and 429").isEmpty();
        assertThat(refused.get()).as("the load was over the limit").isGreaterThan(allowed.get());
        // Within 25% of the fleet-wide rate; each sidecar alone would have let through three times as much.
        assertThat((double) allowed.get()).isBetween(expected * 0.75, expected * 1.25);
        String metrics = metrics(sidecars.get(0));
        assertThat(metrics).contains("bulwark_global_rate_limit_decisions_total{by=\"redis\",route=\"limited\"}");
        assertThat(metrics).contains("bulwark_fleet_redis_up 1.0");
    }

    @Test
    @Order(2)
    void aFleetDrainOnOneSidecarStopsTrafficFromAllThreeWithinASecond() throws Exception {
        Sidecar a = sidecars.get(0);
        String path = "/api/v1/clusters/app/upstreams/127.0.0.1:" + u1;
        HttpResponse<String> drained = admin(a, "POST", path + "/drain?scope=fleet&note=maintenance", null);
        long issued = System.nanoTime();
        assertThat(drained.statusCode()).isEqualTo(202);
        JsonNode answer = json.readTree(drained.body());
        assertThat(answer.get("admin").asText()).isNotEqualTo("active");
        assertThat(answer.path("fleet").path("seen_by").toString()).contains(member(a));
        Map<String, Long> tookMs = new TreeMap<>();
        for (Sidecar s : sidecars) {
            awaitTrue(Duration.ofSeconds(1), () -> !upstreamState(s, u1).get("admin").asText().equals("active"),
                    "the fleet drain on " + s.name());
            tookMs.put(s.name(), (System.nanoTime() - issued) / 1_000_000);
            assertThat(upstreamState(s, u1).path("override_origin").path("admin").asText()).isEqualTo("fleet");
        }
        System.out.println("fleet drain in force on each sidecar after (ms): " + tookMs);
        int before = hits.get(u1).get();
        for (Sidecar s : sidecars) {
            for (int i = 0; i < 20; i++) {
                assertThat(get(s, "/").statusCode()).isEqualTo(200);
            }
        }
        assertThat(hits.get(u1).get()).as("no request reached the drained upstream").isEqualTo(before);
        // Each sidecar's event log says where the drain came from; the issuer sees every member's ack.
        JsonNode events = json.readTree(admin(sidecars.get(2), "GET", "/api/v1/events", null).body()).get("events");
        assertThat(events.toString()).contains("\"source\":\"fleet\"").contains(member(a));
        awaitTrue(Duration.ofSeconds(5), () -> fleet(a).get("overrides").get(0).get("seen_by").size() == 3,
                "all three members acknowledged the drain");
    }

    @Test
    @Order(3)
    void withRedisKilledEverySidecarKeepsServingAndTheDrainIsBackAfterIt() throws Exception {
        redis.kill();
        for (Sidecar s : sidecars) {
            awaitTrue(Duration.ofSeconds(5), () -> !fleet(s).path("redis").path("connected").asBoolean(),
                    s.name() + " sees Redis down");
        }
        int before = hits.get(u1).get();
        for (Sidecar s : sidecars) {
            int ok = 0;
            for (int i = 0; i < 30; i++) {
                long t0 = System.nanoTime();
                int code = get(s, "/limited").statusCode();
                assertThat(code).as("the local share answers: 200 or 429, never an error").isIn(200, 429);
                assertThat((System.nanoTime() - t0) / 1_000_000).as("no stall on a dead Redis").isLessThan(1000);
                ok += code == 200 ? 1 : 0;
                assertThat(get(s, "/").statusCode()).isEqualTo(200);
            }
            assertThat(ok).as(s.name() + " let some through on its share").isPositive();
            assertThat(metrics(s)).contains("bulwark_fleet_redis_up 0.0")
                    .contains("bulwark_global_rate_limit_decisions_total{by=\"local\",route=\"limited\"}");
        }
        assertThat(hits.get(u1).get()).as("the drain held through the outage").isEqualTo(before);
        JsonNode events = json.readTree(admin(sidecars.get(1), "GET", "/api/v1/events", null).body()).get("events");
        assertThat(events.toString()).contains("fleet_redis_down");

        redis.start(); // empty: no persistence
        for (Sidecar s : sidecars) {
            awaitTrue(Duration.ofSeconds(15), () -> fleet(s).path("redis").path("connected").asBoolean(),
                    s.name() + " back on Redis");
        }
        awaitTrue(Duration.ofSeconds(5), () -> redis.command("HGETALL bulwark:{it}:overrides").contains("draining"),
                "the drain written back to the empty Redis");
        for (Sidecar s : sidecars) {
            assertThat(upstreamState(s, u1).get("admin").asText()).isNotEqualTo("active");
        }

        // A sidecar that starts now loads the drain before it serves.
        Sidecar c = sidecars.get(2);
        c.proc().terminate();
        assertThat(c.proc().awaitExit(Duration.ofSeconds(30))).isZero();
        c.process()[0] = BulwarkProcess.start("run", "--config", c.config().toString());
        c.proc().awaitReady(c.adminPort(), Duration.ofSeconds(60));
        JsonNode state = upstreamState(c, u1);
        assertThat(state.get("admin").asText()).isNotEqualTo("active");
        assertThat(state.path("override_origin").path("admin").asText()).isEqualTo("fleet");

        // And a fleet restore brings it back everywhere.
        assertThat(admin(sidecars.get(1), "POST", "/api/v1/clusters/app/upstreams/127.0.0.1:" + u1
                + "/restore?scope=fleet", null).statusCode()).isEqualTo(200);
        for (Sidecar s : sidecars) {
            awaitTrue(Duration.ofSeconds(2), () -> upstreamState(s, u1).get("admin").asText().equals("active"),
                    "the fleet restore on " + s.name());
        }
    }

    // ---- helpers

    private HttpResponse<String> get(Sidecar s, String path) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> admin(Sidecar s, String method, String path, String body)
            throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.adminPort() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode fleet(Sidecar s) throws IOException, InterruptedException {
        return json.readTree(admin(s, "GET", "/api/v1/fleet", null).body());
    }

    private String member(Sidecar s) throws IOException, InterruptedException {
        return fleet(s).get("member").asText();
    }

    private JsonNode upstreamState(Sidecar s, int port) throws IOException, InterruptedException {
        return json.readTree(admin(s, "GET", "/api/v1/clusters/app/upstreams/127.0.0.1:" + port, null).body());
    }

    private String metrics(Sidecar s) throws IOException, InterruptedException {
        return admin(s, "GET", "/metrics", null).body();
    }

    interface Check {
        boolean ok() throws Exception;
    }

    private static void awaitTrue(Duration timeout, Check check, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (check.ok()) {
                    return;
                }
            } catch (IOException | RuntimeException notYet) {
                // try again
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            Thread.sleep(10);
        }
    }
}
