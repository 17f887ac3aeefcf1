package io.bulwark.routing.outlier;

import io.bulwark.config.ClusterConfig;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.HostSet;
import io.bulwark.routing.ManualClock;
import io.bulwark.routing.TestConfigs;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

import static io.bulwark.routing.outlier.OutlierFixture.respond;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class SlowStartTest {

    private final OutlierFixture f = new OutlierFixture();

    private Upstream ejectAndReadmit() {
        Upstream u = f.host(1);
        respond(u, 500, 5);
        f.clock.advance(Duration.ofSeconds(30));
        f.cluster.tick();
        assertThat(u.eligible()).isTrue();
        return u;
    }

    @Test
    void aReadmittedHostRampsFromTenPercentToFullWeightOverSlowStart() {
        f.weight = 10;
        f.slowStart = Duration.ofSeconds(60);
        f.build();
        assertThat(f.host(1).effectiveWeight()).isEqualTo(10.0); // no ramp at cluster start

        Upstream u = ejectAndReadmit();

        assertThat(u.effectiveWeight()).isCloseTo(1.0, within(1e-9)); // 0% of the ramp: the 10% floor
        assertThat(u.warmingUp()).isTrue();
        f.clock.advance(Duration.ofSeconds(3));
        assertThat(u.effectiveWeight()).isCloseTo(1.0, within(1e-9)); // 5% of the ramp: still the floor
        f.clock.advance(Duration.ofSeconds(27));
        assertThat(u.effectiveWeight()).isCloseTo(5.0, within(1e-9)); // 50%
        f.clock.advance(Duration.ofSeconds(30));
        assertThat(u.effectiveWeight()).isEqualTo(10.0); // 100%
        assertThat(u.warmingUp()).isFalse();
        assertThat(u.weight()).isEqualTo(10);
    }

    @Test
    void withoutSlowStartTheEffectiveWeightIsTheWeight() {
        f.weight = 10;
        f.build();

        Upstream u = ejectAndReadmit();

        assertThat(u.effectiveWeight()).isEqualTo(10.0);
        assertThat(u.warmingUp()).isFalse();
    }

    @Test
    void healthComingBackAndRestoreFromDrainRampToo() {
        f.weight = 4;
        f.slowStart = Duration.ofSeconds(40);
        f.build();
        Upstream checked = f.host(1);
        Upstream drained = f.host(2);

        checked.setHealth(Upstream.Health.HEALTHY); // unknown -> healthy: eligible throughout, no ramp
        assertThat(checked.warmingUp()).isFalse();
        checked.setHealth(Upstream.Health.UNHEALTHY);
        checked.setHealth(Upstream.Health.HEALTHY);
        drained.setAdmin(Upstream.AdminState.DRAINING);
        drained.setAdmin(Upstream.AdminState.ACTIVE);
        f.clock.advance(Duration.ofSeconds(20));

        assertThat(checked.effectiveWeight()).isCloseTo(2.0, within(1e-9));
        assertThat(drained.effectiveWeight()).isCloseTo(2.0, within(1e-9));
        assertThat(f.host(3).effectiveWeight()).isEqualTo(4.0);
    }

    @Test
    void hostsAddedByDnsToARunningClusterRampButTheFirstOnesDoNot() throws Exception {
        ManualClock clock = new ManualClock();
        ClusterConfig base = TestConfigs.cluster("svc", "svc.internal:80");
        ClusterConfig config = new ClusterConfig(base.name(), base.endpoints(), base.dnsRefresh(), base.tls(),
                base.loadBalancer(), base.hashKey(), base.connectTimeout(), base.pool(), base.limits(),
                base.healthCheck(), base.outlierDetection(), base.panicThreshold(), Duration.ofSeconds(10),
                base.circuitBreaker());
        Cluster cluster = new Cluster(config, clock);
        InetAddress a = InetAddress.getByAddress(new byte[] {10, 0, 0, 1});
        InetAddress b = InetAddress.getByAddress(new byte[] {10, 0, 0, 2});
        List<List<InetAddress>> answers = List.of(List.of(a), List.of(a, b));
        int[] call = {0};
        Cluster.Resolver resolver = host -> answers.get(call[0]++);

        cluster.resolve(resolver);
        assertThat(cluster.upstream("10.0.0.1:80").warmingUp()).isFalse();
        cluster.resolve(resolver);

        assertThat(cluster.upstream("10.0.0.1:80").effectiveWeight()).isEqualTo(1.0);
        assertThat(cluster.upstream("10.0.0.2:80").effectiveWeight()).isCloseTo(0.1, within(1e-9));
        clock.advance(Duration.ofSeconds(5));
        assertThat(cluster.upstream("10.0.0.2:80").effectiveWeight()).isCloseTo(0.5, within(1e-9));
    }

    @Test
    void tickRepublishesTheHostSetWhileAHostWarmsUpAndOnceAfter() {
        f.slowStart = Duration.ofSeconds(15);
        f.build();
        ejectAndReadmit();

        HostSet before = f.cluster.hostSet();
        f.clock.advance(Duration.ofSeconds(10));
        f.cluster.tick(); // still warming: a new snapshot for balancers that read weights at rebuild
        HostSet during = f.cluster.hostSet();
        f.clock.advance(Duration.ofSeconds(10));
        f.cluster.tick(); // warm now: one more, at full weight
        HostSet after = f.cluster.hostSet();
        f.clock.advance(Duration.ofSeconds(10));
        f.cluster.tick();

        assertThat(during).isNotSameAs(before);
        assertThat(after).isNotSameAs(during);
        assertThat(f.cluster.hostSet()).isSameAs(after);
    }
}
