package io.bulwark.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bulwark.config.LimitsConfig;
import io.bulwark.routing.Clock;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.limits.ClusterLimits;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code GET /api/v1/summary}: in one call, what the operator console polls every second. Every
 * cluster as {@code GET /api/v1/clusters} shows it, each upstream with what the console shows
 * beside it (pending TTL reverts, slow start, peak-EWMA latency), each cluster with its configured
 * limits beside the ones in use, plus the server's clock (so TTLs count down without trusting the
 * browser's), the event log's publish count (the console refetches events and recovery only when
 * it moved) and the last config reload. Built only when asked: nothing runs while no one polls.
 */
final class ConsoleSummary {

    private final ProxyControl proxy;
    private final EventLog events;
    private final OperatorActions actions;
    private final Clock clock;

    ConsoleSummary(ProxyControl proxy, EventLog events, OperatorActions actions, Clock clock) {
        this.proxy = proxy;
        this.events = events;
        this.actions = actions;
        this.clock = clock;
    }

    ObjectNode render() {
        ObjectNode root = StateJson.MAPPER.createObjectNode();
        root.put("time", Instant.ofEpochMilli(clock.currentTimeMillis()).toString());
        root.put("events_published", events.published());
        events.lastReload().ifPresentOrElse(e -> root.set("last_reload", reload(e)), () -> root.putNull("last_reload"));
        ArrayNode paths = root.putArray("reload_paths");
        proxy.reloadPaths().forEach(paths::add);
        root.put("routes", proxy.routes().size());
        ConfigVersions versions = proxy.versions();
        if (versions != null) {
            root.set("config_version", VersionJson.running(versions));
        }
        ArrayNode clusters = root.putArray("clusters");
        for (Cluster c : proxy.clusters().values()) {
            clusters.add(cluster(c));
        }
        return root;
    }

    private ObjectNode cluster(Cluster c) {
        ClusterLimits limits = proxy.limits(c);
        ObjectNode n = StateJson.cluster(c, proxy.circuitBreaker(c), limits);
        if (limits != null) {
            LimitsConfig max = limits.config();
            ((ObjectNode) n.get("limits")).putObject("max")
                    .put("active_requests", max.maxConcurrentRequests())
                    .put("pending_requests", max.maxPendingRequests())
                    .put("active_retries", max.maxConcurrentRetries());
        }
        // By address: a DNS refresh may change the cluster's upstreams between two reads of the list.
        Map<String, Upstream> byAddress = new HashMap<>();
        c.upstreams().forEach(u -> byAddress.put(u.address(), u));
        for (JsonNode u : n.get("upstreams")) {
            Upstream upstream = byAddress.get(u.get("address").asText());
            if (upstream != null) {
                extras((ObjectNode) u, upstream);
            }
        }
        return n;
    }

    private void extras(ObjectNode n, Upstream u) {
        n.put("configured_weight", u.configuredWeight());
        n.put("warming_up", u.warmingUp());
        n.put("slow_start_ms", u.slowStart().toMillis());
        n.put("latency_ewma_ms", Math.round(u.decayedEwmaLatencyNanos() / 100_000.0) / 10.0);
        ObjectNode ttl = n.putObject("ttl_until");
        putUntil(ttl, "drain", actions.until(u, OperatorActions.Kind.DRAIN));
        putUntil(ttl, "override", actions.until(u, OperatorActions.Kind.OVERRIDE));
        putUntil(ttl, "weight", actions.until(u, OperatorActions.Kind.WEIGHT));
    }

    private static void putUntil(ObjectNode n, String field, long epochMillis) {
        if (epochMillis == 0) {
            n.putNull(field);
        } else {
            n.put(field, Instant.ofEpochMilli(epochMillis).toString());
        }
    }

    private static ObjectNode reload(StateEvent e) {
        ObjectNode n = StateJson.MAPPER.createObjectNode();
        n.put("time", Instant.ofEpochMilli(e.timeMillis()).toString());
        n.put("result", e.reason());
        Object trigger = e.detail().get("trigger");
        n.put("trigger", trigger == null ? null : trigger.toString());
        Object summary = e.detail().get("summary");
        if (summary != null) {
            n.put("summary", summary.toString());
        }
        Object problem = e.detail().get("first_problem");
        if (problem != null) {
            n.put("first_problem", problem.toString());
            n.put("problems", ((Number) e.detail().getOrDefault("problems", 0)).intValue());
        }
        return n;
    }
}
