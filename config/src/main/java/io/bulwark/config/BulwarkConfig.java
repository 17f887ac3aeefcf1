package io.bulwark.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One validated, immutable snapshot of the whole {@code bulwark} configuration. A reload
 * builds a new snapshot; nothing in it ever changes after {@link ConfigLoader} returns it.
 *
 * @param clusters clusters by name, in file order
 * @param routes routes in match order (first match wins)
 * @param fleet the Redis the sidecars of a fleet share; empty in single-process mode
 */
public record BulwarkConfig(
        ListenerConfig listener,
        AdminConfig admin,
        ShutdownConfig shutdown,
        AccessLogConfig accessLog,
        boolean watchConfig,
        ReloadConfig reload,
        Map<String, ClusterConfig> clusters,
        List<RouteConfig> routes,
        Optional<FleetConfig> fleet) {

    /** A single-process config (no {@code fleet} block). */
    public BulwarkConfig(ListenerConfig listener, AdminConfig admin, ShutdownConfig shutdown, AccessLogConfig accessLog,
                         boolean watchConfig, ReloadConfig reload, Map<String, ClusterConfig> clusters,
                         List<RouteConfig> routes) {
        this(listener, admin, shutdown, accessLog, watchConfig, reload, clusters, routes, Optional.empty());
    }

    public BulwarkConfig {
        clusters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(clusters));
        routes = List.copyOf(routes);
    }

    public Optional<ClusterConfig> cluster(String name) {
        return Optional.ofNullable(clusters.get(name));
    }
}
