package io.bulwark.proxy.fleet;

import io.bulwark.admin.FleetControl;
import io.bulwark.admin.FleetOverride;
import io.bulwark.config.FleetConfig;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.routing.Clock;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.ratelimit.QuotaSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fleet's Redis client against a real {@code redis-server} this test starts (skipped where
 * there is none, failed under {@code CI=true}): a password from a file, the token-bucket script
 * (owed tokens, NOSCRIPT after a SCRIPT FLUSH), an override published from one client reaching
 * another.
 */
class RedisFleetTest {

    static final Path REDIS = Path.of(System.getProperty("bulwark.redis-server", "/usr/bin/redis-server"));

    @TempDir
    Path dir;

    final List<AutoCloseable> closeLater = new ArrayList<>();
    Process redis;
    int port;

    private void startRedis(String... extra) throws Exception {
        port = ProxyHarness.freePort();
        List<String> args = new ArrayList<>(List.of("--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString()));
        args.addAll(List.of(extra));
        redis = start(port, args);
    }

    /** Starts {@code redis-server args} and waits until it listens on {@code listenPort}. */
    private Process start(int listenPort, List<String> args) throws Exception {
        if (!Files.isExecutable(REDIS)) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new IllegalStateException("CI=true and no redis-server at " + REDIS);
            }
            Assumptions.abort("no redis-server at " + REDIS + " (apt-get install redis-server)");
        }
        List<String> cmd = new ArrayList<>(List.of(REDIS.toString()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis-" + listenPort + ".log").toFile()).start();
        others.add(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", listenPort), 200);
                return p;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(20);
            }
        }
    }

    final List<Process> others = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeLater) {
            c.close();
        }
        for (Process p : others) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** One inline command on a fresh connection (with AUTH first when {@code password} is set). */
    private String command(String password, String line) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(2000);
            String all = (password == null ? "" : "AUTH " + password + "\r\n") + line + "\r\n";
            s.getOutputStream().write(all.getBytes(StandardCharsets.UTF_8));
            Thread.sleep(100);
            byte[] buf = new byte[65536];
            int n = s.getInputStream().read(buf);
            return n <= 0 ? "" : new String(buf, 0, n, StandardCharsets.UTF_8);
        } catch (InterruptedException e) {
            throw new IOException(e);
        }
    }

    static final class Recorder implements FleetControl.Listener {
        final List<FleetOverride> applied = new CopyOnWriteArrayList<>();
        final List<String> seen = new CopyOnWriteArrayList<>();
        volatile Collection<FleetOverride> loaded;

        @Override
        public void applied(FleetOverride entry) {
            applied.add(entry);
        }

        @Override
        public void removed(String cluster, String address, FleetOverride.Kind kind, String id, String origin) {
        }

        @Override
        public void loaded(Collection<FleetOverride> all) {
            loaded = all;
        }

        @Override
        public void seen(String id, String member) {
            seen.add(id + " " + member);
        }

        @Override
        public List<FleetOverride> current() {
            return List.copyOf(applied);
        }
    }

    private RedisFleet fleet(String uri, Optional<Path> passwordFile, String member, List<StateEvent> events) {
        return fleet(uri, FleetConfig.Mode.STANDALONE, passwordFile, member, events);
    }

    private RedisFleet fleet(String uri, FleetConfig.Mode mode, Optional<Path> passwordFile, String member,
                             List<StateEvent> events) {
        FleetConfig config = new FleetConfig(uri, mode, passwordFile, "t", Duration.ofSeconds(3),
                FleetConfig.OnRedisDown.LOCAL, Duration.ofMillis(100));
        RedisFleet f = new RedisFleet(config, member, Clock.SYSTEM, events == null ? EventSink.NONE : events::add,
                new SimpleMeterRegistry());
        closeLater.add(f);
        return f;
    }

    private static String sha1(String script) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-1")
                .digest(script.getBytes(StandardCharsets.UTF_8)));
    }

    private static QuotaSource.Grant take(RedisFleet f, long owed, long want) throws Exception {
        return take(f, 10, owed, want);
    }

    private static QuotaSource.Grant take(RedisFleet f, double rate, long owed, long want) throws Exception {
        return f.take("r", "k", rate, 10, owed, want).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    @Test
    void aPasswordFromAFileAuthenticatesAndIsNeverShown() throws Exception {
        startRedis("--requirepass", "s3cret-pw");
        Path secret = dir.resolve("redis-password");
        Files.writeString(secret, "s3cret-pw\n");
        List<StateEvent> events = new CopyOnWriteArrayList<>();
        RedisFleet f = fleet("redis://127.0.0.1:" + port, Optional.of(secret), "m1", events);

        f.start(new Recorder(), Duration.ofSeconds(10));

        assertThat(f.up()).isTrue();
        assertThat(take(f, 0, 3).granted()).isEqualTo(3);
        assertThat(f.status().redis()).doesNotContain("s3cret");
        assertThat(events).extracting(StateEvent::type).contains("fleet_redis_up");
        assertThat(events.toString()).doesNotContain("s3cret");
    }

    @Test
    void theBucketChargesOwedRequestsAndSurvivesAScriptFlush() throws Exception {
        startRedis();
        RedisFleet f = fleet("redis://127.0.0.1:" + port, Optional.empty(), "m1", null);
        f.start(new Recorder(), Duration.ofSeconds(10));

        // 1 token a second, so the time between the calls hardly counts.
        assertThat(take(f, 1, 0, 10).granted()).as("a new bucket is full").isEqualTo(10);
        QuotaSource.Grant empty = take(f, 1, 5, 1);
        assertThat(empty.granted()).isZero();
        assertThat(empty.retryAfterMillis()).as("5 owed past empty: about 6 s until one token at 1/s")
                .isBetween(4000L, 6000L);

        assertThat(command(null, "SCRIPT FLUSH")).contains("OK");
        assertThat(take(f, 1, 0, 1).granted()).as("NOSCRIPT: loaded again, still in debt").isZero();
        assertThat(command(null, "SCRIPT EXISTS " + sha1(FleetScripts.TAKE))).contains(":1");
        assertThat(f.status().members()).extracting(FleetControl.Member::id).containsExactly("m1");
    }

    @Test
    void anOverridePublishedByOneMemberReachesAnotherAndIsAcknowledged() throws Exception {
        startRedis();
        RedisFleet one = fleet("redis://127.0.0.1:" + port, Optional.empty(), "one", null);
        RedisFleet two = fleet("redis://127.0.0.1:" + port, Optional.empty(), "two", null);
        Recorder r1 = new Recorder();
        Recorder r2 = new Recorder();
        one.start(r1, Duration.ofSeconds(10));
        two.start(r2, Duration.ofSeconds(10));

        FleetOverride o = new FleetOverride("c", "127.0.0.1:1", FleetOverride.Kind.DRAIN, "draining", 0, "one",
                System.currentTimeMillis(), "id-1", null);
        one.publish(o);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!(r2.applied.contains(o) && r1.seen.contains("id-1 two")) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(r2.applied).containsExactly(o);
        assertThat(r1.seen).contains("id-1 two");
        assertThat(command(null, "HGET bulwark:{t}:overrides c|127.0.0.1:1|drain")).contains("draining");
        // A member that starts later loads it from the hash.
        RedisFleet three = fleet("redis://127.0.0.1:" + port, Optional.empty(), "three", null);
        Recorder r3 = new Recorder();
        three.start(r3, Duration.ofSeconds(10));
        assertThat(r3.loaded).containsExactly(o);
    }

    @Test
    void aRedisClusterWorksThroughAnyNode() throws Exception {
        startRedis("--cluster-enabled", "yes", "--cluster-config-file", "nodes-" + System.nanoTime() + ".conf");
        assertThat(command(null, "CLUSTER ADDSLOTSRANGE 0 16383")).contains("OK");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!command(null, "CLUSTER INFO").contains("cluster_state:ok") && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        RedisFleet f = fleet("redis://127.0.0.1:" + port, FleetConfig.Mode.CLUSTER, Optional.empty(), "m1", null);
        Recorder r = new Recorder();

        f.start(r, Duration.ofSeconds(10));

        assertThat(f.up()).isTrue();
        assertThat(take(f, 0, 4).granted()).isEqualTo(4);
        FleetOverride o = new FleetOverride("c", "127.0.0.1:1", FleetOverride.Kind.WEIGHT, "3", 0, "m1",
                System.currentTimeMillis(), "id-c", null);
        f.publish(o);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!r.applied.contains(o) && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertThat(r.applied).as("published and heard back through the cluster").contains(o);
    }

    @Test
    void aSentinelUriFindsTheMaster() throws Exception {
        startRedis();
        int sentinelPort = ProxyHarness.freePort();
        Path conf = dir.resolve("sentinel.conf");
        Files.writeString(conf, "port " + sentinelPort + "\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 "
                + port + " 1\n");
        start(sentinelPort, List.of(conf.toString(), "--sentinel"));
        RedisFleet f = fleet("redis-sentinel://127.0.0.1:" + sentinelPort + "/0#mymaster", FleetConfig.Mode.SENTINEL,
                Optional.empty(), "m1", null);

        f.start(new Recorder(), Duration.ofSeconds(10));

        assertThat(f.up()).isTrue();
        assertThat(take(f, 0, 2).granted()).isEqualTo(2);
        assertThat(command(null, "EXISTS bulwark:{t}:rl:r:k")).as("the bucket is on the master").contains(":1");
    }
}
