package io.bulwark.routing;

import io.bulwark.config.ClusterConfig;
import io.bulwark.config.EndpointConfig;
import io.bulwark.routing.lb.LoadBalancer;
import io.bulwark.routing.lb.LoadBalancers;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A cluster at run time: its upstreams (one per resolved endpoint address), the current
 * {@link HostSet} snapshot balancers read, and one load balancer per event-loop thread.
 */
public final class Cluster {

    /** Resolves a hostname to all its addresses; blocking, so only ever called off the event loops. */
    @FunctionalInterface
    public interface Resolver {
        List<InetAddress> resolve(String host) throws UnknownHostException;

        Resolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));
    }

    private final ClusterConfig config;
    private final Clock clock;
    private final ThreadLocal<LoadBalancer> loadBalancers;
    private volatile List<Upstream> upstreams = List.of();
    private volatile HostSet hostSet = HostSet.EMPTY;
    private final Object refreshLock = new Object();
    /** What each endpoint resolved to last time; only touched under {@link #resolve}'s lock. */
    private Map<EndpointConfig, List<Upstream>> upstreamsByEndpoint = Map.of();

    public Cluster(ClusterConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.loadBalancers = ThreadLocal.withInitial(() -> LoadBalancers.create(config));
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

    /** This thread's balancer. */
    public LoadBalancer loadBalancer() {
        return loadBalancers.get();
    }

    public Upstream upstream(String address) {
        for (Upstream u : upstreams) {
            if (u.address().equals(address)) {
                return u;
            }
        }
        return null;
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
        List<Upstream> next = new ArrayList<>();
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
                    if (!next.contains(u)) {
                        next.add(u);
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
                    if (!next.contains(existing)) {
                        next.add(existing);
                        fromEndpoint.add(existing);
                    }
                } else if (next.stream().noneMatch(u -> u.address().equals(name))) {
                    Upstream created = new Upstream(config.name(), name, socket, endpoint.weight(), clock, this::refresh);
                    next.add(created);
                    fromEndpoint.add(created);
                }
            }
        }
        upstreamsByEndpoint = nextByEndpoint;
        upstreams = List.copyOf(next);
        refresh();
    }

    /**
     * Rebuilds the host set snapshot after an eligibility change. Serialised on its own lock (never
     * the one {@link #resolve} holds while it waits on DNS) so that two concurrent changes cannot
     * leave the older snapshot in place; called on state changes only, never per request.
     */
    public void refresh() {
        synchronized (refreshLock) {
            hostSet = HostSet.of(upstreams, config.panicThreshold());
        }
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
