package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.routing.Cluster;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A hostname endpoint is re-resolved every dns-refresh; each address it resolves to is an upstream. */
class DnsRefreshTest {

    @Test
    void trafficFollowsTheAddressesAHostnameResolvesTo() throws Exception {
        int port = ProxyHarness.freePort();
        try (TestUpstream first = TestUpstream.start("first", TestUpstream.echo("first"), "127.0.0.1", port);
             TestUpstream second = TestUpstream.start("second", TestUpstream.echo("second"), "127.0.0.2", port)) {
            AtomicReference<List<InetAddress>> answer =
                    new AtomicReference<>(List.of(InetAddress.getByName("127.0.0.1")));
            Cluster.Resolver fakeDns = host -> {
                assertThat(host).isEqualTo("svc.test");
                return answer.get();
            };
            try (ProxyHarness proxy = ProxyHarness.start("""
                    clusters { svc { endpoints = [ "svc.test:%d" ], dns-refresh = 200ms } }
                    routes = [ { match { path-prefix = "/" }, cluster = svc } ]
                    """.formatted(port), "", fakeDns)) {
                assertThat(proxy.get("/a").body()).contains("\"upstream\":\"first\"");
                assertThat(proxy.bulwark().snapshot().clusters().get("svc").upstreams())
                        .extracting(u -> u.address()).containsExactly("127.0.0.1:" + port);

                answer.set(List.of(InetAddress.getByName("127.0.0.2")));
                await().atMost(Duration.ofSeconds(5)).until(() -> proxy.bulwark().snapshot().clusters().get("svc")
                        .upstreams().stream().anyMatch(u -> u.address().equals("127.0.0.2:" + port)));
                for (int i = 0; i < 5; i++) {
                    assertThat(proxy.get("/b/" + i).body()).contains("\"upstream\":\"second\"");
                }
                assertThat(proxy.bulwark().snapshot().clusters().get("svc").upstreams())
                        .extracting(u -> u.address()).containsExactly("127.0.0.2:" + port);
            }
        }
    }
}
