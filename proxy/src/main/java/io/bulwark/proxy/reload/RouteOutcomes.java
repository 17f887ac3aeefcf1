package io.bulwark.proxy.reload;

import io.bulwark.routing.Clock;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What each route and each cluster answered recently, kept for judging a reload: a ring of time
 * buckets per route and per cluster (so the figures of the {@code bake-time} before a reload are at
 * hand), and, while a reload is watched, exact counters of the watched routes from the moment it
 * took effect. The data plane calls {@link #record} once per finished downstream request.
 * Buckets are {@code bake-time / 60} wide (at least 1s), so the memory per route stays fixed
 * whatever the bake time.
 */
public final class RouteOutcomes {

    private static final int SLOTS = 62;

    private final Clock clock;
    private volatile long widthNanos;
    private volatile ConcurrentHashMap<String, Ring> routes = new ConcurrentHashMap<>();
    private volatile ConcurrentHashMap<String, Ring> clusters = new ConcurrentHashMap<>();
    private volatile Map<String, Outcomes> watched = Map.of();

    public RouteOutcomes(Clock clock, Duration bakeTime) {
        this.clock = clock;
        this.widthNanos = width(bakeTime);
    }

    private static long width(Duration bakeTime) {
        return Math.max(Duration.ofSeconds(1).toNanos(), bakeTime.toNanos() / (SLOTS - 2));
    }

    /** A new bake time: the buckets are resized, and the history so far is dropped (only when it changed). */
    public void bakeTime(Duration bakeTime) {
        long w = width(bakeTime);
        if (w != widthNanos) {
            widthNanos = w;
            routes = new ConcurrentHashMap<>();
            clusters = new ConcurrentHashMap<>();
        }
    }

    /** A finished downstream request of {@code route}, sent to {@code cluster} ("none" for neither). */
    public void record(String route, String cluster, int status, long nanos) {
        long epoch = clock.nanoTime() / widthNanos;
        if (!"none".equals(route)) {
            routes.computeIfAbsent(route, r -> new Ring()).record(epoch, status, nanos);
            Outcomes o = watched.get(route);
            if (o != null) {
                o.record(status, nanos);
            }
        }
        if (!"none".equals(cluster)) {
            clusters.computeIfAbsent(cluster, c -> new Ring()).record(epoch, status, nanos);
        }
    }

    /** The route's figures over the {@code window} up to now. */
    Outcomes.Figures route(String route, Duration window) {
        return before(routes.get(route), window);
    }

    /** The clusters' figures, summed, over the {@code window} up to now. */
    Outcomes.Figures clusters(Set<String> names, Duration window) {
        long[] sum = Outcomes.empty();
        for (String name : names) {
            Ring ring = clusters.get(name);
            if (ring != null) {
                ring.sum(window, sum);
            }
        }
        return Outcomes.figures(sum);
    }

    private Outcomes.Figures before(Ring ring, Duration window) {
        if (ring == null) {
            return Outcomes.Figures.NONE;
        }
        long[] sum = Outcomes.empty();
        ring.sum(window, sum);
        return Outcomes.figures(sum);
    }

    /** Starts exact counting of these routes (replacing any watched before); returns their counters. */
    Map<String, Outcomes> watch(Set<String> names) {
        Map<String, Outcomes> m = new java.util.HashMap<>();
        names.forEach(n -> m.put(n, new Outcomes()));
        watched = Map.copyOf(m);
        return watched;
    }

    void unwatch() {
        watched = Map.of();
    }

    /** One bucket per time slot; a slot is reused (reset) when its epoch comes round again. */
    private final class Ring {
        private final Slot[] slots = new Slot[SLOTS];

        Ring() {
            for (int i = 0; i < SLOTS; i++) {
                slots[i] = new Slot();
            }
        }

        void record(long epoch, int status, long nanos) {
            Slot s = slots[(int) (epoch % SLOTS)];
            if (s.epoch != epoch) {
                synchronized (s) {
                    if (s.epoch != epoch) {
                        s.outcomes.reset();
                        s.epoch = epoch;
                    }
                }
            }
            s.outcomes.record(status, nanos);
        }

        /** Adds the buckets that cover the last {@code window} (including the current, partial one). */
        void sum(Duration window, long[] into) {
            long now = clock.nanoTime() / widthNanos;
            long first = now - Math.max(1, (window.toNanos() + widthNanos - 1) / widthNanos);
            for (Slot s : slots) {
                long e = s.epoch;
                if (e > first && e <= now) {
                    s.outcomes.addTo(into);
                }
            }
        }
    }

    private static final class Slot {
        volatile long epoch = Long.MIN_VALUE;
        final Outcomes outcomes = new Outcomes();
    }
}
