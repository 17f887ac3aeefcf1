package io.bulwark.routing.lb;

import io.bulwark.config.HashKey;
import io.bulwark.routing.HostSet;
import io.bulwark.routing.TestHosts;
import io.bulwark.routing.TestRequest;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class RingHashLoadBalancerTest {

    private static final HashKey USER_HEADER = new HashKey(HashKey.Source.HEADER, "x-user-id");

    private final TestHosts hosts = new TestHosts();

    private static RingHashLoadBalancer byUser() {
        return new RingHashLoadBalancer(USER_HEADER, new Random(1));
    }

    private static TestRequest user(String id) {
        return TestRequest.get("/").header("X-User-Id", id);
    }

    private static Map<String, Upstream> assign(LoadBalancer lb, HostSet set, int keys) {
        Map<String, Upstream> owner = new HashMap<>();
        for (int i = 0; i < keys; i++) {
            String key = "user-" + i;
            owner.put(key, lb.choose(set, user(key), Set.of()));
        }
        return owner;
    }

    @Test
    void ringHashSendsTheSameKeyToTheSameHost() {
        HostSet set = TestHosts.hostSet(hosts.upstreams(5));
        RingHashLoadBalancer lb = byUser();
        RingHashLoadBalancer otherEventLoop = byUser();

        for (int k = 0; k < 100; k++) {
            Upstream first = lb.choose(set, user("key-" + k), Set.of());
            for (int i = 0; i < 20; i++) {
                assertThat(lb.choose(set, user("key-" + k), Set.of())).isSameAs(first);
            }
            assertThat(otherEventLoop.choose(set, user("key-" + k), Set.of())).isSameAs(first);
        }
    }

    @Test
    void ringHashSpreadsKeysOverHosts() {
        List<Upstream> all = hosts.upstreams(3);
        Map<String, Upstream> owner = assign(byUser(), TestHosts.hostSet(all), 1_000);

        Map<Upstream, Integer> counts = new IdentityHashMap<>();
        owner.values().forEach(u -> counts.merge(u, 1, Integer::sum));
        assertThat(counts).hasSize(3);
        assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(200, 470));
    }

    @Test
    void removingAHostMovesOnlyItsKeys() {
        List<Upstream> all = hosts.upstreams(3);
        RingHashLoadBalancer lb = byUser();
        Map<String, Upstream> before = assign(lb, TestHosts.hostSet(all), 1_000);

        Upstream removed = all.get(1);
        List<Upstream> remaining = List.of(all.get(0), all.get(2));
        Map<String, Upstream> after = assign(lb, new HostSet(remaining, remaining, false), 1_000);

        int stayed = 0;
        int stayedCandidates = 0;
        for (String key : before.keySet()) {
            if (before.get(key) != removed) {
                stayedCandidates++;
                if (after.get(key) == before.get(key)) {
                    stayed++;
                }
            } else {
                assertThat(after.get(key)).isIn(remaining);
            }
        }
        assertThat(stayedCandidates).isGreaterThan(400);
        assertThat(stayed).isEqualTo(stayedCandidates);
    }

    @Test
    void addingAHostMovesAboutOneNthOfKeysAllToTheNewHost() {
        List<Upstream> all = new ArrayList<>(hosts.upstreams(3));
        RingHashLoadBalancer lb = byUser();
        Map<String, Upstream> before = assign(lb, TestHosts.hostSet(all), 2_000);

        Upstream added = hosts.upstream("10.0.0.4:8080", 1);
        all.add(added);
        Map<String, Upstream> after = assign(lb, TestHosts.hostSet(all), 2_000);

        int moved = 0;
        for (String key : before.keySet()) {
            if (after.get(key) != before.get(key)) {
                moved++;
                assertThat(after.get(key)).isSameAs(added);
            }
        }
        assertThat(moved / 2_000.0).isBetween(0.15, 0.35); // ideal 1/4
    }

    @Test
    void heavierHostHoldsProportionallyMoreOfTheRing() {
        List<Upstream> all = hosts.weighted(1, 2, 1);
        RingHashLoadBalancer lb = byUser();
        Map<String, Upstream> owner = assign(lb, TestHosts.hostSet(all), 4_000);

        assertThat(lb.pointsOf(all.get(0))).isEqualTo(RingHashLoadBalancer.POINTS_PER_UNIT_WEIGHT);
        assertThat(lb.pointsOf(all.get(1))).isEqualTo(2 * RingHashLoadBalancer.POINTS_PER_UNIT_WEIGHT);
        long heavy = owner.values().stream().filter(u -> u == all.get(1)).count();
        assertThat(heavy / 4_000.0).isBetween(0.38, 0.62); // ideal 1/2
    }

    @Test
    void ringIsReusedForANewSnapshotOfTheSameHostsAndRebuiltWhenAWeightChanges() {
        List<Upstream> all = hosts.upstreams(3);
        RingHashLoadBalancer lb = byUser();
        lb.choose(TestHosts.hostSet(all), user("a"), Set.of());
        assertThat(lb.ringBuilds()).isEqualTo(1);

        lb.choose(TestHosts.hostSet(all), user("a"), Set.of());
        assertThat(lb.ringBuilds()).isEqualTo(1);

        all.get(0).setWeight(3);
        lb.choose(TestHosts.hostSet(all), user("a"), Set.of());
        assertThat(lb.ringBuilds()).isEqualTo(2);
        assertThat(lb.pointsOf(all.get(0))).isEqualTo(3 * RingHashLoadBalancer.POINTS_PER_UNIT_WEIGHT);
    }

    @Test
    void avoidedHostIsPassedOverForTheNextOneOnTheRing() {
        HostSet set = TestHosts.hostSet(hosts.upstreams(4));
        RingHashLoadBalancer lb = byUser();

        for (int k = 0; k < 200; k++) {
            TestRequest request = user("key-" + k);
            Upstream primary = lb.choose(set, request, Set.of());
            Upstream second = lb.choose(set, request, Set.of(primary));
            assertThat(second).isNotSameAs(primary);
            // A retry of the same key always lands on the same second choice, on every event loop.
            assertThat(byUser().choose(set, request, Set.of(primary))).isSameAs(second);
            Upstream third = lb.choose(set, request, Set.of(primary, second));
            assertThat(third).isNotIn(primary, second);
        }
    }

    @Test
    void missingKeyFallsBackToARandomHost() {
        List<Upstream> all = hosts.upstreams(3);
        HostSet set = TestHosts.hostSet(all);
        RingHashLoadBalancer lb = byUser();

        Map<Upstream, Integer> counts = new IdentityHashMap<>();
        for (int i = 0; i < 3_000; i++) {
            TestRequest request = i % 2 == 0 ? TestRequest.get("/") : user("");
            counts.merge(lb.choose(set, request, Set.of()), 1, Integer::sum);
        }
        assertThat(counts).hasSize(3);
        assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(600, 1_400));
    }

    @Test
    void cookieAndClientIpKeysAreSticky() {
        HostSet set = TestHosts.hostSet(hosts.upstreams(5));
        RingHashLoadBalancer byCookie = new RingHashLoadBalancer(new HashKey(HashKey.Source.COOKIE, "session"), new Random(2));
        RingHashLoadBalancer byIp = new RingHashLoadBalancer(new HashKey(HashKey.Source.CLIENT_IP, ""), new Random(3));

        Set<Upstream> ipOwners = new java.util.HashSet<>();
        for (int k = 0; k < 50; k++) {
            TestRequest request = TestRequest.get("/").cookie("session", "s-" + k).clientIp("198.51.100." + k);
            Upstream cookieOwner = byCookie.choose(set, request, Set.of());
            Upstream ipOwner = byIp.choose(set, request, Set.of());
            for (int i = 0; i < 10; i++) {
                assertThat(byCookie.choose(set, request, Set.of())).isSameAs(cookieOwner);
                assertThat(byIp.choose(set, request, Set.of())).isSameAs(ipOwner);
            }
            ipOwners.add(ipOwner);
        }
        assertThat(ipOwners).hasSizeGreaterThan(1);
    }
}
