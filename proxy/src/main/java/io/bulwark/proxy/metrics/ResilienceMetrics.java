package io.bulwark.proxy.metrics;

import io.bulwark.routing.Cluster;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.circuit.ClusterCircuitBreaker;
import io.bulwark.routing.limits.ClusterLimits;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The upstream-state meters (listed in the README, "Metrics"): eligibility and active requests
 * per upstream (gauges kept in step with the clusters in force, removed with their upstream),
 * ejections by reason and recovery times (fed from the state events).
 */
public final class ResilienceMetrics implements EventSink {

    public static final String UPSTREAM_ELIGIBLE = "bulwark.upstream.eligible";
    public static final String UPSTREAM_ACTIVE_REQUESTS = "bulwark.upstream.active.requests";
    public static final String UPSTREAM_EJECTIONS = "bulwark.upstream.ejections";
    public static final String RECOVERY = "bulwark.recovery";
    public static final String CIRCUIT_BREAKER_STATE = "bulwark.circuit.breaker.state";
    public static final String ADAPTIVE_LIMIT = "bulwark.adaptive.limit";

    private static final Duration[] RECOVERY_BUCKETS = {
        Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
        Duration.ofSeconds(60), Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofMinutes(10),
    };

    private final MeterRegistry registry;
    private final Map<Upstream, List<Meter>> gauges = new IdentityHashMap<>();
    private final Map<ClusterCircuitBreaker, List<Meter>> breakerGauges = new IdentityHashMap<>();
    /** The adaptive-limit gauge per cluster name, with the limits object it reads. */
    private final Map<String, Map.Entry<ClusterLimits, Meter>> adaptiveGauges = new java.util.HashMap<>();

    public ResilienceMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /**
     * Registers the circuit-breaker state gauges of new breakers (1 for the current state, 0 for the
     * others) and removes those of breakers no longer in use.
     */
    public synchronized void trackBreakers(Collection<ClusterCircuitBreaker> breakers) {
        Set<ClusterCircuitBreaker> current = Collections.newSetFromMap(new IdentityHashMap<>());
        for (ClusterCircuitBreaker b : breakers) {
            current.add(b);
            breakerGauges.computeIfAbsent(b, this::registerBreaker);
        }
        for (ClusterCircuitBreaker gone : new ArrayList<>(breakerGauges.keySet())) {
            if (!current.contains(gone)) {
                breakerGauges.remove(gone).forEach(registry::remove);
            }
        }
    }

    private List<Meter> registerBreaker(ClusterCircuitBreaker b) {
        List<Meter> meters = new ArrayList<>(3);
        for (String state : new String[] {ClusterCircuitBreaker.CLOSED, ClusterCircuitBreaker.OPEN,
            ClusterCircuitBreaker.HALF_OPEN}) {
            meters.add(Gauge.builder(CIRCUIT_BREAKER_STATE, b, x -> x.state().equals(state) ? 1 : 0)
                    .description("1 for the circuit breaker's current state")
                    .tags("cluster", b.cluster(), "state", state)
                    .strongReference(true)
                    .register(registry));
        }
        return meters;
    }

    /**
     * Registers the {@code bulwark_adaptive_limit} gauge of each cluster with an adaptive limit, and
     * removes those of clusters that no longer have one.
     */
    public synchronized void trackAdaptive(Collection<Cluster> clusters) {
        Map<String, ClusterLimits> wanted = new java.util.HashMap<>();
        for (Cluster c : clusters) {
            if (c.limits().adaptive() != null) {
                wanted.put(c.name(), c.limits());
            }
        }
        adaptiveGauges.entrySet().removeIf(e -> {
            if (wanted.get(e.getKey()) == e.getValue().getKey()) {
                return false;
            }
            registry.remove(e.getValue().getValue());
            return true;
        });
        wanted.forEach((name, limits) -> adaptiveGauges.computeIfAbsent(name, n -> Map.entry(limits,
                Gauge.builder(ADAPTIVE_LIMIT, limits, l -> l.adaptive() == null ? Double.NaN : l.adaptive().limit())
                        .description("The cluster's adaptive concurrency limit on requests in flight")
                        .tags("cluster", n)
                        .strongReference(true)
                        .register(registry))));
    }

    /** Registers gauges for new upstreams and removes those of upstreams no longer in use. */
    public synchronized void track(Collection<Cluster> clusters) {
        Set<Upstream> current = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Cluster c : clusters) {
            for (Upstream u : c.upstreams()) {
                current.add(u);
                gauges.computeIfAbsent(u, this::register);
            }
        }
        for (Upstream gone : new ArrayList<>(gauges.keySet())) {
            if (!current.contains(gone)) {
                gauges.remove(gone).forEach(registry::remove);
            }
        }
    }

    private List<Meter> register(Upstream u) {
        return List.of(
                Gauge.builder(UPSTREAM_ELIGIBLE, u, x -> x.eligible() ? 1 : 0)
                        .description("1 when the upstream may get new requests")
                        .tags("cluster", u.cluster(), "upstream", u.address())
                        .strongReference(true)
                        .register(registry),
                Gauge.builder(UPSTREAM_ACTIVE_REQUESTS, u, Upstream::activeRequests)
                        .description("Requests in flight to the upstream")
                        .tags("cluster", u.cluster(), "upstream", u.address())
                        .strongReference(true)
                        .register(registry));
    }

    @Override
    public void publish(StateEvent event) {
        switch (event.type()) {
            case "ejected" -> Counter.builder(UPSTREAM_EJECTIONS)
                    .description("Outlier ejections by reason")
                    .tags("cluster", event.cluster(), "upstream", event.upstream(), "reason", event.reason())
                    .register(registry).increment();
            case "recovered" -> {
                Object ms = event.detail().get("time_to_recover_ms");
                if (ms instanceof Number n) {
                    Timer.builder(RECOVERY)
                            .description("Time from an upstream being taken out to serving again at full weight")
                            .tag("cluster", event.cluster())
                            .serviceLevelObjectives(RECOVERY_BUCKETS)
                            .register(registry).record(Duration.ofMillis(n.longValue()));
                }
            }
            default -> { }
        }
    }
}
