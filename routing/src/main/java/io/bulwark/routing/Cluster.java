package io.bulwark.routing;

import io.bulwark.routing.circuit.ClusterCircuitBreaker;
import io.bulwark.routing.circuit.Transition;
import io.bulwark.routing.limits.AdaptiveLimit;
import io.bulwark.routing.limits.ClusterLimits;

import io.bulwark.config.ClusterConfig;
import io.bulwark.config.EndpointConfig;
import io.bulwark.config.HealthCheckConfig;
import io.bulwark.routing.health.DelayScheduler;
import io.bulwark.routing.lb.LoadBalancer;
import io.bulwark.routing.lb.LoadBalancers;
import io.bulwark.routing.outlier.OutlierDetector;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A cluster at run time: its upstreams (one per resolved endpoint address), the current
 * {@link HostSet} snapshot balancers read, one load balancer per event-loop thread, the
 * {@link OutlierDetector} that watches the upstreams' outcomes, and the layers that protect the
 * cluster as a whole — its circuit breaker and its bulkhead limits, which a reload carries over
 * to the cluster of the same name ({@link #adoptPolicies}) as it carries ejections over. {@link #tick()} must be called every
 * {@link #tickInterval()} (the outlier-detection interval) by the proxy's timer.
 */
public final class Cluster {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Cluster.class);

    /** Resolves a hostname to all its addresses; blocking, so only ever called off the event loops. */
    @FunctionalInterface
    public interface Resolver {
        List<InetAddress> resolve(String host) throws UnknownHostException;

        Resolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));
    }

    private final ClusterConfig config;
    private final EventSink events;
    private final Clock clock;
    private final OutlierDetector outlierDetector;
    private ClusterCircuitBreaker breaker;
    private ClusterLimits limits;
    private final ThreadLocal<LoadBalancer> loadBalancers;
    private volatile List<Upstream> upstreams = List.of();
    private volatile Map<String, Upstream> byAddress = Map.of();
    private volatile HostSet hostSet = HostSet.EMPTY;
    /** Upstreams eligible when {@link #refresh} last ran (guarded by its lock): a rise means one is back. */
    private int eligibleAtLastRefresh;
    private final Object refreshLock = new Object();
    /** What each endpoint resolved to last time; only touched under {@link #resolve}'s lock. */
    private Map<EndpointConfig, List<Upstream>> upstreamsByEndpoint = Map.of();
    /** Set after the first {@link #resolve}: upstreams added later start with slow start. Under resolve's lock. */
    private boolean resolvedOnce;
    /** Whether some upstream was warming up at the last tick; only the ticking thread touches it. */
    private volatile boolean warmingAtLastTick;

    /** A cluster whose transitions go nowhere ({@link EventSink#NONE}). */
    public Cluster(ClusterConfig config, Clock clock) {
        this(config, clock, EventSink.NONE);
    }

    /** @param events where outlier ejections, readmissions and recoveries are published */
    public Cluster(ClusterConfig config, Clock clock, EventSink events) {
        this(config, clock, events, null);
    }

    /**
     * @param events where outlier ejections, readmissions and recoveries are published
     * @param scheduler readmits an ejected upstream at its {@code ejected_until} (null: at the first
     *     {@link #tick()} after it); on {@code clock}'s time
     */
    public Cluster(ClusterConfig config, Clock clock, EventSink events, DelayScheduler scheduler) {
        this.config = config;
        this.clock = clock;
        // Numbered per cluster so that each event loop's round robin starts at a different host.
        AtomicInteger balancerInstances = new AtomicInteger();
        this.loadBalancers = ThreadLocal.withInitial(() ->
                LoadBalancers.create(config, balancerInstances.getAndIncrement()));
        this.outlierDetector = new OutlierDetector(config.name(), config.outlierDetection(), clock, events,
                scheduler, config.healthCheck().map(HealthCheckConfig::healthyThreshold).orElse(1));
        this.events = events;
        this.breaker = new ClusterCircuitBreaker(config.name(), config.circuitBreaker(), clock);
        this.breaker.onTransition(t -> publishTransition(events, t));
        this.breaker.watchEligible(this::eligibleCount);
        this.limits = new ClusterLimits(config.limits());
        watchAdaptiveLimit();
    }

    /** The adaptive limit's large moves land in the event log (the limits object outlives reloads). */
    private void watchAdaptiveLimit() {
        ClusterLimits l = limits;
        l.onAdaptiveMove((from, to) -> {
            AdaptiveLimit a = l.adaptive();
            java.util.Map<String, Object> detail = new java.util.LinkedHashMap<>();
            detail.put("in_flight", a == null ? 0 : a.inFlight());
            if (a != null) {
                detail.put("min_limit", a.config().minLimit());
                detail.put("max_limit", a.config().maxLimit());
            }
            events.publish(new StateEvent(clock.currentTimeMillis(), "adaptive_limit", config.name(), null,
                    String.valueOf(from), String.valueOf(to), to > from ? "latency_steady" : "latency_rising", detail));
        });
    }

    /**
     * Takes over the circuit breaker and the bulkhead of the cluster this one replaces on a reload
     * (same name, changed config): the breaker in its state (reconfigured if its settings changed,
     * with its listeners), the limits with their requests in flight. Call before the new cluster
     * is published.
     */
    public void adoptPolicies(Cluster previous) {
        this.breaker = previous.breaker.reconfigured(config.circuitBreaker());
        this.breaker.watchEligible(this::eligibleCount);
        previous.limits.reconfigure(config.limits());
        this.limits = previous.limits;
        watchAdaptiveLimit();
    }

    /** The cluster's circuit breaker: one permission per request, judged on its final outcome. */
    public ClusterCircuitBreaker breaker() {
        return breaker;
    }

    /** The cluster's bulkhead: requests, pending requests and retries in flight. */
    public ClusterLimits limits() {
        return limits;
    }

    private int eligibleCount() {
        int n = 0;
        for (Upstream u : hostSet.all()) {
            if (u.eligible()) {
                n++;
            }
        }
        return n;
    }

    private static void publishTransition(EventSink events, Transition t) {
        events.publish(t.toEvent());
        if (t.openedWithEligibleUpstreams()) {
            LOG.warn("circuit breaker of cluster {} opened while {} upstream(s) were eligible: {} of {} requests in "
                            + "the window failed ({}%), {} slow ({}%); every request of the cluster is refused "
                            + "until wait-in-open has passed",
                    t.cluster(), t.eligibleUpstreams(), t.failedCalls(), t.calls(), Math.round(t.failureRate()),
                    t.slowCalls(), Math.round(t.slowCallRate()));
            events.publish(t.toOpenWithEligibleEvent());
        }
    }

    public String name() {
        return config.name();
    }

    public ClusterConfig config() {
        return config;
    }

    public List<Upstream> upstreams() {
        return upstreams;
    }

    /** The snapshot balancers choose from. */
    public HostSet hostSet() {
        return hostSet;
    }

    /** The passive outlier detector: operator uneject, health-check hooks, ejection backoff. */
    public OutlierDetector outlierDetector() {
        return outlierDetector;
    }

    /** How often {@link #tick()} must run: the outlier-detection interval. */
    public Duration tickInterval() {
        return config.outlierDetection().interval();
    }

    /**
     * Runs one outlier-detection interval ({@link OutlierDetector#tick()}: readmissions, success-rate and
     * failure-percentage ejections, recovery timings), then, while any upstream is warming up under slow
     * start and once after, republishes the host set so balancers that read weights only at a new
     * snapshot (ring hash) follow the ramp in steps of one interval.
     */
    public void tick() {
        outlierDetector.tick();
        boolean warming = false;
        for (Upstream u : upstreams) {
            if (u.warmingUp()) {
                warming = true;
                break;
            }
        }
        if (warming || warmingAtLastTick) {
            refresh();
        }
        warmingAtLastTick = warming;
    }

    /**
     * Runs the latency detector ({@link OutlierDetector#checkLatency()}) when the cluster has one; call
     * every {@link OutlierDetector#LATENCY_CHECK_INTERVAL}. A no-op otherwise.
     */
    public void checkLatency() {
        outlierDetector.checkLatency();
    }

    /** This thread's balancer. */
    public LoadBalancer loadBalancer() {
        return loadBalancers.get();
    }

    /** The upstream named {@code address}, or null; a map lookup, as the admin API asks by address. */
    public Upstream upstream(String address) {
        return byAddress.get(address);
    }

    /** True if some endpoint is a hostname that needs re-resolving every {@code dns-refresh}. */
    public boolean hasHostnameEndpoints() {
        return config.endpoints().stream().anyMatch(e -> !isIpLiteral(e.host()));
    }

    /**
     * (Re)resolves every endpoint and replaces the upstream list. Upstreams whose address is
     * still present are kept as they are, state and counters included. An endpoint that fails
     * to resolve keeps its previous addresses (a DNS outage must not empty a cluster).
     */
    public synchronized void resolve(Resolver resolver) {
        Map<String, Upstream> previous = new LinkedHashMap<>();
        for (Upstream u : upstreams) {
            previous.put(u.address(), u);
        }
        // Insertion-ordered and keyed by address, so a cluster of thousands of endpoints resolves in O(n).
        Map<String, Upstream> next = new LinkedHashMap<>();
        Map<EndpointConfig, List<Upstream>> nextByEndpoint = new LinkedHashMap<>();
        for (EndpointConfig endpoint : config.endpoints()) {
            List<Upstream> fromEndpoint = nextByEndpoint.computeIfAbsent(endpoint, e -> new ArrayList<>());
            List<InetAddress> addresses;
            try {
                addresses = isIpLiteral(endpoint.host())
                        ? List.of(InetAddress.getByName(endpoint.host()))
                        : resolver.resolve(endpoint.host());
            } catch (UnknownHostException e) {
                // Keep exactly what this endpoint resolved to last time, once each.
                for (Upstream u : upstreamsByEndpoint.getOrDefault(endpoint, List.of())) {
                    if (next.putIfAbsent(u.address(), u) == null) {
                        fromEndpoint.add(u);
                    }
                }
                continue;
            }
            for (InetAddress address : addresses) {
                InetSocketAddress socket = new InetSocketAddress(address, endpoint.port());
                String name = isIpLiteral(endpoint.host())
                        ? endpoint.address()
                        : formatAddress(address) + ":" + endpoint.port();
                Upstream existing = previous.get(name);
                if (existing != null) {
                    if (next.putIfAbsent(name, existing) == null) {
                        fromEndpoint.add(existing);
                    }
                } else if (!next.containsKey(name)) {
                    Upstream created = new Upstream(config.name(), name, socket, endpoint.weight(), config.slowStart(),
                            clock, this::refresh);
                    created.setEventSink(events);
                    if (resolvedOnce) {
                        created.startSlowStart(); // a host joining a running cluster ramps up like a returning one
                    }
                    next.put(name, created);
                    fromEndpoint.add(created);
                }
            }
        }
        upstreamsByEndpoint = nextByEndpoint;
        byAddress = Map.copyOf(next);
        upstreams = List.copyOf(next.values());
        outlierDetector.setHosts(upstreams);
        resolvedOnce = true;
        refresh();
    }

    /**
     * Rebuilds the host set snapshot after an eligibility change. Serialised on its own lock (never
     * the one {@link #resolve} holds while it waits on DNS) so that two concurrent changes cannot
     * leave the older snapshot in place; called on state changes only, never per request.
     */
    public void refresh() {
        boolean wasPanic;
        HostSet next;
        boolean moreEligible;
        synchronized (refreshLock) {
            wasPanic = hostSet.panic();
            next = HostSet.of(upstreams, config.panicThreshold());
            hostSet = next;
            int eligible = eligibleCount(next);
            moreEligible = eligible > eligibleAtLastRefresh;
            eligibleAtLastRefresh = eligible;
        }
        if (moreEligible && breaker != null) {
            breaker.onUpstreamRecovered(); // an open breaker tries half-open now: an upstream is back
        }
        if (next.panic() != wasPanic) {
            long eligible = next.all().stream().filter(Upstream::eligible).count();
            Map<String, Object> detail = new java.util.LinkedHashMap<>();
            detail.put("panic_threshold", config.panicThreshold());
            detail.put("eligible", eligible);
            detail.put("upstreams", next.all().size());
            detail.put("not_drained", next.all().stream().filter(u -> u.admin() == Upstream.AdminState.ACTIVE).count());
            events.publish(new StateEvent(clock.currentTimeMillis(), next.panic() ? "panic_entered" : "panic_left",
                    config.name(), null, wasPanic ? "panic" : "normal", next.panic() ? "panic" : "normal",
                    next.panic() ? "eligible_below_panic_threshold" : "eligible_restored", detail));
        }
    }

    private static int eligibleCount(HostSet set) {
        int n = 0;
        for (Upstream u : set.all()) {
            if (u.eligible()) {
                n++;
            }
        }
        return n;
    }

    static String formatAddress(InetAddress address) {
        String text = address.getHostAddress();
        return text.indexOf(':') >= 0 ? "[" + text + "]" : text;
    }

    static boolean isIpLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            return true; // IPv6 literal
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (!(c == '.' || (c >= '0' && c <= '9'))) {
                return false;
            }
        }
        return !host.isEmpty();
    }
}
