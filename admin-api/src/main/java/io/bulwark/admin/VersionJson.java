package io.bulwark.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bulwark.config.ConfigDiff;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The JSON of config versions ({@code GET /api/v1/config/versions}) and of the running one. */
final class VersionJson {

    private VersionJson() {
    }

    /** {@code running}, {@code differs_from_file} and, when it differs, a {@code note} saying why. */
    static ObjectNode running(ConfigVersions versions) {
        ObjectNode n = StateJson.MAPPER.createObjectNode();
        ConfigVersions.Version current = versions.current().orElse(null);
        n.put("running", current == null ? null : current.number());
        boolean differs = versions.differsFromFile();
        n.put("differs_from_file", differs);
        versions.note().ifPresent(note -> n.put("note", note));
        return n;
    }

    static ObjectNode version(ConfigVersions versions, ConfigVersions.Version v, boolean withConfig) {
        ObjectNode n = StateJson.MAPPER.createObjectNode();
        n.put("number", v.number());
        n.put("time", Instant.ofEpochMilli(v.timeMillis()).toString());
        n.put("source", v.source());
        n.put("hash", v.hash());
        boolean running = versions.current().map(c -> c.number() == v.number()).orElse(false);
        n.put("running", running);
        n.put("rolled_back", !running && versions.rolledBack(v.hash()));
        n.put("restorable", v.config().isPresent());
        n.put("summary", v.changes().describe());
        n.set("changes", changes(v.changes()));
        n.set("detail", StateJson.MAPPER.valueToTree(v.detail()));
        if (withConfig) {
            try {
                n.set("config", StateJson.MAPPER.readTree(v.configJson()));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("the config JSON does not parse", e);
            }
        }
        return n;
    }

    static ObjectNode changes(ConfigDiff d) {
        ObjectNode n = StateJson.MAPPER.createObjectNode();
        strings(n.putArray("clusters_added"), d.clustersAdded());
        strings(n.putArray("clusters_removed"), d.clustersRemoved());
        keys(n.putObject("clusters_changed"), d.clustersChanged());
        strings(n.putArray("routes_added"), d.routesAdded());
        strings(n.putArray("routes_removed"), d.routesRemoved());
        keys(n.putObject("routes_changed"), d.routesChanged());
        n.put("routes_reordered", d.routesReordered());
        strings(n.putArray("settings_changed"), d.settingsChanged());
        return n;
    }

    private static void strings(ArrayNode a, List<String> values) {
        values.forEach(a::add);
    }

    private static void keys(ObjectNode n, Map<String, List<String>> changed) {
        changed.forEach((name, keys) -> strings(n.putArray(name), keys));
    }
}
