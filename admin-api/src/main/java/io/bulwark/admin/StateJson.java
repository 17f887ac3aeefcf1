package io.bulwark.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bulwark.config.RouteConfig;
import io.bulwark.config.RouteMatch;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.Route;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.circuit.ClusterCircuitBreaker;
import io.bulwark.routing.limits.ClusterLimits;
import io.bulwark.routing.outlier.OutlierState;
import io.bulwark.routing.recovery.RecoveryTimeline;

import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Renders run-time state as the admin API's JSON (examples in the README, "Admin API"). The
 * field names are a public interface that scripts and dashboards read: they may gain fields
 * (extra detail an operator needs) but never rename or drop one.
 */
final class StateJson {

    static final ObjectMapper MAPPER = new ObjectMapper();

    private StateJson() {
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    static ObjectNode upstream(Upstream u) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("address", u.address());
        n.put("admin", lower(u.admin()));
        n.put("health", lower(u.health()));
        Optional<OutlierState> outlier = u.outlier();
        if (outlier.isPresent()) {
            ObjectNode o = n.putObject("outlier");
            o.put("ejected_until", outlier.get().ejectedUntil().toString());
            o.put("reason", outlier.get().reason());
            o.put("times_ejected", outlier.get().timesEjected());
            o.put("awaiting_probe", outlier.get().awaitingProbe());
            o.put("readmit_guarded", outlier.get().readmitGuarded());
        } else {
            n.putNull("outlier");
        }
        n.put("override", lower(u.override()));
        n.put("eligible", u.eligible());
        ArrayNode reasons = n.putArray("reasons");
        u.reasons().forEach(reasons::add);
        n.put("weight", u.weight());
        n.put("effective_weight", Math.round(u.effectiveWeight() * 1000) / 1000.0);
        n.put("active_requests", u.activeRequests());
        ObjectNode stats = n.putObject("stats");
        stats.put("requests", u.requests());
        stats.put("failures", u.failures());
        return n;
    }

