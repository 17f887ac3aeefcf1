package io.bulwark.routing.limits;

import io.bulwark.config.AdaptiveLimitConfig;
import io.bulwark.config.LimitsConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The adaptive limit (TCP Vegas style) driven by chosen latencies: no clock, no sleeps. */
class AdaptiveLimitTest {

    private static final long MS = 1_000_000L;

    /** Runs {@code n} requests with the limit full of requests, each answered after {@code latencyMs}. */
    private static void busyRequests(AdaptiveLimit limit, int n, long latencyMs, boolean dropped) {
        for (int i = 0; i < n; i++) {
            List<AdaptiveLimit.Slot> slots = new ArrayList<>();
            AdaptiveLimit.Slot s;
            while ((s = limit.tryAcquire()) != null) { // fill it: the cluster is using its whole limit
                slots.add(s);
            }
            slots.remove(0).sample(latencyMs * MS, dropped);
            slots.forEach(AdaptiveLimit.Slot::close);
        }
    }

    @Test
    void growsWhileLatencyStaysAtItsUsualLevelAndNeverPastMax() {
        AdaptiveLimit limit = new AdaptiveLimit(new AdaptiveLimitConfig(4, 200, 20));
        busyRequests(limit, 50, 10, false);
        int grown = limit.limit();
        assertThat(grown).isGreaterThan(20);

        busyRequests(limit, 2_000, 10, false);
        assertThat(limit.limit()).isGreaterThanOrEqualTo(grown).isEqualTo(200);
    }

    @Test
    void shrinksWhenLatencyRisesNeverBelowMinAndTakesASteadyNewLatencyAsTheNewNormal() {
        AdaptiveLimit limit = new AdaptiveLimit(new AdaptiveLimitConfig(4, 200, 50));
        busyRequests(limit, 300, 10, false); // the long-term average learns 10 ms
        int steady = limit.limit();

        busyRequests(limit, 30, 200, false); // a queue builds up in front of a struggling service
        int shrunk = limit.limit();
        assertThat(shrunk).isLessThan(steady);

        busyRequests(limit, 60, 5_000, true);
        assertThat(limit.limit()).isGreaterThanOrEqualTo(4).isLessThan(shrunk);

        // Latency that stays up is the service's new normal (the long-term average drifts to it): the
        // limit grows again from there rather than strangling a service that got slower for good.
        int low = limit.limit();
        busyRequests(limit, 3_000, 5_000, false);
        assertThat(limit.limit()).isGreaterThan(low);
    }

    @Test
    void doesNotGrowWhileTheClusterUsesLessThanHalfOfIt() {
        AdaptiveLimit limit = new AdaptiveLimit(new AdaptiveLimitConfig(4, 200, 40));
        for (int i = 0; i < 500; i++) {
            limit.tryAcquire().sample(10 * MS, false); // one request in flight at a time
        }
        assertThat(limit.limit()).isEqualTo(40);
    }

    @Test
    void refusesAtTheLimitCountsRefusalsAndKeepsRoomForRetriesFree() {
        AdaptiveLimit limit = new AdaptiveLimit(new AdaptiveLimitConfig(1, 100, 20));
        List<AdaptiveLimit.Slot> slots = new ArrayList<>();
        for (int i = 0; i < 17; i++) {
            slots.add(limit.tryAcquire());
        }
        assertThat(limit.hasRoomForExtraTry()).isTrue();
        slots.add(limit.tryAcquire());
        assertThat(limit.inFlight()).isEqualTo(18);
        assertThat(limit.hasRoomForExtraTry()).as("within a tenth of the limit: retries are shed").isFalse();
        slots.add(limit.tryAcquire());
        slots.add(limit.tryAcquire());

        assertThat(limit.tryAcquire()).isNull();
        assertThat(limit.rejected()).isEqualTo(1);

        slots.get(0).close();
        slots.get(0).close(); // twice: harmless
        slots.get(1).sample(5 * MS, false);
        slots.get(1).close(); // a sampled slot is already closed
        assertThat(limit.inFlight()).isEqualTo(18);
        assertThat(limit.tryAcquire()).isNotNull();
    }

    @Test
    void aReloadKeepsTheLearntLimitUnlessItsBlockChangedAndAlwaysKeepsTheCount() {
        AdaptiveLimitConfig config = new AdaptiveLimitConfig(4, 200, 20);
        AdaptiveLimit limit = new AdaptiveLimit(config);
        busyRequests(limit, 100, 10, false);
        AdaptiveLimit.Slot held = limit.tryAcquire();

        assertThat(limit.reconfigured(new AdaptiveLimitConfig(4, 200, 20))).isSameAs(limit);
        AdaptiveLimit changed = limit.reconfigured(new AdaptiveLimitConfig(2, 50, 10));
        assertThat(changed.limit()).isEqualTo(10);
        assertThat(changed.inFlight()).isEqualTo(1);
        held.close();
        assertThat(changed.inFlight()).isZero();
    }

    @Test
    void theClusterLimitsReportOnlyLargeMovesAndFollowReloads() {
        ClusterLimits limits = new ClusterLimits(new LimitsConfig(1024, 1024, 3,
                Optional.of(new AdaptiveLimitConfig(4, 1000, 20))));
        List<int[]> moves = new ArrayList<>();
        limits.onAdaptiveMove((from, to) -> moves.add(new int[] {from, to}));
        busyRequests(limits.adaptive(), 2_000, 10, false);

        assertThat(moves).isNotEmpty();
        assertThat(moves).allSatisfy(m -> assertThat((double) m[1] / m[0]).isGreaterThanOrEqualTo(1.5));
        assertThat(moves.get(0)[0]).isEqualTo(20);

        limits.reconfigure(new LimitsConfig(1024, 1024, 3));
        assertThat(limits.adaptive()).isNull();
        limits.reconfigure(new LimitsConfig(1024, 1024, 3, Optional.of(new AdaptiveLimitConfig(4, 1000, 30))));
        assertThat(limits.adaptive().limit()).isEqualTo(30);
    }
}
