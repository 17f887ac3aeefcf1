package io.bulwark.routing;

import io.bulwark.config.LoadBalancerKind;
import io.bulwark.routing.lb.LoadBalancer;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterTest {

    private final ManualClock clock = new ManualClock();

    private static InetAddress ip(int last) throws UnknownHostException {
        return InetAddress.getByAddress(new byte[] {10, 0, 0, (byte) last});
    }

    @Test
    void failedResolutionKeepsEachEndpointsPreviousAddressesOnce() throws Exception {
        Cluster cluster = new Cluster(TestConfigs.cluster("svc", "svc.internal:80", "svc.internal:81", "127.0.0.1:9000"), clock);
        AtomicBoolean dnsDown = new AtomicBoolean();
        Cluster.Resolver resolver = host -> {
            if (dnsDown.get()) {
                throw new UnknownHostException(host);
            }
            return List.of(ip(1), ip(2));
        };

        cluster.resolve(resolver);
        List<Upstream> before = cluster.upstreams();
        assertThat(before).extracting(Upstream::address)
                .containsExactly("10.0.0.1:80", "10.0.0.2:80", "10.0.0.1:81", "10.0.0.2:81", "127.0.0.1:9000");

        dnsDown.set(true);
        cluster.resolve(resolver);

        assertThat(cluster.upstreams()).containsExactlyElementsOf(before);
    }

    @Test
    void reResolvingKeepsSurvivingUpstreamsWithTheirState() throws Exception {
        Cluster cluster = new Cluster(TestConfigs.cluster("svc", "svc.internal:80"), clock);
        List<List<InetAddress>> answers = List.of(List.of(ip(1), ip(2)), List.of(ip(2), ip(3)));
        int[] call = {0};
        Cluster.Resolver resolver = host -> answers.get(call[0]++);

        cluster.resolve(resolver);
        Upstream survivor = cluster.upstream("10.0.0.2:80");
        survivor.onRequestStart();
        cluster.resolve(resolver);

        assertThat(cluster.upstreams()).extracting(Upstream::address).containsExactly("10.0.0.2:80", "10.0.0.3:80");
        assertThat(cluster.upstream("10.0.0.2:80")).isSameAs(survivor);
        assertThat(survivor.activeRequests()).isEqualTo(1);
    }

    @Test
    void stateChangeRebuildsTheHostSet() {
        Cluster cluster = new Cluster(TestConfigs.cluster("svc", "127.0.0.1:9001", "127.0.0.1:9002"), clock);
        cluster.resolve(Cluster.Resolver.SYSTEM);
        assertThat(cluster.hostSet().usable()).hasSize(2);

        cluster.upstream("127.0.0.1:9001").setHealth(Upstream.Health.UNHEALTHY);

        assertThat(cluster.hostSet().usable()).extracting(Upstream::address).containsExactly("127.0.0.1:9002");
    }

    @Test
    void eachThreadsRoundRobinStartsAtADifferentHost() throws Exception {
        // Fresh clusters each time: with a start chosen at random per thread, two threads' first picks
        // would coincide one time in three.
        for (int round = 0; round < 20; round++) {
            Cluster cluster = new Cluster(TestConfigs.cluster("svc", "127.0.0.1:9001", "127.0.0.1:9002",
                    "127.0.0.1:9003"), clock);
            cluster.resolve(Cluster.Resolver.SYSTEM);
            Upstream first = cluster.loadBalancer().choose(cluster.hostSet(), TestRequest.get("/"), java.util.Set.of());
            Upstream second = CompletableFuture.supplyAsync(() -> cluster.loadBalancer()
                    .choose(cluster.hostSet(), TestRequest.get("/"), java.util.Set.of())).get();
            Upstream third = CompletableFuture.supplyAsync(() -> cluster.loadBalancer()
                    .choose(cluster.hostSet(), TestRequest.get("/"), java.util.Set.of())).get();

            assertThat(java.util.List.of(first, second, third)).doesNotHaveDuplicates();
        }
    }

    @Test
    void eachThreadGetsItsOwnBalancer() throws Exception {
        Cluster cluster = new Cluster(TestConfigs.cluster("svc", LoadBalancerKind.LEAST_REQUEST, null, "127.0.0.1:9001"), clock);
        LoadBalancer here = cluster.loadBalancer();
        LoadBalancer there = CompletableFuture.supplyAsync(cluster::loadBalancer).get();

        assertThat(cluster.loadBalancer()).isSameAs(here);
        assertThat(there).isNotSameAs(here);
    }
}
