package io.bulwark.proxy.health;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ClusterConfig;
import io.bulwark.config.ConfigLoader;
import io.bulwark.config.HealthCheckConfig;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import io.bulwark.proxy.tls.TlsContexts;
import io.bulwark.proxy.transport.Transport;
import io.bulwark.routing.Clock;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.Upstream.Health;
import io.bulwark.routing.health.DelayScheduler;
import io.bulwark.routing.health.HealthCheckListener;
import io.bulwark.routing.health.HealthCheckScheduler;
import io.bulwark.routing.health.HealthCheckState;
import io.bulwark.routing.health.ProbeResult;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Health checks over a kept-alive connection per upstream, against a real local upstream: checks
 * reuse one connection, and reuse never hides a host that hangs or closes the connection mid-check.
 */
class NettyProberTest {

    /** Every 50 ms, 300 ms timeout, out after 2 failures, back after 1 pass. */
    private static final HealthCheckConfig FAST =
            new HealthCheckConfig("/health", Duration.ofMillis(50), Duration.ofMillis(300), 2, 1);

    private final Transport transport = Transport.best();
    private final MultiThreadIoEventLoopGroup group = transport.newGroup(1, "prober-test");
    private final EventLoop loop = group.next();
    private final ClusterConfig cluster = clusterConfig();
    private final NettyProber prober = new NettyProber(loop, transport, new TlsContexts(), cluster);

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    private static ClusterConfig clusterConfig() {
        try {
            BulwarkConfig config = ConfigLoader.parse("""
                    bulwark {
                      listener { port = 1 }
                      clusters { app { endpoints = [ "127.0.0.1:1" ] } }
                      routes = [ { cluster = app } ]
                    }""");
            return config.clusters().get("app");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Upstream upstream(TestUpstream server) {
        return new Upstream("app", server.address(), new InetSocketAddress("127.0.0.1", server.port()), 1,
                Clock.SYSTEM, () -> { });
    }

    private ProbeResult probeOnce(Upstream u) throws Exception {
        CompletableFuture<ProbeResult> result = new CompletableFuture<>();
        prober.probe(u, "/health", Duration.ofSeconds(2), result::complete);
        return result.get(5, TimeUnit.SECONDS);
    }

    private HealthCheckScheduler scheduler() {
        return new HealthCheckScheduler(FAST, prober, DelayScheduler.of(loop), Clock.SYSTEM, EventSink.NONE,
                HealthCheckListener.NONE, () -> 0, Duration.ZERO);
    }

    @Test
    void checksReuseOneKeptAliveConnection() throws Exception {
        try (TestUpstream server = TestUpstream.start("a", (req, n) -> Reply.ok("ok"))) {
            Upstream u = upstream(server);
            for (int i = 0; i < 20; i++) {
                assertThat(probeOnce(u)).isEqualTo(ProbeResult.response(200));
            }
            assertThat(server.requests()).isEqualTo(20);
            assertThat(server.connectionsAccepted()).isEqualTo(1);
            assertThat(server.received()).allSatisfy(r -> {
                assertThat(r.uri()).isEqualTo("/health");
                assertThat(r.headers().get("host")).isEqualTo(server.address());
                assertThat(r.headers().contains("connection")).isFalse();
            });
        }
    }

    @Test
    void aConnectionTheUpstreamClosedWhileIdleIsReplacedWithoutAFailedCheck() throws Exception {
        try (TestUpstream server = TestUpstream.start("a", (req, n) -> Reply.ok("ok"))) {
            Upstream u = upstream(server);
            assertThat(probeOnce(u)).isEqualTo(ProbeResult.response(200));
            server.closeAllConnections(); // the upstream's own idle timeout

            assertThat(probeOnce(u)).isEqualTo(ProbeResult.response(200));
            assertThat(probeOnce(u)).isEqualTo(ProbeResult.response(200));
            assertThat(server.connectionsAccepted()).isEqualTo(2);
        }
    }

    @Test
    void aStatusThatIsNotTwoHundredFailsAndTheConnectionIsStillReused() throws Exception {
        try (TestUpstream server = TestUpstream.start("a", (req, n) -> Reply.status(503))) {
            Upstream u = upstream(server);
            assertThat(probeOnce(u)).isEqualTo(ProbeResult.response(503));
            assertThat(probeOnce(u)).isEqualTo(ProbeResult.response(503));
            assertThat(server.connectionsAccepted()).isEqualTo(1);
        }
    }

    @Test
    void aHostThatHangsMidCheckOnAReusedConnectionIsMarkedFailed() throws Exception {
        try (TestUpstream server = TestUpstream.start("a", (req, n) -> Reply.ok("ok"))) {
            Upstream u = upstream(server);
            HealthCheckScheduler scheduler = scheduler();
            scheduler.update(List.of(u));
            await().atMost(Duration.ofSeconds(5)).until(() -> u.health() == Health.HEALTHY && server.requests() >= 3);
            assertThat(server.connectionsAccepted()).as("healthy checks share a connection").isEqualTo(1);

            server.behaviour((req, n) -> Reply.ok("never sent").delayed(60_000)); // answers nothing
            await().atMost(Duration.ofSeconds(5)).until(() -> u.health() == Health.UNHEALTHY);
            HealthCheckState state = scheduler.state(u).orElseThrow();
            assertThat(state.lastResult()).hasValue(ProbeResult.timeout());
            assertThat(server.connectionsAccepted())
                    .as("the first hung check ran on the kept connection, each later one on a new one")
                    .isGreaterThanOrEqualTo(2);
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() <= 1);

            server.behaviour((req, n) -> Reply.ok("ok"));
            await().atMost(Duration.ofSeconds(5)).until(() -> u.health() == Health.HEALTHY);
            scheduler.close();
        }
    }

    @Test
    void aHostThatClosesTheConnectionMidCheckIsMarkedFailed() throws Exception {
        try (TestUpstream server = TestUpstream.start("a", (req, n) -> Reply.ok("ok"))) {
            Upstream u = upstream(server);
            HealthCheckScheduler scheduler = scheduler();
            scheduler.update(List.of(u));
            await().atMost(Duration.ofSeconds(5)).until(() -> u.health() == Health.HEALTHY && server.requests() >= 3);

            server.behaviour((req, n) -> Reply.closeConnection());
            await().atMost(Duration.ofSeconds(5)).until(() -> u.health() == Health.UNHEALTHY);
            assertThat(scheduler.state(u).orElseThrow().lastResult().orElseThrow().describe())
                    .isEqualTo("error: connection closed before a response");
            scheduler.close();
        }
    }

    @Test
    void aDeadHostFailsToConnect() throws Exception {
        Upstream u;
        try (TestUpstream server = TestUpstream.start("a", (req, n) -> Reply.ok("ok"))) {
            u = upstream(server);
            assertThat(probeOnce(u)).isEqualTo(ProbeResult.response(200));
        }
        ProbeResult afterDeath = probeOnce(u);
        assertThat(afterDeath.passed()).isFalse();
        assertThat(probeOnce(u).outcome()).isEqualTo(ProbeResult.Outcome.CONNECT_FAILURE);
    }

    @Test
    void releaseClosesTheKeptConnection() throws Exception {
        try (TestUpstream server = TestUpstream.start("a", (req, n) -> Reply.ok("ok"))) {
            Upstream u = upstream(server);
            assertThat(probeOnce(u)).isEqualTo(ProbeResult.response(200));
            assertThat(server.openConnections()).isEqualTo(1);

            prober.release(u);
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0);
            assertThat(loop.submit(prober::kept).get()).isZero();
        }
    }
}
