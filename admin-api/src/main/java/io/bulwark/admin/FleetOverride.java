package io.bulwark.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Locale;

/**
 * One fleet-wide operator override, as kept in the fleet's Redis hash and sent to every member:
 * an upstream's drain, health override or weight, with where it came from.
 *
 * @param value {@code draining} for a drain; {@code healthy}/{@code unhealthy} for a health override;
 *     the weight as a number for a weight
 * @param untilMillis when it reverts by itself (epoch millis); 0 for never
 * @param origin the member id of the sidecar it was issued on
 * @param timeMillis when it was issued
 * @param id unique per change, so members can say which change they saw
 */
public record FleetOverride(String cluster, String address, Kind kind, String value, long untilMillis, String origin,
                            long timeMillis, String id, String note) {

    public enum Kind { DRAIN, OVERRIDE, WEIGHT }

    /** The field of the Redis hash: one per upstream and kind. */
    public String field() {
        return field(cluster, address, kind);
    }

    public static String field(String cluster, String address, Kind kind) {
        return cluster + "|" + address + "|" + kind.name().toLowerCase(Locale.ROOT);
    }

    public String toJson() {
        return StateJson.write(json());
    }

    ObjectNode json() {
        ObjectNode n = StateJson.MAPPER.createObjectNode();
        n.put("cluster", cluster);
        n.put("address", address);
        n.put("kind", kind.name().toLowerCase(Locale.ROOT));
        n.put("value", value);
        n.put("until", untilMillis == 0 ? null : java.time.Instant.ofEpochMilli(untilMillis).toString());
        n.put("origin", origin);
        n.put("time", java.time.Instant.ofEpochMilli(timeMillis).toString());
        n.put("id", id);
        n.put("note", note);
        return n;
    }

    /** Parses what {@link #toJson()} wrote; throws IllegalArgumentException for anything else. */
    public static FleetOverride parse(String json) {
        try {
            JsonNode n = StateJson.MAPPER.readTree(json);
            return new FleetOverride(n.get("cluster").asText(), n.get("address").asText(),
                    Kind.valueOf(n.get("kind").asText().toUpperCase(Locale.ROOT)), n.get("value").asText(),
                    n.hasNonNull("until") ? java.time.Instant.parse(n.get("until").asText()).toEpochMilli() : 0,
                    n.path("origin").asText(""), java.time.Instant.parse(n.get("time").asText()).toEpochMilli(),
                    n.path("id").asText(""), n.hasNonNull("note") ? n.get("note").asText() : null);
        } catch (com.fasterxml.jackson.core.JsonProcessingException | RuntimeException e) {
            throw new IllegalArgumentException("not a fleet override: " + e.getMessage(), e);
        }
    }
}
