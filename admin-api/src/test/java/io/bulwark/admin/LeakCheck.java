package io.bulwark.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a Netty leak report into a test failure. Registered for every test class through
 * {@code META-INF/services} (JUnit extension auto-detection); the test JVM runs with
 * {@code -Dio.netty.leakDetectionLevel=paranoid}. After each class it collects garbage and
 * allocates a few tracked buffers, which makes the detector report what it found, then fails
 * the class if anything leaked. (The same check as the proxy module's; admin-api's tests run the
 * admin server, which allocates Netty buffers, without depending on the proxy.)
 */
public final class LeakCheck implements BeforeAllCallback, AfterAllCallback {

    private static final List<String> LEAKS = new ArrayList<>();

    static {
        io.netty.buffer.ByteBufUtil.setLeakListener((resourceType, records) -> {
            synchronized (LEAKS) {
                LEAKS.add(resourceType + "\n" + records);
            }
        });
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            throw new IllegalStateException("tests must run with -Dio.netty.leakDetectionLevel=paranoid");
        }
        drain();
        synchronized (LEAKS) {
            LEAKS.clear(); // leaks of an earlier class were reported there
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        drain();
        List<String> found;
        synchronized (LEAKS) {
            found = new ArrayList<>(LEAKS);
            LEAKS.clear();
        }
        if (!found.isEmpty()) {
            throw new AssertionError(found.size() + " Netty buffer leak(s) in " + context.getDisplayName()
                    + ":\n" + String.join("\n----\n", found));
        }
    }

    /** Makes the detector poll its reference queue: GC, then allocate tracked buffers. */
    private static void drain() {
        for (int round = 0; round < 3; round++) {
            System.gc();
            System.runFinalization();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            for (int i = 0; i < 64; i++) {
                ByteBuf a = PooledByteBufAllocator.DEFAULT.buffer(16);
                a.release();
                ByteBuf b = UnpooledByteBufAllocator.DEFAULT.buffer(16);
                b.release();
                ByteBuf c = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                c.release();
            }
        }
    }
}
