package io.bulwark.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.bulwark.config.FaultConfig;

import java.time.Duration;
import java.util.Iterator;
import java.util.Set;

/**
 * Parses the body of {@code PUT /api/v1/routes/{route}/fault}: the shape of the config's
 * {@code fault} block, {@code {"delay":{"percent":10,"duration":"200ms"},"abort":{"percent":5,"status":503}}};
 * {@code {}} turns faults off. Anything malformed is a 400 with the reason.
 */
final class FaultBody {

    private FaultBody() {
    }

    static FaultConfig parse(JsonNode body) {
        onlyKeys(body, Set.of("delay", "abort"), "");
        FaultConfig.Delay delay = FaultConfig.NONE.delay();
        FaultConfig.Abort abort = FaultConfig.NONE.abort();
        if (body.has("delay")) {
            JsonNode d = object(body.get("delay"), "delay");
            onlyKeys(d, Set.of("percent", "duration"), "delay.");
            delay = new FaultConfig.Delay(percent(d, "delay.percent"),
                    d.has("duration") ? duration(d.get("duration")) : Duration.ZERO);
        }
        if (body.has("abort")) {
            JsonNode a = object(body.get("abort"), "abort");
            onlyKeys(a, Set.of("percent", "status"), "abort.");
            int status = 503;
            if (a.has("status")) {
                JsonNode s = a.get("status");
                if (!s.isIntegralNumber() || s.asInt() < 200 || s.asInt() > 599) {
                    throw new AdminApi.BadRequest("abort.status must be an HTTP status 200..599");
                }
                status = s.asInt();
            }
            abort = new FaultConfig.Abort(percent(a, "abort.percent"), status);
        }
        return new FaultConfig(delay, abort);
    }

    private static JsonNode object(JsonNode n, String name) {
        if (n == null || !n.isObject()) {
            throw new AdminApi.BadRequest(name + " must be an object");
        }
        return n;
    }

    private static void onlyKeys(JsonNode n, Set<String> allowed, String prefix) {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw new AdminApi.BadRequest("unknown field " + prefix + f + " (expected one of " + allowed + ")");
            }
        }
    }

    private static double percent(JsonNode parent, String path) {
        String field = path.substring(path.indexOf('.') + 1);
        JsonNode p = parent.get(field);
        if (p == null) {
            return 0;
        }
        if (!p.isNumber() || p.asDouble() < 0 || p.asDouble() > 100) {
            throw new AdminApi.BadRequest(path + " must be a number 0..100");
        }
        return p.asDouble();
    }

    private static Duration duration(JsonNode n) {
        if (!n.isTextual()) {
            throw new AdminApi.BadRequest("delay.duration must be a duration string such as \"200ms\"");
        }
        try {
            return AdminApi.ttl(n.asText());
        } catch (AdminApi.BadRequest e) {
            throw new AdminApi.BadRequest("delay.duration must be a positive duration such as \"200ms\"");
        }
    }
}
