package io.bulwark.routing.outlier;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LatencyWindowTest {

    @Test
    void everyTimeIsKnownToWithinASixteenthOfItself() {
        for (long micros = 8; micros < 60_000_000L; micros = micros * 21 / 20 + 1) {
            long nanos = micros * 1_000;
            long reported = LatencyWindow.valueNanos(LatencyWindow.bucket(nanos));
            assertThat((double) reported).as("%d µs", micros).isCloseTo(nanos, within(nanos / 16.0));
        }
    }

    @Test
    void bucketsGrowWithTheTimeAndStayInRange() {
        int last = -1;
        for (long micros = 0; micros < 200_000_000L; micros = micros * 11 / 10 + 1) {
            int b = LatencyWindow.bucket(micros * 1_000);
            assertThat(b).isBetween(last, LatencyWindow.BUCKETS - 1);
            last = b;
        }
        assertThat(LatencyWindow.bucket(Long.MAX_VALUE)).isEqualTo(LatencyWindow.BUCKETS - 1);
        assertThat(LatencyWindow.bucket(-5)).isZero();
    }

    @Test
    void theP90IsTheTimeNineInTenTriesBeatAndOnlyClosedSlicesCount() {
        LatencyWindow w = new LatencyWindow(5);
        for (int i = 1; i <= 100; i++) {
            w.record(i * 1_000_000L); // 1..100 ms
        }
        assertThat(w.count()).as("the open slice is not read").isZero();

        w.closeSlice();

        assertThat(w.count()).isEqualTo(100);
        assertThat((double) w.percentileNanos(0.9)).isCloseTo(90_000_000, within(90_000_000 / 16.0));
        assertThat((double) w.percentileNanos(0.5)).isCloseTo(50_000_000, within(50_000_000 / 16.0));
    }

    @Test
    void aSliceLeavesTheWindowAfterWindowSecondsAndClearForgetsEverything() {
        LatencyWindow w = new LatencyWindow(3);
        w.record(500_000_000L);
        w.closeSlice();
        w.record(1_000_000L);
        w.closeSlice();
        w.closeSlice();
        assertThat(w.count()).isEqualTo(2);
        assertThat(w.percentileNanos(1.0)).isGreaterThan(400_000_000L);

        w.closeSlice(); // the 500 ms one is 3 closes old

        assertThat(w.count()).isEqualTo(1);
        assertThat(w.percentileNanos(1.0)).isLessThan(2_000_000L);
        w.record(7_000_000L);
        w.clear();
        w.closeSlice();
        assertThat(w.count()).isZero();
        assertThat(w.percentileNanos(0.9)).isZero();
    }

    @Test
    void timesRecordedWhileSlicesCloseAreNeverLost() throws Exception {
        LatencyWindow w = new LatencyWindow(60);
        int threads = 4;
        int perThread = 50_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            pool.execute(() -> {
                try {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        w.record((i % 1_000) * 1_000L);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            });
        }
        start.countDown();
        int closes = 0;
        while (!done.await(0, TimeUnit.MILLISECONDS) && closes < 50) {
            w.closeSlice();
            closes++;
        }
        done.await(10, TimeUnit.SECONDS);
        pool.shutdown();
        w.closeSlice();

        assertThat(w.count()).isEqualTo((long) threads * perThread);
    }
}
