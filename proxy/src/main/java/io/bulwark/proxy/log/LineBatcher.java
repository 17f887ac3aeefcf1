package io.bulwark.proxy.log;

import io.netty.util.concurrent.FastThreadLocal;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lines collected per thread into 64 KiB batches and written by one background thread in large
 * writes, the way NGINX's {@code access_log ... buffer=64k flush=...} works: an event loop pays a
 * copy into its own batch (an uncontended lock), never a write system call and never a wait.
 *
 * <p>A batch goes to the writer when it is full, and the writer sweeps partly filled batches every
 * {@code flushMillis}, so a line is out within about that long when traffic is light. The writer
 * takes at most {@value #QUEUED_BATCHES} full batches ahead of the output: when the output is
 * slower than that (a stalled pipe or log driver), a full batch is dropped and its lines counted
 * in {@link #dropped()} — the event loop never blocks on stdout.
 */
final class LineBatcher implements AutoCloseable {

    static final int BATCH_BYTES = 64 * 1024;
    static final int QUEUED_BATCHES = 16;

    private record Full(byte[] bytes, int length, int lines) {
    }

    /** One thread's batch; guarded by its own monitor (taken by that thread, and by the writer's sweep). */
    private static final class Batch {
        final Thread owner = Thread.currentThread();
        byte[] bytes = new byte[BATCH_BYTES];
        int length;
        int lines;
    }

    private final OutputStream out;
    private final long flushMillis;
    private final BlockingQueue<Full> full = new ArrayBlockingQueue<>(QUEUED_BATCHES);
    private final BlockingQueue<byte[]> spare = new ArrayBlockingQueue<>(QUEUED_BATCHES);
    private final CopyOnWriteArrayList<Batch> batches = new CopyOnWriteArrayList<>();
    private final FastThreadLocal<Batch> mine = new FastThreadLocal<>() {
        @Override
        protected Batch initialValue() {
            Batch b = new Batch();
            batches.add(b);
            return b;
        }
    };
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final Object flushed = new Object();
    private long sweeps;
    private final Thread writer;
    private volatile boolean closed;

    LineBatcher(OutputStream out, long flushMillis, String threadName) {
        this.out = out;
        this.flushMillis = flushMillis;
        this.writer = new Thread(this::run, threadName);
        writer.setDaemon(true);
        writer.start();
    }

    /** Adds one line (already ending in {@code \n}); never blocks beyond this thread's batch lock. */
    void add(byte[] line, int length) {
        if (closed) {
            dropped.incrementAndGet();
            return;
        }
        Batch b = mine.get();
        synchronized (b) {
            if (b.length + length > b.bytes.length) {
                handOver(b);
                if (length > b.bytes.length) {
                    b.bytes = new byte[length]; // one line longer than a batch: a batch of its own
                }
            }
            System.arraycopy(line, 0, b.bytes, b.length, length);
            b.length += length;
            b.lines++;
        }
    }

    /** Lines dropped because the output could not keep up (or arrived after close). */
    long dropped() {
        return dropped.get();
    }

    /** Lines written to the output. */
    long written() {
        return written.get();
    }

    /** Waits until every line added before this call has been written (at most {@code timeoutMillis}). */
    void flush(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (flushed) {
            long target = sweeps + 2; // a sweep that started before this call may have missed a line
            writer.interrupt();
            while (sweeps < target && writer.isAlive()) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return;
                }
                flushed.wait(Math.min(left, flushMillis));
            }
        }
    }

    @Override
    public void close() {
        try {
            flush(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closed = true;
        writer.interrupt();
    }

    /** Called with b's monitor held: queues its bytes for the writer and gives it a fresh array. */
    private void handOver(Batch b) {
        if (b.length == 0) {
            return;
        }
        if (full.offer(new Full(b.bytes, b.length, b.lines))) {
            byte[] next = spare.poll();
            b.bytes = next != null ? next : new byte[BATCH_BYTES];
        } else {
            dropped.addAndGet(b.lines); // the writer is QUEUED_BATCHES behind: drop, never wait
        }
        b.length = 0;
        b.lines = 0;
    }

    private void run() {
        while (!closed) {
            try {
                Full f = full.poll(flushMillis, TimeUnit.MILLISECONDS);
                if (f != null) {
                    write(f);
                    continue; // catch up on full batches first
                }
            } catch (InterruptedException e) {
                // flush() or close(): sweep now
            }
            sweep();
        }
        sweep();
    }

    private void sweep() {
        Full f;
        while ((f = full.poll()) != null) {
            write(f);
        }
        for (Batch b : batches) {
            synchronized (b) {
                handOver(b);
            }
            if (!b.owner.isAlive()) {
                synchronized (b) {
                    if (b.length == 0) {
                        batches.remove(b);
                    }
                }
            }
        }
        while ((f = full.poll()) != null) {
            write(f);
        }
        synchronized (flushed) {
            sweeps++;
            flushed.notifyAll();
        }
    }

    private void write(Full f) {
        try {
            out.write(f.bytes(), 0, f.length());
            out.flush();
            written.addAndGet(f.lines());
        } catch (IOException e) {
            dropped.addAndGet(f.lines()); // stdout closed: nothing to tell it to
        }
        if (f.bytes().length == BATCH_BYTES) {
            spare.offer(f.bytes());
        }
    }
}
