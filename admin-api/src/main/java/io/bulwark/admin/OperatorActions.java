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
    /** When each pending revert is due (epoch millis), for the state file. */
    private final Map<Key, Long> untils = new ConcurrentHashMap<>();
    private final OperatorStateFile stateFile;

    /** @param stateFile where overrides are persisted; null when {@code admin.state-file} is not set */
    OperatorActions(ProxyControl proxy, EventSink events, Clock clock, ScheduledExecutorService timers,
                    OperatorStateFile stateFile) {
        this.proxy = proxy;
        this.events = events;
        this.clock = clock;
        this.timers = timers;
        this.stateFile = stateFile;
    }

    private void persist(Upstream u) {
        if (stateFile != null) {
            stateFile.record(u, until(u, Kind.DRAIN), until(u, Kind.OVERRIDE), until(u, Kind.WEIGHT));
        }
    }

    /** When a pending TTL revert of {@code kind} is due (epoch millis); 0 when none is pending. */
    long until(Upstream u, Kind kind) {
        Long t = untils.get(new Key(u.cluster(), u.address(), kind));
        return t == null ? 0 : t;
    }

    /** True when {@code u} is the only eligible upstream left in its cluster. */
    static boolean lastEligible(Cluster cluster, Upstream u) {
        if (!u.eligible()) {
            return false;
        }
        return cluster.upstreams().stream().noneMatch(other -> other != u && other.eligible());
    }

    /** @param note the operator's own words for why (in the event's detail); null for none */
    void drain(Upstream u, Duration ttl, String note) {
        drain(u, ttl, "operator", note);
    }

    /** @param reason {@code operator}, or {@code state_file} when re-applied at start */
    void drain(Upstream u, Duration ttl, String reason, String note) {
        String from = StateJson.lower(u.admin());
        u.setAdmin(Upstream.AdminState.DRAINING);
        proxy.closeIdleConnections(u);
        publish(u, "drained", from, StateJson.lower(u.admin()), reason, detail(ttl, note));
        scheduleRevert(u, Kind.DRAIN, ttl, () -> {
            if (u.admin() != Upstream.AdminState.ACTIVE) {
                String before = StateJson.lower(u.admin());
                u.setAdmin(Upstream.AdminState.ACTIVE);
                publish(u, "restored", before, "active", "ttl_expired", Map.of());
                persist(u);
            }
        });
        persist(u);
    }

    void restore(Upstream u, String note) {
        cancelRevert(u, Kind.DRAIN);
        String from = StateJson.lower(u.admin());
        u.setAdmin(Upstream.AdminState.ACTIVE);
        publish(u, "restored", from, "active", "operator", detail(null, note));
        persist(u);
    }

    void override(Upstream u, Upstream.HealthOverride value, Duration ttl, String note) {
        override(u, value, ttl, "operator", note);
    }

    void override(Upstream u, Upstream.HealthOverride value, Duration ttl, String reason, String note) {
        String from = StateJson.lower(u.override());
        u.setOverride(value);
        publish(u, "health_override", from, StateJson.lower(value), reason, detail(ttl, note));
        if (value == Upstream.HealthOverride.NONE) {
            cancelRevert(u, Kind.OVERRIDE);
        } else {
            scheduleRevert(u, Kind.OVERRIDE, ttl, () -> {
                String before = StateJson.lower(u.override());
                u.setOverride(Upstream.HealthOverride.NONE);
                publish(u, "health_override", before, "none", "ttl_expired", Map.of());
                persist(u);
            });
        }
        persist(u);
    }

    void weight(Upstream u, int weight, Duration ttl, String note) {
        weight(u, weight, ttl, "operator", note);
    }

    void weight(Upstream u, int weight, Duration ttl, String reason, String note) {
        int from = u.weight();
        u.setWeight(weight);
        publish(u, "weight", Integer.toString(from), Integer.toString(weight), reason, detail(ttl, note));
        scheduleRevert(u, Kind.WEIGHT, ttl, () -> {
            int before = u.weight();
            u.setWeight(u.configuredWeight());
            publish(u, "weight", Integer.toString(before), Integer.toString(u.configuredWeight()), "ttl_expired",
                    Map.of());
            persist(u);
        });
        persist(u);
    }

    /** Ends an ejection now and resets the backoff multiplier; the detector logs the event. */
    boolean uneject(Cluster cluster, Upstream u) {
        return cluster.outlierDetector().uneject(u);
    }

    private static Map<String, Object> detail(Duration ttl, String note) {
        Map<String, Object> d = new LinkedHashMap<>();
        if (ttl != null) {
            d.put("ttl_ms", ttl.toMillis());
        }
        if (note != null) {
            d.put("note", note);
        }
        return d;
    }

    private void scheduleRevert(Upstream u, Kind kind, Duration ttl, Runnable revert) {
        Key key = new Key(u.cluster(), u.address(), kind);
        ScheduledFuture<?> previous;
        if (ttl == null) {
            previous = reverts.remove(key);
            untils.remove(key);
        } else {
            ScheduledFuture<?>[] self = new ScheduledFuture<?>[1];
            untils.put(key, clock.currentTimeMillis() + ttl.toMillis());
            self[0] = timers.schedule(() -> {
                if (reverts.remove(key, self[0])) {
                    untils.remove(key);
                    revert.run();
                }
            }, ttl.toMillis(), TimeUnit.MILLISECONDS);
            previous = reverts.put(key, self[0]);
        }
        if (previous != null) {
            previous.cancel(false);
        }
    }

    private void cancelRevert(Upstream u, Kind kind) {
        untils.remove(new Key(u.cluster(), u.address(), kind));
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
