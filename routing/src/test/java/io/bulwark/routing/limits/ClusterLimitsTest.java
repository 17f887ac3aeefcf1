package io.bulwark.routing.limits;

import io.bulwark.config.LimitsConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterLimitsTest {

    @Test
    void eachLimitRefusesOnceFullAndCountsTheOverflow() {
        ClusterLimits limits = new ClusterLimits(new LimitsConfig(2, 1, 1));

        Permit r1 = limits.tryAcquireRequest().orElseThrow();
        limits.tryAcquireRequest().orElseThrow();
        assertThat(limits.tryAcquireRequest()).isEmpty();
        limits.tryAcquirePending().orElseThrow();
        assertThat(limits.tryAcquirePending()).isEmpty();
        limits.tryAcquireRetry().orElseThrow();
        assertThat(limits.tryAcquireRetry()).isEmpty();

        assertThat(limits.activeRequests()).isEqualTo(2);
        assertThat(limits.pendingRequests()).isEqualTo(1);
        assertThat(limits.activeRetries()).isEqualTo(1);
        assertThat(limits.overflowCount(ClusterLimits.Kind.REQUESTS)).isEqualTo(1);
        assertThat(limits.overflowCount(ClusterLimits.Kind.PENDING)).isEqualTo(1);
        assertThat(limits.overflowCount(ClusterLimits.Kind.RETRIES)).isEqualTo(1);

        r1.close();
        assertThat(limits.tryAcquireRequest()).isPresent();
    }

    @Test
    void closingAPermitTwiceGivesBackOneSlot() {
        ClusterLimits limits = new ClusterLimits(new LimitsConfig(5, 5, 5));
        Permit a = limits.tryAcquireRequest().orElseThrow();
        limits.tryAcquireRequest().orElseThrow();

        a.close();
        a.close();

        assertThat(limits.activeRequests()).isEqualTo(1);
    }

    @Test
    void aLoweredLimitKeepsWhatIsInFlightAndRefusesUntilBelowIt() {
        ClusterLimits limits = new ClusterLimits(new LimitsConfig(3, 3, 3));
        Permit a = limits.tryAcquireRequest().orElseThrow();
        Permit b = limits.tryAcquireRequest().orElseThrow();
        limits.tryAcquireRequest().orElseThrow();

        limits.reconfigure(new LimitsConfig(2, 3, 3));

        assertThat(limits.activeRequests()).isEqualTo(3);
        a.close();
        assertThat(limits.tryAcquireRequest()).isEmpty();
        b.close();
        assertThat(limits.tryAcquireRequest()).isPresent();
    }

    @Test
    void concurrentRequestsNeverExceedTheCap() throws Exception {
        int cap = 5;
        ClusterLimits limits = new ClusterLimits(new LimitsConfig(cap, cap, cap));
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                runs.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 20_000; i++) {
                        Optional<Permit> permit = limits.tryAcquireRequest();
                        if (permit.isPresent()) {
                            maxSeen.accumulateAndGet(holding.incrementAndGet(), Math::max);
                            holding.decrementAndGet();
                            permit.get().close();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : runs) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(maxSeen.get()).isBetween(1, cap);
        assertThat(limits.activeRequests()).isZero();
    }
}
