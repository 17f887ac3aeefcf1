package io.bulwark.proxy.health;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.routing.Upstream;
import io.grpc.Grpc;
import io.grpc.Server;
import io.grpc.TlsServerCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code health-check.grpc-service} against real grpc-java servers and their
 * {@link HealthStatusManager}: {@code grpc.health.v1.Health/Check} over h2c (or h2 over TLS) takes an upstream out
 * when its service turns NOT_SERVING and brings it back when it serves again.
 */
class GrpcHealthCheckTest {

    private final List<Server> servers = new ArrayList<>();
    private final List<String> addresses = new ArrayList<>();
    private ProxyHarness proxy;

    @AfterEach
    void stop() throws InterruptedException {
        if (proxy != null) {
            proxy.close();
        }
        for (Server s : servers) {
            s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private HealthStatusManager grpcServer() throws Exception {
        HealthStatusManager health = new HealthStatusManager();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(health.getHealthService())
                .build()
                .start();
        servers.add(server);
        addresses.add("127.0.0.1:" + server.getPort());
        return health;
    }

    private String address(int index) {
        return addresses.get(index);
    }

    private Upstream upstream(String cluster, int index) {
        return proxy.bulwark().snapshot().clusters().get(cluster).upstreams().stream()
                .filter(u -> u.address().equals(address(index))).findFirst().orElseThrow();
    }

    private void awaitHealth(String cluster, int index, Upstream.Health health) {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(upstream(cluster, index).health()).isEqualTo(health));
    }

    @Test
    void aServiceThatStopsServingIsTakenOutAndComesBackWhenItServesAgain() throws Exception {
        HealthStatusManager a = grpcServer();
        HealthStatusManager b = grpcServer();
        a.setStatus("pkg.Users", ServingStatus.SERVING);
        b.setStatus("pkg.Users", ServingStatus.SERVING);
        proxy = ProxyHarness.start("""
                clusters { users {
                  endpoints = [ "%s", "%s" ]
                  health-check { grpc-service = "pkg.Users", interval = 100ms, timeout = 1s,
                                 unhealthy-threshold = 2, healthy-threshold = 2 }
                } }
                routes = [ { cluster = users } ]
                """.formatted(address(0), address(1)));
        awaitHealth("users", 0, Upstream.Health.HEALTHY);
        awaitHealth("users", 1, Upstream.Health.HEALTHY);

        b.setStatus("pkg.Users", ServingStatus.NOT_SERVING);
        awaitHealth("users", 1, Upstream.Health.UNHEALTHY);
        assertThat(upstream("users", 1).eligible()).isFalse();
        assertThat(upstream("users", 0).health()).isEqualTo(Upstream.Health.HEALTHY);
        assertThat(proxy.admin("/api/v1/events?limit=20").body()).contains("\"type\":\"health_flip\"")
                .contains("NOT_SERVING");

        b.setStatus("pkg.Users", ServingStatus.SERVING);
        awaitHealth("users", 1, Upstream.Health.HEALTHY);
        assertThat(upstream("users", 1).eligible()).isTrue();
    }

    @Test
    void theWholeServerIsCheckedWithAnEmptyServiceAndAnUnknownServiceFails() throws Exception {
        HealthStatusManager server = grpcServer(); // "" is SERVING from the start in HealthStatusManager
        proxy = ProxyHarness.start("""
                clusters {
                  whole { endpoints = [ "%s" ], health-check { grpc-service = "", interval = 100ms,
                          unhealthy-threshold = 1, healthy-threshold = 1 } }
                  unknown { endpoints = [ "%s" ], health-check { grpc-service = "no.Such", interval = 100ms,
                            unhealthy-threshold = 1, healthy-threshold = 1 } }
                }
                routes = [ { cluster = whole } ]
                """.formatted(address(0), address(0)));
        awaitHealth("whole", 0, Upstream.Health.HEALTHY);
        awaitHealth("unknown", 0, Upstream.Health.UNHEALTHY); // grpc-status 5 NOT_FOUND

        server.enterTerminalState(); // every service NOT_SERVING, as before a graceful shutdown
        awaitHealth("whole", 0, Upstream.Health.UNHEALTHY);
    }

    @Test
    void overTlsTheCheckSpeaksH2ByAlpn(@TempDir Path dir) throws Exception {
        X509Bundle ca = new CertificateBuilder().subject("CN=Bulwark Test CA").setIsCertificateAuthority(true).ecp256()
                .buildSelfSigned();
        X509Bundle cert = new CertificateBuilder().subject("CN=localhost").addSanIpAddress("127.0.0.1").ecp256()
                .buildIssuedBy(ca);
        Path caFile = Files.writeString(dir.resolve("ca.pem"), ca.getCertificatePEM());
        Path certFile = Files.writeString(dir.resolve("server.pem"), cert.getCertificatePathPEM());
        Path keyFile = Files.writeString(dir.resolve("server.key"), cert.getPrivateKeyPEM());
        HealthStatusManager health = new HealthStatusManager();
        Server server = Grpc.newServerBuilderForPort(0, TlsServerCredentials.create(certFile.toFile(), keyFile.toFile()))
                .addService(health.getHealthService())
                .build()
                .start();
        servers.add(server);
        addresses.add("127.0.0.1:" + server.getPort());
        health.setStatus("pkg.Users", ServingStatus.SERVING);
        proxy = ProxyHarness.start("""
                clusters { secure { endpoints = [ "%s" ], tls = true, tls-ca-file = "%s",
                           health-check { grpc-service = "pkg.Users", interval = 100ms, unhealthy-threshold = 1,
                                          healthy-threshold = 1 } } }
                routes = [ { cluster = secure } ]
                """.formatted(address(0), caFile));
        awaitHealth("secure", 0, Upstream.Health.HEALTHY);
        health.setStatus("pkg.Users", ServingStatus.NOT_SERVING);
        awaitHealth("secure", 0, Upstream.Health.UNHEALTHY);
        health.setStatus("pkg.Users", ServingStatus.SERVING);
        awaitHealth("secure", 0, Upstream.Health.HEALTHY);
    }

    @Test
    void aServerThatIsGoneFailsItsChecks() throws Exception {
        HealthStatusManager server = grpcServer();
        server.setStatus("", ServingStatus.SERVING);
        proxy = ProxyHarness.start("""
                clusters { svc { endpoints = [ "%s" ], health-check { grpc-service = "", interval = 100ms,
                           timeout = 500ms, unhealthy-threshold = 1, healthy-threshold = 1 } } }
                routes = [ { cluster = svc } ]
                """.formatted(address(0)));
        awaitHealth("svc", 0, Upstream.Health.HEALTHY);
        servers.get(0).shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        awaitHealth("svc", 0, Upstream.Health.UNHEALTHY);
    }
}
