package io.bulwark.proxy.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bulwark.proxy.log.AccessLog;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;


/**
 * Collects the access log's lines (through {@link AccessLog#tap}) as parsed JSON while it is
 * open. Lines are written on event-loop threads, so tests wait for the one they expect.
 */
public final class AccessLogCapture implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final AutoCloseable tap = AccessLog.tap(lines::add);

    /** Every line so far, parsed. */
    public List<JsonNode> lines() {
        return lines.stream().map(AccessLogCapture::parse).toList();
    }

    /** Waits up to 5 s for a line that matches, and returns it. */
    public JsonNode awaitLine(Predicate<JsonNode> matching) {
        JsonNode[] found = new JsonNode[1];
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> {
            for (JsonNode line : lines()) {
                if (matching.test(line)) {
                    found[0] = line;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    /** Waits for the line of the request with this id. */
    public JsonNode awaitRequest(String requestId) {
        return awaitLine(line -> requestId.equals(line.path("request_id").asText(null)));
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError("not JSON: " + line, e);
        }
    }

    @Override
    public void close() {
        try {
            tap.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
