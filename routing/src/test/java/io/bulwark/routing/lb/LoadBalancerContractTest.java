package io.bulwark.routing.lb;

import io.bulwark.config.HashKey;
import io.bulwark.config.LoadBalancerKind;
import io.bulwark.routing.HostSet;
import io.bulwark.routing.TestConfigs;
import io.bulwark.routing.TestHosts;
import io.bulwark.routing.TestRequest;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** What every balancer promises, whatever its algorithm: usable hosts only, avoid honoured, null only when nothing is usable. */
class LoadBalancerContractTest {

    private final TestHosts hosts = new TestHosts();

    private static LoadBalancer create(LoadBalancerKind kind) {
        return LoadBalancers.create(TestConfigs.cluster("c", kind, new HashKey(HashKey.Source.HEADER, "x-user-id"), "127.0.0.1:1"));
    }

    /** Requests with varying keys, so ring-hash is exercised across the ring too. */
    private static TestRequest request(int i) {
        return TestRequest.get("/").header("x-user-id", "user-" + i);
    }

    @ParameterizedTest
    @EnumSource(LoadBalancerKind.class)
    void returnsNullOnlyWhenNothingIsUsable(LoadBalancerKind kind) {
        LoadBalancer lb = create(kind);
        assertThat(lb.choose(HostSet.EMPTY, request(0), Set.of())).isNull();

        List<Upstream> all = hosts.upstreams(2);
        all.forEach(u -> u.setAdmin(Upstream.AdminState.DRAINING));
        HostSet drained = TestHosts.hostSet(all);
        assertThat(drained.usable()).isEmpty();
        assertThat(lb.choose(drained, request(0), Set.of())).isNull();
        assertThat(lb.choose(drained, request(0), Set.copyOf(all))).isNull();
    }

    @ParameterizedTest
    @EnumSource(LoadBalancerKind.class)
    void neverPicksAnAvoidedHostWhileAnotherIsUsable(LoadBalancerKind kind) {
        LoadBalancer lb = create(kind);
        List<Upstream> all = hosts.upstreams(4);
        HostSet set = TestHosts.hostSet(all);

        Set<Upstream> seen = new HashSet<>();
        for (int i = 0; i < 400; i++) {
            Upstream chosen = lb.choose(set, request(i), Set.of(all.get(0), all.get(2)));
            assertThat(chosen).isIn(all.get(1), all.get(3));
            seen.add(chosen);
            assertThat(lb.choose(set, request(i), Set.of(all.get(0), all.get(1), all.get(2)))).isSameAs(all.get(3));
        }
        assertThat(seen).containsExactlyInAnyOrder(all.get(1), all.get(3));
    }

    @ParameterizedTest
    @EnumSource(LoadBalancerKind.class)
    void fallsBackToAvoidedHostsWhenEveryUsableHostIsAvoided(LoadBalancerKind kind) {
        LoadBalancer lb = create(kind);
        List<Upstream> all = hosts.upstreams(3);
        HostSet set = TestHosts.hostSet(all);

        for (int i = 0; i < 50; i++) {
            assertThat(lb.choose(set, request(i), Set.copyOf(all))).isIn(all);
        }
        Upstream stranger = hosts.upstream("10.9.9.9:80", 1);
        assertThat(lb.choose(set, request(0), Set.of(stranger))).isIn(all);
    }

    @ParameterizedTest
    @EnumSource(LoadBalancerKind.class)
    void neverPicksDrainedOrUnhealthyHosts(LoadBalancerKind kind) {
        LoadBalancer lb = create(kind);
        List<Upstream> all = hosts.upstreams(5);
        all.get(0).setAdmin(Upstream.AdminState.DRAINING);
        all.get(1).setHealth(Upstream.Health.UNHEALTHY);
        HostSet set = TestHosts.hostSet(all);
        assertThat(set.panic()).isFalse();

        Set<Upstream> seen = new HashSet<>();
        for (int i = 0; i < 600; i++) {
            seen.add(lb.choose(set, request(i), Set.of()));
        }
        assertThat(seen).containsExactlyInAnyOrder(all.get(2), all.get(3), all.get(4));
    }

    @ParameterizedTest
    @EnumSource(LoadBalancerKind.class)
    void panicModeBalancesOverEveryNonDrainedHost(LoadBalancerKind kind) {
        LoadBalancer lb = create(kind);
        List<Upstream> all = hosts.upstreams(4);
        all.get(0).setHealth(Upstream.Health.UNHEALTHY);
        all.get(1).setHealth(Upstream.Health.UNHEALTHY);
        all.get(2).setAdmin(Upstream.AdminState.DRAINING);
        HostSet set = TestHosts.hostSet(all); // 1 of 4 eligible: 25% < 50%
        assertThat(set.panic()).isTrue();

        Set<Upstream> seen = new HashSet<>();
        for (int i = 0; i < 600; i++) {
            seen.add(lb.choose(set, request(i), Set.of()));
        }
        assertThat(seen).containsExactlyInAnyOrder(all.get(0), all.get(1), all.get(3));
    }
}
