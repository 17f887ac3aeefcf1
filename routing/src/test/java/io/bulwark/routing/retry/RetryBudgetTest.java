package io.bulwark.routing.retry;

import io.bulwark.routing.limits.Permit;
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

class RetryBudgetTest {

    @Test
    void minRetryConcurrencyIsAllowedWithNoRequestsInFlight() {
        RetryBudget budget = new RetryBudget(20, 3);

        List<Permit> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(budget.tryAcquireRetry().orElseThrow());
        }

        assertThat(budget.tryAcquireRetry()).isEmpty();
        assertThat(budget.retriesInFlight()).isEqualTo(3);
        assertThat(budget.exhaustedCount()).isEqualTo(1);
    }

    @Test
    void retriesMayReachBudgetPercentOfRequestsInFlight() {
        RetryBudget budget = new RetryBudget(20, 3);
        for (int i = 0; i < 100; i++) {
            budget.onRequestStart();
        }

        assertThat(budget.allowedRetries()).isEqualTo(20);
        for (int i = 0; i < 20; i++) {
            assertThat(budget.tryAcquireRetry()).isPresent();
        }
        assertThat(budget.tryAcquireRetry()).isEmpty();
    }

    @Test
    void endingRequestsShrinksTheBudgetButNeverBelowTheMinimum() {
        RetryBudget budget = new RetryBudget(50, 1);
        List<Permit> requests = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            requests.add(budget.onRequestStart());
        }
        assertThat(budget.allowedRetries()).isEqualTo(5);

        requests.forEach(Permit::close);

        assertThat(budget.requestsInFlight()).isZero();
        assertThat(budget.allowedRetries()).isEqualTo(1);
    }

    @Test
    void closingAPermitTwiceGivesBackOneSlot() {
        RetryBudget budget = new RetryBudget(0, 2);
        Permit request = budget.onRequestStart();
        Permit retry = budget.tryAcquireRetry().orElseThrow();
        budget.tryAcquireRetry().orElseThrow();

        retry.close();
        retry.close();
        request.close();
        request.close();

        assertThat(budget.retriesInFlight()).isEqualTo(1);
        assertThat(budget.requestsInFlight()).isZero();
    }

    @Test
    void reconfigureKeepsWhatIsInFlight() {
        RetryBudget budget = new RetryBudget(0, 1);
        budget.onRequestStart();
        budget.tryAcquireRetry().orElseThrow();

        budget.reconfigure(io.bulwark.routing.TestConfigs.defaultRetry()); // 20%, min 3

        assertThat(budget.retriesInFlight()).isEqualTo(1);
        assertThat(budget.allowedRetries()).isEqualTo(3);
    }

    @Test
    void concurrentRetriesNeverExceedTheCap() throws Exception {
        RetryBudget budget = new RetryBudget(20, 4);
        int threads = 8;
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                runs.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 20_000; i++) {
                        Optional<Permit> permit = budget.tryAcquireRetry();
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
        assertThat(maxSeen.get()).isBetween(1, 4);
        assertThat(budget.retriesInFlight()).isZero();
    }
}
