package io.bulwark.proxy.log;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class LineBatcherTest {

    private static byte[] line(String s) {
        return (s + "\n").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void linesFromManyThreadsComeOutWholeAndNoneIsLost() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OutputStream synced = new OutputStream() {
            @Override
            public synchronized void write(int b) {
                out.write(b);
            }

            @Override
            public synchronized void write(byte[] b, int off, int len) {
                out.write(b, off, len);
            }
        };
        int threads = 4;
        int perThread = 20_000; // ~ 1.3 MB per thread: many full batches each
        try (LineBatcher batcher = new LineBatcher(synced, 50, "test-writer")) {
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread w = new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        byte[] l = line("{\"thread\":" + id + ",\"n\":" + i + ",\"pad\":\"" + "p".repeat(40) + "\"}");
                        batcher.add(l, l.length);
                    }
                });
                writers.add(w);
                w.start();
            }
            for (Thread w : writers) {
                w.join();
            }
            batcher.flush(5_000);

            assertThat(batcher.written() + batcher.dropped()).isEqualTo((long) threads * perThread);
            String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
            assertThat(lines).hasSize((int) batcher.written());
            Set<String> distinct = new HashSet<>();
            for (String l : lines) {
                assertThat(l).startsWith("{\"thread\":").endsWith("\"}");
                distinct.add(l);
            }
            assertThat(distinct).hasSize(lines.length);
        }
    }

    @Test
    void aLoneLineIsOutWithinTheFlushIntervalWithoutAnyFlushCall() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (LineBatcher batcher = new LineBatcher(out, 50, "test-writer")) {
            byte[] l = line("{\"one\":1}");
            batcher.add(l, l.length);
            await().atMost(Duration.ofSeconds(5)).until(() -> batcher.written() == 1);
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("{\"one\":1}\n");
        }
    }

    @Test
    void aStalledOutputDropsAndCountsInsteadOfBlockingTheWriters() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OutputStream stalled = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try {
                    release.await(); // a pipe nobody reads
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                synchronized (out) {
                    out.write(b, off, len);
                }
            }
        };
        try (LineBatcher batcher = new LineBatcher(stalled, 20, "test-writer")) {
            byte[] l = line("x".repeat(199));
            int lines = 40 * LineBatcher.BATCH_BYTES / l.length; // far more than the queue holds
            long start = System.nanoTime();
            for (int i = 0; i < lines; i++) {
                batcher.add(l, l.length);
            }
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(tookMillis).as("adding while stdout is stalled never waits for it").isLessThan(2_000);
            assertThat(batcher.dropped()).isPositive();
            release.countDown();
            batcher.flush(5_000);
            assertThat(batcher.written() + batcher.dropped()).isEqualTo(lines);
            synchronized (out) {
                assertThat(out.size()).isEqualTo(batcher.written() * l.length);
            }
        }
    }
}
