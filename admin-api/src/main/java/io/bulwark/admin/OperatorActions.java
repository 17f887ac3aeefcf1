package io.bulwark.admin;

import io.bulwark.routing.Clock;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The operator's changes to an upstream (drain, restore, health override, weight), each written
 * to the event log, each optionally with a TTL after which it reverts by itself (with an event
 * of its own). A newer call on the same upstream and kind replaces the pending revert.
 */
final class OperatorActions {

    enum Kind { DRAIN, OVERRIDE, WEIGHT }

    private record Key(String cluster, String address, Kind kind) {
    }

    private final ProxyControl proxy;
    private final EventSink events;
    private final Clock clock;
    private final ScheduledExecutorService timers;
    private final Map<Key, ScheduledFuture<?>> reverts = new ConcurrentHashMap<>();

    OperatorActions(ProxyControl proxy, EventSink events, Clock clock, ScheduledExecutorService timers) {
        this.proxy = proxy;
        this.events = events;
        this.clock = clock;
        this.timers = timers;
    }

    /** True when {@code u} is the only eligible upstream left in its cluster. */
    static boolean lastEligible(Cluster cluster, Upstream u) {
        if (!u.eligible()) {
            return false;
        }
        return cluster.upstreams().stream().noneMatch(other -> other != u && other.eligible());
    }

    void drain(Upstream u, Duration ttl) {
        String from = StateJson.lower(u.admin());
        u.setAdmin(Upstream.AdminState.DRAINING);
        proxy.closeIdleConnections(u);
        publish(u, "drained", from, StateJson.lower(u.admin()), "operator", ttlDetail(ttl));
        scheduleRevert(u, Kind.DRAIN, ttl, () -> {
            if (u.admin() != Upstream.AdminState.ACTIVE) {
                String before = StateJson.lower(u.admin());
                u.setAdmin(Upstream.AdminState.ACTIVE);
                publish(u, "restored", before, "active", "ttl_expired", Map.of());
            }
        });
    }

    void restore(Upstream u) {
        cancelRevert(u, Kind.DRAIN);
        String from = StateJson.lower(u.admin());
        u.setAdmin(Upstream.AdminState.ACTIVE);
        publish(u, "restored", from, "active", "operator", Map.of());
    }

    void override(Upstream u, Upstream.HealthOverride value, Duration ttl) {
        String from = StateJson.lower(u.override());
        u.setOverride(value);
        publish(u, "health_override", from, StateJson.lower(value), "operator", ttlDetail(ttl));
        if (value == Upstream.HealthOverride.NONE) {
            cancelRevert(u, Kind.OVERRIDE);
            return;
        }
        scheduleRevert(u, Kind.OVERRIDE, ttl, () -> {
            String before = StateJson.lower(u.override());
            u.setOverride(Upstream.HealthOverride.NONE);
            publish(u, "health_override", before, "none", "ttl_expired", Map.of());
        });
    }

    void weight(Upstream u, int weight, Duration ttl) {
        int from = u.weight();
        u.setWeight(weight);
        publish(u, "weight", Integer.toString(from), Integer.toString(weight), "operator", ttlDetail(ttl));
        scheduleRevert(u, Kind.WEIGHT, ttl, () -> {
            int before = u.weight();
            u.setWeight(u.configuredWeight());
            publish(u, "weight", Integer.toString(before), Integer.toString(u.configuredWeight()), "ttl_expired",
                    Map.of());
        });
    }

    /** Ends an ejection now and resets the backoff multiplier; the detector logs the event. */
    boolean uneject(Cluster cluster, Upstream u) {
        return cluster.outlierDetector().uneject(u);
    }

    private static Map<String, Object> ttlDetail(Duration ttl) {
        Map<String, Object> d = new LinkedHashMap<>();
        if (ttl != null) {
            d.put("ttl_ms", ttl.toMillis());
        }
        return d;
    }

    private void scheduleRevert(Upstream u, Kind kind, Duration ttl, Runnable revert) {
        Key key = new Key(u.cluster(), u.address(), kind);
        ScheduledFuture<?> previous;
        if (ttl == null) {
            previous = reverts.remove(key);
        } else {
            ScheduledFuture<?>[] self = new ScheduledFuture<?>[1];
            self[0] = timers.schedule(() -> {
                reverts.remove(key, self[0]);
                revert.run();
            }, ttl.toMillis(), TimeUnit.MILLISECONDS);
            previous = reverts.put(key, self[0]);
        }
        if (previous != null) {
            previous.cancel(false);
        }
    }

    private void cancelRevert(Upstream u, Kind kind) {
        ScheduledFuture<?> f = reverts.remove(new Key(u.cluster(), u.address(), kind));
        if (f != null) {
            f.cancel(false);
        }
    }

    private void publish(Upstream u, String type, String from, String to, String reason, Map<String, Object> detail) {
        events.publish(new StateEvent(clock.currentTimeMillis(), type, u.cluster(), u.address(), from, to, reason,
                detail));
    }
}
