package io.bulwark.admin;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ClusterConfig;
import io.bulwark.config.ConfigLoader;
import io.bulwark.config.ConfigValidationException;
import io.bulwark.config.FaultConfig;
import io.bulwark.routing.Clock;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.Route;
import io.bulwark.routing.RouteTable;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.circuit.ClusterCircuitBreaker;
import io.bulwark.routing.limits.ClusterLimits;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The admin API's view of a proxy, without the proxy: the real routing objects (clusters with
 * their upstreams, outlier detectors, circuit breakers and limits; compiled routes) built from a
 * HOCON config on an injected clock, and a record of what the admin API asked the data plane to do.
 */
final class TestProxyControl implements ProxyControl {

    /**
     * Two clusters: {@code users} with three upstreams, {@code solo} with one (for the
     * last-eligible rule). Outlier detection ejects after three 5xx in a row.
     */
    static final String CONFIG = """
            bulwark {
              listener { port = 8080 }
              clusters {
                users {
                  endpoints = [ "127.0.0.1:9001", "127.0.0.1:9002", { address = "127.0.0.1:9003", weight = 2 } ]
                  outlier-detection { consecutive-5xx = 3, max-ejection-percent = 50 }
                }
                solo { endpoints = [ "127.0.0.1:9101" ] }
              }
              routes = [
                { name = users-api, match { path-prefix = "/users", methods = [ GET, POST ] }, cluster = users,
                  prefix-rewrite = "/" }
                { name = solo-api, match { path-exact = "/solo" }, cluster = solo }
              ]
            }
            """;

    private final BulwarkConfig config;
    private final Map<String, Cluster> clusters = new LinkedHashMap<>();
    private final Map<String, ClusterCircuitBreaker> breakers = new LinkedHashMap<>();
    private final Map<String, ClusterLimits> limits = new LinkedHashMap<>();
    private final List<Route> routes;
    private final Map<String, FaultConfig> faults = new ConcurrentHashMap<>();
    private final List<Upstream> idleClosed = Collections.synchronizedList(new ArrayList<>());
    private volatile ReloadResult nextReload = new ReloadResult(true, List.of(), "2 clusters, 2 routes");

    TestProxyControl(Clock clock, EventSink events) {
        this(CONFIG, clock, events);
    }

    TestProxyControl(String hocon, Clock clock, EventSink events) {
        try {
            this.config = ConfigLoader.parse(hocon);
        } catch (ConfigValidationException e) {
            throw new IllegalArgumentException("test config is invalid: " + e.getMessage(), e);
        }
        for (ClusterConfig cc : config.clusters().values()) {
            Cluster cluster = new Cluster(cc, clock, events);
            cluster.resolve(Cluster.Resolver.SYSTEM); // IP literals only: no DNS lookup
            clusters.put(cc.name(), cluster);
            breakers.put(cc.name(), cluster.breaker());
            limits.put(cc.name(), cluster.limits());
        }
        this.routes = RouteTable.compile(config.routes(), clusters).routes();
    }

    Cluster cluster(String name) {
        return clusters.get(name);
    }

    Upstream upstream(String cluster, String address) {
        return clusters.get(cluster).upstream(address);
    }

    /** The upstreams whose idle connections the admin API asked to close, in order. */
    List<Upstream> idleClosed() {
        return List.copyOf(idleClosed);
    }

    void nextReload(ReloadResult result) {
        this.nextReload = result;
    }

    @Override
    public BulwarkConfig config() {
        return config;
    }

    @Override
    public Map<String, Cluster> clusters() {
        return Collections.unmodifiableMap(clusters);
    }

    @Override
    public List<Route> routes() {
        return routes;
    }

    @Override
    public void closeIdleConnections(Upstream upstream) {
        idleClosed.add(upstream);
    }

    @Override
    public List<String> reloadPaths() {
        return List.of("admin_api");
    }

    @Override
    public ClusterCircuitBreaker circuitBreaker(Cluster cluster) {
        return breakers.get(cluster.name());
    }

    @Override
    public ClusterLimits limits(Cluster cluster) {
        return limits.get(cluster.name());
    }

    @Override
    public FaultConfig fault(Route route) {
        return faults.getOrDefault(route.name(), route.config().fault());
    }

    @Override
    public void setFault(Route route, FaultConfig fault) {
        faults.put(route.name(), fault);
    }

    @Override
    public ReloadResult reload() {
        return nextReload;
    }
}
