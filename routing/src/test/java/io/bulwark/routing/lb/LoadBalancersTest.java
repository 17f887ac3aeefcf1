package io.bulwark.routing.lb;

import io.bulwark.config.HashKey;
import io.bulwark.config.LoadBalancerKind;
import io.bulwark.routing.HostSet;
import io.bulwark.routing.TestConfigs;
import io.bulwark.routing.TestHosts;
import io.bulwark.routing.TestRequest;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class LoadBalancersTest {

    private static LoadBalancer create(LoadBalancerKind kind, HashKey key) {
        return LoadBalancers.create(TestConfigs.cluster("c", kind, key, "127.0.0.1:1"));
    }

    @Test
    void createsTheBalancerTheConfigNames() {
        HashKey key = new HashKey(HashKey.Source.HEADER, "x-user-id");
        assertThat(create(LoadBalancerKind.ROUND_ROBIN, null)).isInstanceOf(RoundRobinLoadBalancer.class);
        assertThat(create(LoadBalancerKind.LEAST_REQUEST, null)).isInstanceOf(LeastRequestLoadBalancer.class);
        assertThat(create(LoadBalancerKind.RANDOM, null)).isInstanceOf(RandomLoadBalancer.class);
        assertThat(create(LoadBalancerKind.EWMA, null)).isInstanceOf(EwmaLoadBalancer.class);
        assertThat(create(LoadBalancerKind.RING_HASH, key)).isInstanceOf(RingHashLoadBalancer.class);
    }

    @Test
    void everyCallGivesANewInstanceForItsEventLoop() {
        assertThat(create(LoadBalancerKind.ROUND_ROBIN, null)).isNotSameAs(create(LoadBalancerKind.ROUND_ROBIN, null));
    }

    @Test
    void ringHashWithoutAHashKeyHashesOnTheClientAddress() {
        LoadBalancer lb = create(LoadBalancerKind.RING_HASH, null);
        HostSet set = TestHosts.hostSet(new TestHosts().upstreams(5));

        Set<Upstream> owners = new HashSet<>();
        for (int k = 0; k < 40; k++) {
            TestRequest request = TestRequest.get("/").clientIp("203.0.113." + k);
            Upstream owner = lb.choose(set, request, Set.of());
            for (int i = 0; i < 5; i++) {
                assertThat(lb.choose(set, request, Set.of())).isSameAs(owner);
            }
            owners.add(owner);
        }
        assertThat(owners).hasSizeGreaterThan(1);
    }
}
