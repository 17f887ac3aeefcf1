package io.bulwark.proxy.log;

import io.bulwark.routing.Clock;
import io.bulwark.routing.ratelimit.TokenBucket;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.concurrent.FastThreadLocal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The access log (its fields are listed in the README, "Running with your own config"): one JSON
 * object per request on stdout. Each line is formatted on the event loop into a reused per-thread
 * buffer and handed to a {@link LineBatcher}, which writes 64 KiB batches from a background thread
 * and drops (and counts in {@code bulwark_access_log_dropped_total}) rather than block an event
 * loop when stdout cannot keep up. {@code bulwark.access-log.enabled = false} (or
 * {@code -Dbulwark.access.level=OFF}) turns it off.
 *
 * <p>Refusals of malformed input (400, 408, 414, 431 before a request could be routed) are
 * logged through a token bucket of {@code bulwark.access.refusals-per-second} lines a second
 * (system property, default {@value #DEFAULT_REFUSALS_PER_SECOND}, as large a burst), so a flood
 * of garbage cannot flood the log; the lines left out are counted in
 * {@code bulwark_access_log_skipped_total}. Every other request is always logged.
 */
public final class AccessLog {

    public static final String SKIPPED = "bulwark.access.log.skipped";
    public static final String DROPPED = "bulwark.access.log.dropped";
    public static final String REFUSALS_PER_SECOND_PROPERTY = "bulwark.access.refusals-per-second";
    /** {@code -Dbulwark.access.level=OFF} turns the log off whatever the config says (kept from the logback days). */
    public static final String LEVEL_PROPERTY = "bulwark.access.level";
    static final int DEFAULT_REFUSALS_PER_SECOND = 100;
    private static final long FLUSH_MILLIS = 100;

    private static final Logger LOG = LoggerFactory.getLogger(AccessLog.class);
    /** stdout is one per process, and so is its batcher (started with the first access log). */
    private static volatile LineBatcher stdout;
    private static final FastThreadLocal<JsonLine> LINE = new FastThreadLocal<>() {
        @Override
        protected JsonLine initialValue() {
            return new JsonLine();
        }
    };
    private static final CopyOnWriteArrayList<Consumer<String>> TAPS = new CopyOnWriteArrayList<>();

    private final TokenBucket refusals;
    private final Counter skipped;
    private final boolean forcedOff = "OFF".equalsIgnoreCase(System.getProperty(LEVEL_PROPERTY, "").trim());
    private final BooleanSupplier configured;

    /**
     * The access log with the refusal limit of the system property, its counters on {@code registry}.
     *
     * @param configured whether the running config has it on (read per request: a reload or rollback switches it)
     */
    public AccessLog(MeterRegistry registry, BooleanSupplier configured) {
        this(registry, refusalsPerSecond(), Clock.SYSTEM, configured);
    }

    /** An access log that is on; @param refusalsPerSecond refusal lines a second, and the burst; 0 or less = no limit */
    public AccessLog(MeterRegistry registry, double refusalsPerSecond, Clock clock) {
        this(registry, refusalsPerSecond, clock, () -> true);
    }

    private AccessLog(MeterRegistry registry, double refusalsPerSecond, Clock clock, BooleanSupplier configured) {
        this.configured = configured;
        this.refusals = refusalsPerSecond > 0
                ? new TokenBucket(refusalsPerSecond, (int) Math.max(1, Math.min(Integer.MAX_VALUE, refusalsPerSecond)),
                        clock)
                : null;
        this.skipped = Counter.builder(SKIPPED)
                .description("Access log lines of refused malformed requests left out by the refusal rate limit")
                .register(registry);
        FunctionCounter.builder(DROPPED, AccessLog.class, ignored -> stdout == null ? 0 : stdout.dropped())
                .description("Access log lines dropped because stdout could not keep up (never waited for)")
                .register(registry);
    }

    private static LineBatcher stdout() {
        LineBatcher b = stdout;
        if (b == null) {
            synchronized (AccessLog.class) {
                b = stdout;
                if (b == null) {
                    b = new LineBatcher(System.out, FLUSH_MILLIS, "bulwark-access-log");
                    stdout = b;
                }
            }
        }
        return b;
    }

    private static double refusalsPerSecond() {
        String value = System.getProperty(REFUSALS_PER_SECOND_PROPERTY);
        if (value == null || value.isBlank()) {
            return DEFAULT_REFUSALS_PER_SECOND;
        }
        try {
            return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            LOG.warn("-D{}={} is not a number; using {}", REFUSALS_PER_SECOND_PROPERTY, value,
                    DEFAULT_REFUSALS_PER_SECOND);
            return DEFAULT_REFUSALS_PER_SECOND;
        }
    }

    /**
     * One finished request. {@code upstream}, {@code route}, {@code cluster}, {@code error} may be
     * null; {@code fallback} is {@code stale} or {@code fixed} when a fallback answered, else null.
     */
    public record Entry(long timeMillis, String requestId, String method, String path, int status, String route,
                        String cluster, String upstream, int attempts, double durationMs, double upstreamMs,
                        long bytesIn, long bytesOut, String error, boolean hedged, int wonAttempt, String fallback) {

        /** An entry without a fallback. */
        public Entry(long timeMillis, String requestId, String method, String path, int status, String route,
                     String cluster, String upstream, int attempts, double durationMs, double upstreamMs,
                     long bytesIn, long bytesOut, String error, boolean hedged, int wonAttempt) {
            this(timeMillis, requestId, method, path, status, route, cluster, upstream, attempts, durationMs,
                    upstreamMs, bytesIn, bytesOut, error, hedged, wonAttempt, null);
        }

        /** An entry of a request that was not hedged (its winning try is its last). */
        public Entry(long timeMillis, String requestId, String method, String path, int status, String route,
                     String cluster, String upstream, int attempts, double durationMs, double upstreamMs,
                     long bytesIn, long bytesOut, String error) {
            this(timeMillis, requestId, method, path, status, route, cluster, upstream, attempts, durationMs,
                    upstreamMs, bytesIn, bytesOut, error, false, attempts, null);
        }
    }

    /** On in the running config, and not turned off by {@code -Dbulwark.access.level=OFF}. */
    public boolean enabled() {
        return !forcedOff && configured.getAsBoolean();
    }

    public void log(Entry e) {
        if (enabled()) {
            write(e);
        }
    }

    /**
     * Logs the refusal of a malformed request, within the refusal rate limit; past it the line is
     * counted as skipped instead.
     */
    public void logRefusal(Entry e) {
        if (!enabled()) {
            return;
        }
        if (refusals != null && !refusals.tryAcquire().allowed()) {
            skipped.increment();
            return;
        }
        write(e);
    }

    /** Refusal lines left out so far. */
    public long skipped() {
        return (long) skipped.count();
    }

    /** Waits (at most {@code timeoutMillis}) until every line logged so far is on stdout: at shutdown. */
    public static void flush(long timeoutMillis) throws InterruptedException {
        LineBatcher b = stdout;
        if (b != null) {
            b.flush(timeoutMillis);
        }
    }

    /**
     * Also hands every line (without its newline) to {@code tap} until the returned handle is
     * closed: how tests read the log of a proxy running in their JVM. Costs one volatile read per
     * line while no tap is open.
     */
    public static AutoCloseable tap(Consumer<String> tap) {
        TAPS.add(tap);
        return () -> TAPS.remove(tap);
    }

    private void write(Entry e) {
        JsonLine line = format(e);
        stdout().add(line.bytes(), line.length());
        if (!TAPS.isEmpty()) {
            String text = line.text();
            for (Consumer<String> tap : TAPS) {
                tap.accept(text);
            }
        }
    }

    private static JsonLine format(Entry e) {
        return LINE.get().start()
                .time("time", e.timeMillis())
                .string("request_id", e.requestId())
                .string("method", e.method())
                .string("path", e.path())
                .number("status", e.status())
                .string("route", e.route())
                .string("cluster", e.cluster())
                .string("upstream", e.upstream())
                .number("attempts", e.attempts())
                .millis3("duration_ms", e.durationMs())
                .millis3("upstream_ms", e.upstreamMs())
                .number("bytes_in", e.bytesIn())
                .number("bytes_out", e.bytesOut())
                .string("error", e.error())
                .bool("hedged", e.hedged())
                .number("won_attempt", e.wonAttempt())
                .string("fallback", e.fallback())
                .end();
    }

    /** The line of one entry, without its newline. */
    public static String toJson(Entry e) {
        return format(e).text();
    }
}
