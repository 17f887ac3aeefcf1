package io.bulwark.proxy.log;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.bulwark.routing.Clock;
import io.bulwark.routing.ratelimit.TokenBucket;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;

/**
 * The access log (its fields are listed in the README, "Running with your own config"): one JSON
 * object per request on the {@code bulwark.access} logger, which logback writes to stdout through
 * a non-blocking async appender (a full queue drops lines rather than stalling an event loop).
 *
 * <p>Refusals of malformed input (400, 408, 414, 431 before a request could be routed) are
 * logged through a token bucket of {@code bulwark.access.refusals-per-second} lines a second
 * (system property, default {@value #DEFAULT_REFUSALS_PER_SECOND}, as large a burst), so a flood
 * of garbage cannot flood the log; the lines left out are counted in
 * {@code bulwark_access_log_skipped_total}. Every other request is always logged.
 */
public final class AccessLog {

    public static final String SKIPPED = "bulwark.access.log.skipped";
    public static final String REFUSALS_PER_SECOND_PROPERTY = "bulwark.access.refusals-per-second";
    static final int DEFAULT_REFUSALS_PER_SECOND = 100;

    private static final Logger LOG = LoggerFactory.getLogger("bulwark.access");
    private static final JsonFactory JSON = new JsonFactory();

    private final TokenBucket refusals;
    private final Counter skipped;

    /** The access log with the refusal limit of the system property, its skip counter on {@code registry}. */
    public AccessLog(MeterRegistry registry) {
        this(registry, refusalsPerSecond(), Clock.SYSTEM);
    }

    /** @param refusalsPerSecond refusal lines a second, and the burst; 0 or less = no limit */
    public AccessLog(MeterRegistry registry, double refusalsPerSecond, Clock clock) {
        this.refusals = refusalsPerSecond > 0
                ? new TokenBucket(refusalsPerSecond, (int) Math.max(1, Math.min(Integer.MAX_VALUE, refusalsPerSecond)),
                        clock)
                : null;
        this.skipped = Counter.builder(SKIPPED)
                .description("Access log lines of refused malformed requests left out by the refusal rate limit")
                .register(registry);
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

    /** One finished request. {@code upstream}, {@code route}, {@code cluster}, {@code error} may be null. */
    public record Entry(long timeMillis, String requestId, String method, String path, int status, String route,
                        String cluster, String upstream, int attempts, double durationMs, double upstreamMs,
                        long bytesIn, long bytesOut, String error, boolean hedged, int wonAttempt) {

        /** An entry of a request that was not hedged (its winning try is its last). */
        public Entry(long timeMillis, String requestId, String method, String path, int status, String route,
                     String cluster, String upstream, int attempts, double durationMs, double upstreamMs,
                     long bytesIn, long bytesOut, String error) {
            this(timeMillis, requestId, method, path, status, route, cluster, upstream, attempts, durationMs,
                    upstreamMs, bytesIn, bytesOut, error, false, attempts);
        }
    }

    public boolean enabled() {
        return LOG.isInfoEnabled();
    }

    public void log(Entry e) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        LOG.info(toJson(e));
    }

    /**
     * Logs the refusal of a malformed request, within the refusal rate limit; past it the line is
     * counted as skipped instead.
     */
    public void logRefusal(Entry e) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        if (refusals != null && !refusals.tryAcquire().allowed()) {
            skipped.increment();
            return;
        }
        LOG.info(toJson(e));
    }

    /** Refusal lines left out so far. */
    public long skipped() {
        return (long) skipped.count();
    }

    public static String toJson(Entry e) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("time", Instant.ofEpochMilli(e.timeMillis()).toString());
            g.writeStringField("request_id", e.requestId());
            g.writeStringField("method", e.method());
            g.writeStringField("path", e.path());
            g.writeNumberField("status", e.status());
            g.writeStringField("route", e.route());
            g.writeStringField("cluster", e.cluster());
            g.writeStringField("upstream", e.upstream());
            g.writeNumberField("attempts", e.attempts());
            g.writeNumberField("duration_ms", Math.round(e.durationMs() * 1000) / 1000.0);
            g.writeNumberField("upstream_ms", Math.round(e.upstreamMs() * 1000) / 1000.0);
            g.writeNumberField("bytes_in", e.bytesIn());
            g.writeNumberField("bytes_out", e.bytesOut());
            g.writeStringField("error", e.error());
            g.writeBooleanField("hedged", e.hedged());
            g.writeNumberField("won_attempt", e.wonAttempt());
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toString();
    }
}