    static ObjectNode cluster(Cluster c, ClusterCircuitBreaker breaker, ClusterLimits limits) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("name", c.name());
        n.put("load_balancer", c.config().loadBalancer().configName());
        n.put("protocol", c.config().protocol().version().configName());
        n.put("panic", c.hostSet().panic());
        if (breaker != null) {
            ObjectNode cb = n.putObject("circuit_breaker");
            cb.put("state", breaker.state());
            cb.put("enabled", breaker.enabled());
            java.util.OptionalDouble rate = breaker.failureRate();
            // Always a number, so clients can compare it without a null check; before minimum-calls
            // there is no rate yet: 0, with failure_rate_known false.
            cb.put("failure_rate", rate.isPresent() ? Math.round(rate.getAsDouble() * 100) / 100.0 : 0.0);
            cb.put("failure_rate_known", rate.isPresent());
        }
        if (limits != null) {
            ObjectNode l = n.putObject("limits");
            l.put("active_requests", limits.activeRequests());
            l.put("pending_requests", limits.pendingRequests());
            l.put("active_retries", limits.activeRetries());
            io.bulwark.routing.limits.AdaptiveLimit adaptive = limits.adaptive();
            if (adaptive != null) {
                l.put("adaptive_limit", adaptive.limit());
                l.put("adaptive_rejected", adaptive.rejected());
            }
        }
        ArrayNode ups = n.putArray("upstreams");
        for (Upstream u : c.upstreams()) {
            ups.add(upstream(u));
        }
        return n;
    }

    /** @param fault the fault settings in force (the config's, or the operator's run-time switch) */
    static ObjectNode route(Route r, io.bulwark.config.FaultConfig fault) {
        RouteConfig rc = r.config();
        ObjectNode n = MAPPER.createObjectNode();
        n.put("name", r.name());
        ObjectNode match = n.putObject("match");
        RouteMatch m = rc.match();
        String kind = switch (m.path().kind()) {
            case PREFIX -> "path_prefix";
            case EXACT -> "path_exact";
            case REGEX -> "path_regex";
        };
        match.put(kind, m.path().value());
        m.host().ifPresent(h -> match.put("host", h));
        if (!m.methods().isEmpty()) {
            ArrayNode methods = match.putArray("methods");
            m.methods().stream().sorted().forEach(methods::add);
        }
        if (!m.headers().isEmpty()) {
            ObjectNode headers = match.putObject("headers");
            m.headers().forEach(headers::put);
        }
        ArrayNode clusters = n.putArray("clusters");
        for (RouteConfig.WeightedCluster wc : rc.clusters()) {
            clusters.addObject().put("name", wc.name()).put("weight", wc.weight());
        }
        rc.prefixRewrite().ifPresentOrElse(p -> n.put("prefix_rewrite", p), () -> n.putNull("prefix_rewrite"));
        ObjectNode requestHeaders = n.putObject("request_headers");
        ObjectNode add = requestHeaders.putObject("add");
        rc.requestHeaders().add().forEach(add::put);
        ArrayNode remove = requestHeaders.putArray("remove");
        rc.requestHeaders().remove().forEach(remove::add);
        n.put("timeout_ms", rc.timeout().toMillis());
        ObjectNode retry = n.putObject("retry");
        retry.put("max_retries", rc.retry().maxRetries());
        ArrayNode on = retry.putArray("retry_on");
        rc.retry().retryOn().stream().map(x -> x.configName()).sorted().forEach(on::add);
        ArrayNode statuses = retry.putArray("retriable_status");
        rc.retry().retriableStatus().stream().sorted().forEach(statuses::add);
        retry.put("per_try_timeout_ms", rc.retry().perTryTimeout().toMillis());
        retry.putObject("backoff")
                .put("base_ms", rc.retry().backoff().base().toMillis())
                .put("max_ms", rc.retry().backoff().max().toMillis());
        retry.put("budget_percent", rc.retry().budgetPercent());
        retry.put("min_retry_concurrency", rc.retry().minRetryConcurrency());
        retry.put("retry_non_idempotent", rc.retry().retryNonIdempotent());
        retry.put("buffer_limit", rc.retry().bufferLimit());
        rc.rateLimit().ifPresentOrElse(rl -> n.putObject("rate_limit")
                .put("requests_per_second", rl.requestsPerSecond())
                .put("burst", rl.burst())
                .put("key", rl.key().toString()), () -> n.putNull("rate_limit"));
        ObjectNode f = fault(r.name(), fault);
        f.remove("route");
        n.set("fault", f);
        rc.hedge().ifPresentOrElse(h -> {
            ObjectNode hedge = n.putObject("hedge");
            h.delay().ifPresentOrElse(d -> hedge.put("delay_ms", d.toMillis()), () -> hedge.put("delay", "p95"));
            hedge.put("max_extra", h.maxExtra());
        }, () -> n.putNull("hedge"));
        return n;
    }

    static ObjectNode fault(String route, io.bulwark.config.FaultConfig f) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("route", route);
        n.put("active", f.active());
        n.putObject("delay").put("percent", f.delay().percent()).put("duration_ms", f.delay().duration().toMillis());
        n.putObject("abort").put("percent", f.abort().percent()).put("status", f.abort().status());
        return n;
    }

    static ObjectNode event(StateEvent e) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("time", Instant.ofEpochMilli(e.timeMillis()).toString());
        n.put("type", e.type());
        n.put("cluster", e.cluster());
        n.put("upstream", e.upstream());
        n.put("from", e.from());
        n.put("to", e.to());
        n.put("reason", e.reason());
        n.put("source", e.source());
        ObjectNode detail = n.putObject("detail");
        for (Map.Entry<String, Object> d : e.detail().entrySet()) {
            detail.set(d.getKey(), MAPPER.valueToTree(d.getValue()));
        }
        return n;
    }

    static ObjectNode recovery(Upstream u) {
        RecoveryTimeline t = u.recovery().timeline();
        ObjectNode n = MAPPER.createObjectNode();
        n.put("cluster", u.cluster());
        n.put("address", u.address());
        putInstant(n, "last_failure", t.lastFailure());
        putLong(n, "time_to_detect_ms", t.timeToDetectMs());
        putLong(n, "time_out_ms", t.timeOutMs());
        putLong(n, "time_to_recover_ms", t.timeToRecoverMs());
        putLong(n, "time_to_readmit_ms", t.timeToReadmitMs());
        putLong(n, "time_to_full_share_ms", t.timeToFullShareMs());
        n.put("in_episode", t.current().isPresent());
        ArrayNode episodes = n.putArray("episodes");
        t.current().ifPresent(e -> episodes.add(episode(e, true)));
        t.history().forEach(e -> episodes.add(episode(e, false)));
        return n;
    }

    private static ObjectNode episode(RecoveryTimeline.Episode e, boolean current) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("current", current);
        n.put("reason", e.reason());
        n.put("first_failure", e.firstFailure().toString());
        n.put("taken_out", e.takenOut().toString());
        putInstant(n, "first_passing_check", e.firstPassingCheck());
        putInstant(n, "back", e.back());
        putInstant(n, "full_weight", e.fullWeight());
        n.put("time_to_detect_ms", e.timeToDetectMs());
        putLong(n, "time_out_ms", e.timeOutMs());
        putLong(n, "time_to_recover_ms", e.timeToRecoverMs());
        putLong(n, "time_to_readmit_ms", e.timeToReadmitMs());
        putLong(n, "time_to_full_share_ms", e.timeToFullShareMs());
        return n;
    }

    private static void putInstant(ObjectNode n, String field, Optional<Instant> value) {
        if (value.isPresent()) {
            n.put(field, value.get().toString());
        } else {
            n.putNull(field);
        }
    }

    private static void putLong(ObjectNode n, String field, OptionalLong value) {
        if (value.isPresent()) {
            n.put(field, value.getAsLong());
        } else {
            n.putNull(field);
        }
    }

    static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
