package io.bulwark.admin;

import io.bulwark.routing.Clock;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The operator's changes to an upstream (drain, restore, health override, weight), each written
 * to the event log, each optionally with a TTL after which it reverts by itself (with an event
 * of its own). A newer call on the same upstream and kind replaces the pending revert.
 *
 * <h2>Two layers: local and fleet</h2>
 * Each upstream and kind may hold a <b>local</b> value (set on this sidecar, persisted in the state
 * file) and a <b>fleet</b> value (set with {@code ?scope=fleet} on any sidecar of the fleet, kept in
 * Redis). The upstream shows the local value where there is one, else the fleet's, else the
 * default (active, no override, the configured weight): <em>a local override wins where both
 * exist</em>. Clearing one layer (a local restore, {@code override none}, a TTL running out) falls
 * back to the other, so a local restore of a fleet-drained upstream leaves it drained; restore it
 * with {@code ?scope=fleet} to bring it back everywhere.
 */
final class OperatorActions {

    enum Kind { DRAIN, OVERRIDE, WEIGHT }

    private record Key(String cluster, String address, Kind kind) {
    }

    /** Change ids whose acknowledgements are kept, newest last. */
    private static final int SEEN_CAPACITY = 256;

    private final ProxyControl proxy;
    private final EventSink events;
    private final Clock clock;
    private final ScheduledExecutorService timers;
    private final Map<Key, ScheduledFuture<?>> reverts = new ConcurrentHashMap<>();
    /** When each pending revert is due (epoch millis), for the state file. */
    private final Map<Key, Long> untils = new ConcurrentHashMap<>();
    private final OperatorStateFile stateFile;
    /** The local layer: TRUE for a drain, a HealthOverride, an Integer weight. */
    private final Map<Key, Object> local = new ConcurrentHashMap<>();
    /** The fleet layer, as Redis holds it. */
    private final Map<Key, FleetOverride> fleet = new ConcurrentHashMap<>();
    private final Map<Key, ScheduledFuture<?>> fleetExpiries = new ConcurrentHashMap<>();
    /** Which members said they applied a change, by change id (bounded, oldest dropped). */
    private final Map<String, Set<String>> seen = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(16, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Set<String>> eldest) {
                    return size() > SEEN_CAPACITY;
                }
            });

    /** @param stateFile where overrides are persisted; null when {@code admin.state-file} is not set */
    OperatorActions(ProxyControl proxy, EventSink events, Clock clock, ScheduledExecutorService timers,
                    OperatorStateFile stateFile) {
        this.proxy = proxy;
        this.events = events;
        this.clock = clock;
        this.timers = timers;
        this.stateFile = stateFile;
    }

    /** The state file keeps the local layer only: the fleet's is Redis's to keep. */
    private void persist(Upstream u) {
        if (stateFile != null) {
            Object override = local.get(key(u, Kind.OVERRIDE));
            stateFile.record(u, local.containsKey(key(u, Kind.DRAIN)), until(u, Kind.DRAIN),
                    override == null ? null : StateJson.lower((Upstream.HealthOverride) override),
                    until(u, Kind.OVERRIDE), (Integer) local.get(key(u, Kind.WEIGHT)), until(u, Kind.WEIGHT));
        }
    }

    private static Key key(Upstream u, Kind kind) {
        return new Key(u.cluster(), u.address(), kind);
    }

    /** When a pending TTL revert of {@code kind} is due (epoch millis); 0 when none is pending. */
    long until(Upstream u, Kind kind) {
        Long t = untils.get(key(u, kind));
        return t == null ? 0 : t;
    }

    /** True when {@code u} is the only eligible upstream left in its cluster. */
    static boolean lastEligible(Cluster cluster, Upstream u) {
        if (!u.eligible()) {
            return false;
        }
        return cluster.upstreams().stream().noneMatch(other -> other != u && other.eligible());
    }

    /** Where the value of {@code kind} in force on {@code u} comes from: {@code local}, {@code fleet} or null. */
    String origin(Upstream u, Kind kind) {
        if (local.containsKey(key(u, kind))) {
            return StateEvent.LOCAL;
        }
        return fleet.containsKey(key(u, kind)) ? StateEvent.FLEET : null;
    }

    /** @param note the operator's own words for why (in the event's detail); null for none */
    void drain(Upstream u, Duration ttl, String note) {
        drain(u, ttl, "operator", note);
    }

    /** @param reason {@code operator}, or {@code state_file} when re-applied at start */
    void drain(Upstream u, Duration ttl, String reason, String note) {
        String from = StateJson.lower(u.admin());
        Prior prior = prior(u, Kind.DRAIN);
        local.put(key(u, Kind.DRAIN), Boolean.TRUE);
        setAdmin(u, true);
        publish(u, "drained", from, StateJson.lower(u.admin()), reason, detail(ttl, note), StateEvent.LOCAL);
        scheduleTtl(u, Kind.DRAIN, ttl, prior);
        persist(u);
    }

    void restore(Upstream u, String note) {
        cancelRevert(u, Kind.DRAIN);
        String from = StateJson.lower(u.admin());
        local.remove(key(u, Kind.DRAIN));
        applyEffective(u, Kind.DRAIN);
        Map<String, Object> detail = detail(null, note);
        if (u.admin() != Upstream.AdminState.ACTIVE) {
            detail.put("fleet_drain", "still in force; restore with ?scope=fleet to bring it back everywhere");
        }
        publish(u, "restored", from, StateJson.lower(u.admin()), "operator", detail, StateEvent.LOCAL);
        persist(u);
    }

    void override(Upstream u, Upstream.HealthOverride value, Duration ttl, String note) {
        override(u, value, ttl, "operator", note);
    }

    void override(Upstream u, Upstream.HealthOverride value, Duration ttl, String reason, String note) {
        String from = StateJson.lower(u.override());
        Prior prior = prior(u, Kind.OVERRIDE);
        if (value == Upstream.HealthOverride.NONE) {
            local.remove(key(u, Kind.OVERRIDE));
        } else {
            local.put(key(u, Kind.OVERRIDE), value);
        }
        applyEffective(u, Kind.OVERRIDE);
        publish(u, "health_override", from, StateJson.lower(u.override()), reason, detail(ttl, note), StateEvent.LOCAL);
        if (value == Upstream.HealthOverride.NONE) {
            cancelRevert(u, Kind.OVERRIDE);
        } else {
            scheduleTtl(u, Kind.OVERRIDE, ttl, prior);
        }
        persist(u);
    }

    void weight(Upstream u, int weight, Duration ttl, String note) {
        weight(u, weight, ttl, "operator", note);
    }

    void weight(Upstream u, int weight, Duration ttl, String reason, String note) {
        int from = u.weight();
        Prior prior = prior(u, Kind.WEIGHT);
        local.put(key(u, Kind.WEIGHT), weight);
        applyEffective(u, Kind.WEIGHT);
        publish(u, "weight", Integer.toString(from), Integer.toString(u.weight()), reason, detail(ttl, note),
                StateEvent.LOCAL);
        scheduleTtl(u, Kind.WEIGHT, ttl, prior);
        persist(u);
    }

    /** Ends an ejection now and resets the backoff multiplier; the detector logs the event. */
    boolean uneject(Cluster cluster, Upstream u) {
        return cluster.outlierDetector().uneject(u);
    }

    // ------------------------------------------------------------------ the fleet layer

    /**
     * A fleet override arrived (or was issued here): it takes effect unless a local value of its kind
     * is in force, and reverts by itself at its {@code until}. The same change seen twice is applied once.
     */
    void applyFleet(FleetOverride o) {
        Key k = new Key(o.cluster(), o.address(), kindOf(o.kind()));
        FleetOverride before = fleet.put(k, o);
        if (before != null && before.id().equals(o.id())) {
            return;
        }
        long now = clock.currentTimeMillis();
        ScheduledFuture<?> previous = fleetExpiries.remove(k);
        if (previous != null) {
            previous.cancel(false);
        }
        if (o.untilMillis() > 0) {
            if (o.untilMillis() <= now) {
                fleet.remove(k, o);
                return;
            }
            fleetExpiries.put(k, timers.schedule(() -> {
                if (fleet.remove(k, o)) {
                    changedFleet(k, "ttl_expired", Map.of("id", o.id()));
                }
            }, o.untilMillis() - now, TimeUnit.MILLISECONDS));
        }
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("origin", o.origin());
        detail.put("id", o.id());
        if (o.untilMillis() > 0) {
            detail.put("until", java.time.Instant.ofEpochMilli(o.untilMillis()).toString());
        }
        if (o.note() != null) {
            detail.put("note", o.note());
        }
        changedFleet(k, "operator", detail);
    }

    /** The fleet's override of {@code kind} on an upstream was removed (a fleet restore, override none). */
    void removeFleet(String cluster, String address, FleetOverride.Kind kind, String id, String origin) {
        Key k = new Key(cluster, address, kindOf(kind));
        if (fleet.remove(k) == null) {
            return;
        }
        ScheduledFuture<?> expiry = fleetExpiries.remove(k);
        if (expiry != null) {
            expiry.cancel(false);
        }
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("origin", origin);
        detail.put("id", id);
        changedFleet(k, "operator", detail);
    }

    /**
     * The whole fleet layer as Redis holds it now (at start, and after a reconnect): entries not in
     * {@code current} are gone, the rest are applied (each once).
     */
    void replaceFleet(Collection<FleetOverride> current) {
        Set<Key> keep = new java.util.HashSet<>();
        for (FleetOverride o : current) {
            keep.add(new Key(o.cluster(), o.address(), kindOf(o.kind())));
        }
        for (Key k : List.copyOf(fleet.keySet())) {
            if (!keep.contains(k)) {
                FleetOverride gone = fleet.remove(k);
                if (gone != null) {
                    changedFleet(k, "removed_while_away", Map.of("id", gone.id()));
                }
            }
        }
        current.forEach(this::applyFleet);
    }

    /** Re-applies the fleet layer to upstreams that appeared since (a reload, DNS); no event when nothing changes. */
    void reconcileFleet() {
        for (Key k : fleet.keySet()) {
            Upstream u = upstream(k);
            if (u != null && !local.containsKey(k)) {
                applyEffective(u, k.kind());
            }
        }
    }

    /** A member said it applied change {@code id}. */
    void seen(String id, String member) {
        seen.computeIfAbsent(id, x -> java.util.Collections.synchronizedSet(new LinkedHashSet<>())).add(member);
    }

    /** The members that said they applied change {@code id}, so far. */
    List<String> seenBy(String id) {
        Set<String> s = seen.get(id);
        if (s == null) {
            return List.of();
        }
        synchronized (s) {
            return new ArrayList<>(s);
        }
    }

    /** The fleet layer now, for {@code GET /api/v1/fleet}. */
    List<FleetOverride> fleetOverrides() {
        List<FleetOverride> list = new ArrayList<>(fleet.values());
        list.sort(java.util.Comparator.comparing(FleetOverride::field));
        return list;
    }

    /** Whether a local value shadows the fleet override {@code o} on this sidecar. */
    boolean shadowed(FleetOverride o) {
        return local.containsKey(new Key(o.cluster(), o.address(), kindOf(o.kind())));
    }

    private static Kind kindOf(FleetOverride.Kind kind) {
        return Kind.valueOf(kind.name());
    }

    private void changedFleet(Key k, String reason, Map<String, Object> detail) {
        Upstream u = upstream(k);
        if (u == null) {
            return; // not an upstream of the config in force: applied if it appears (reconcileFleet)
        }
        Map<String, Object> d = new LinkedHashMap<>(detail);
        if (local.containsKey(k)) {
            d.put("shadowed_by", "a local override, which wins on this sidecar");
        }
        switch (k.kind()) {
            case DRAIN -> {
                String from = StateJson.lower(u.admin());
                applyEffective(u, Kind.DRAIN);
                String to = StateJson.lower(u.admin());
                publish(u, to.equals("active") ? "restored" : "drained", from, to, reason, d, StateEvent.FLEET);
            }
            case OVERRIDE -> {
                String from = StateJson.lower(u.override());
                applyEffective(u, Kind.OVERRIDE);
                publish(u, "health_override", from, StateJson.lower(u.override()), reason, d, StateEvent.FLEET);
            }
            case WEIGHT -> {
                int from = u.weight();
                applyEffective(u, Kind.WEIGHT);
                publish(u, "weight", Integer.toString(from), Integer.toString(u.weight()), reason, d,
                        StateEvent.FLEET);
            }
        }
    }

    private Upstream upstream(Key k) {
        Cluster c = proxy.clusters().get(k.cluster());
        return c == null ? null : c.upstream(k.address());
    }

    /** Sets {@code kind} on {@code u} to the local value, else the fleet's, else the default. */
    private void applyEffective(Upstream u, Kind kind) {
        Key k = key(u, kind);
        Object mine = local.get(k);
        FleetOverride theirs = fleet.get(k);
        switch (kind) {
            case DRAIN -> setAdmin(u, mine != null || theirs != null);
            case OVERRIDE -> {
                Upstream.HealthOverride value = mine != null ? (Upstream.HealthOverride) mine
                        : theirs != null ? parseOverride(theirs.value()) : Upstream.HealthOverride.NONE;
                if (u.override() != value) {
                    u.setOverride(value);
                }
            }
            case WEIGHT -> {
                int value = mine != null ? (Integer) mine
                        : theirs != null ? parseWeight(theirs.value(), u.configuredWeight()) : u.configuredWeight();
                if (u.weight() != value) {
                    u.setWeight(value);
                }
            }
        }
    }

    private void setAdmin(Upstream u, boolean drained) {
        if (drained && u.admin() == Upstream.AdminState.ACTIVE) {
            u.setAdmin(Upstream.AdminState.DRAINING);
            proxy.closeIdleConnections(u);
        } else if (!drained && u.admin() != Upstream.AdminState.ACTIVE) {
            u.setAdmin(Upstream.AdminState.ACTIVE);
        }
    }

    private static Upstream.HealthOverride parseOverride(String value) {
        try {
            return Upstream.HealthOverride.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return Upstream.HealthOverride.NONE;
        }
    }

    private static int parseWeight(String value, int fallback) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            return fallback;
        }
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

    /**
     * The local value of a kind before an operator call replaces it, and when that value was due to
     * run out (epoch millis; null: never). A change with a TTL reverts to it, not to the default:
     * {@code weight 5}, then {@code weight 3} for 10 minutes, is back to 5 afterwards.
     */
    private record Prior(Object value, Long until) {
    }

    private Prior prior(Upstream u, Kind kind) {
        Key k = key(u, kind);
        return new Prior(local.get(k), untils.get(k));
    }

    /** With a TTL: when it runs out, the value before the call comes back (with its own TTL's rest). */
    private void scheduleTtl(Upstream u, Kind kind, Duration ttl, Prior prior) {
        scheduleRevert(u, kind, ttl, () -> revertTo(u, kind, prior));
    }

    private void revertTo(Upstream u, Kind kind, Prior prior) {
        Key k = key(u, kind);
        String before = shown(u, kind);
        long now = clock.currentTimeMillis();
        boolean back = prior != null && prior.value() != null && (prior.until() == null || prior.until() > now);
        if (back) {
            local.put(k, prior.value());
        } else {
            local.remove(k);
        }
        applyEffective(u, kind);
        Map<String, Object> detail = back ? Map.of("reverted_to", "the value before the call") : Map.of();
        String type = switch (kind) {
            case DRAIN -> u.admin() == Upstream.AdminState.ACTIVE ? "restored" : "drained";
            case OVERRIDE -> "health_override";
            case WEIGHT -> "weight";
        };
        publish(u, type, before, shown(u, kind), "ttl_expired", detail, StateEvent.LOCAL);
        if (back && prior.until() != null) {
            scheduleTtl(u, kind, Duration.ofMillis(prior.until() - now), null);
        }
        persist(u);
    }

    private static String shown(Upstream u, Kind kind) {
        return switch (kind) {
            case DRAIN -> StateJson.lower(u.admin());
            case OVERRIDE -> StateJson.lower(u.override());
            case WEIGHT -> Integer.toString(u.weight());
        };
    }

    private void scheduleRevert(Upstream u, Kind kind, Duration ttl, Runnable revert) {
        Key key = key(u, kind);
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
        untils.remove(key(u, kind));
        ScheduledFuture<?> f = reverts.remove(key(u, kind));
        if (f != null) {
            f.cancel(false);
        }
    }

    private void publish(Upstream u, String type, String from, String to, String reason, Map<String, Object> detail,
                         String source) {
        events.publish(new StateEvent(clock.currentTimeMillis(), type, u.cluster(), u.address(), from, to, reason,
                detail, source));
    }
}
