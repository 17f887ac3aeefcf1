package io.bulwark.routing.ratelimit;

import io.bulwark.routing.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class TokenBucketTest {

    private final ManualClock clock = new ManualClock();

    @Test
    void startsFullAndAllowsExactlyBurstWhileTimeStands() {
        TokenBucket bucket = new TokenBucket(100, 5, clock);

        for (int i = 4; i >= 0; i--) {
            RateLimitDecision d = bucket.tryAcquire();
            assertThat(d.allowed()).isTrue();
            assertThat(d.remaining()).isEqualTo(i);
        }
        assertThat(bucket.tryAcquire().allowed()).isFalse();
    }

    @Test
    void refusalSaysHowLongUntilTheNextToken() {
        TokenBucket bucket = new TokenBucket(100, 2, clock); // a token every 10ms
        bucket.tryAcquire();
        bucket.tryAcquire();
        clock.advance(Duration.ofMillis(3));

        RateLimitDecision refused = bucket.tryAcquire();

        assertThat(refused.allowed()).isFalse();
        assertThat(refused.remaining()).isZero();
        assertThat(refused.retryAfterNanos()).isEqualTo(Duration.ofMillis(7).toNanos());
        assertThat(refused.resetNanos()).isEqualTo(Duration.ofMillis(17).toNanos());
    }

    @Test
    void refillsAtTheConfiguredRate() {
        TokenBucket bucket = new TokenBucket(100, 10, clock);
        while (bucket.tryAcquire().allowed()) {
            // drain
        }

        clock.advance(Duration.ofMillis(35));

        assertThat(bucket.availableTokens()).isEqualTo(3);
        assertThat(bucket.tryAcquire().allowed()).isTrue();
        assertThat(bucket.tryAcquire().allowed()).isTrue();
        assertThat(bucket.tryAcquire().allowed()).isTrue();
        assertThat(bucket.tryAcquire().allowed()).isFalse();
    }

    @Test
    void neverHoldsMoreThanTheBurstAfterALongIdle() {
        TokenBucket bucket = new TokenBucket(100, 3, clock);
        clock.advance(Duration.ofHours(1));

        assertThat(bucket.availableTokens()).isEqualTo(3);
        int allowed = 0;
        while (bucket.tryAcquire().allowed()) {
            allowed++;
        }
        assertThat(allowed).isEqualTo(3);
    }

    @Test
    void fractionalRatesRefillSlowerThanOnePerSecond() {
        TokenBucket bucket = new TokenBucket(0.5, 1, clock);
        assertThat(bucket.tryAcquire().allowed()).isTrue();

        RateLimitDecision refused = bucket.tryAcquire();
        assertThat(refused.retryAfterNanos()).isEqualTo(Duration.ofSeconds(2).toNanos());
        assertThat(refused.retryAfterSeconds()).isEqualTo(2);

        clock.advance(Duration.ofMillis(1999));
        assertThat(bucket.tryAcquire().allowed()).isFalse();
        clock.advance(Duration.ofMillis(1));
        assertThat(bucket.tryAcquire().allowed()).isTrue();
    }

    @Test
    void resetIsTheTimeUntilTheBucketIsFullAgain() {
        TokenBucket bucket = new TokenBucket(10, 10, clock); // a token every 100ms
        RateLimitDecision first = bucket.tryAcquire();
        assertThat(first.resetNanos()).isEqualTo(Duration.ofMillis(100).toNanos());
        for (int i = 0; i < 4; i++) {
            bucket.tryAcquire();
        }
        RateLimitDecision sixth = bucket.tryAcquire();
        assertThat(sixth.remaining()).isEqualTo(4);
        assertThat(sixth.resetNanos()).isEqualTo(Duration.ofMillis(600).toNanos());
        assertThat(sixth.resetSeconds()).isEqualTo(1);
    }

    @Test
    void concurrentCallersTakeExactlyTheBurstWhileTimeIsFrozen() throws Exception {
        int burst = 10_000;
        int threads = 8;
        TokenBucket bucket = new TokenBucket(1, burst, clock);
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    int taken = 0;
                    for (int i = 0; i < burst; i++) {
                        if (bucket.tryAcquire().allowed()) {
                            taken++;
                        }
                    }
                    return taken;
                }));
            }
            start.countDown();
            int total = 0;
            for (Future<Integer> f : results) {
                total += f.get(30, TimeUnit.SECONDS);
            }
            assertThat(total).isEqualTo(burst);
            assertThat(bucket.availableTokens()).isZero();
        } finally {
            pool.shutdownNow();
        }
    }
}
