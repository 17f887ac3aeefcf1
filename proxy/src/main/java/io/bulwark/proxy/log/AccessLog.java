package io.bulwark.proxy.log;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
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
 */
public final class AccessLog {

    private static final Logger LOG = LoggerFactory.getLogger("bulwark.access");
    private static final JsonFactory JSON = new JsonFactory();

    /** One finished request. {@code upstream}, {@code route}, {@code cluster}, {@code error} may be null. */
    public record Entry(long timeMillis, String requestId, String method, String path, int status, String route,
                        String cluster, String upstream, int attempts, double durationMs, double upstreamMs,
                        long bytesIn, long bytesOut, String error) {
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
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toString();
    }
}
