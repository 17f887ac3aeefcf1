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
 */
public record BulwarkConfig(
        ListenerConfig listener,
        AdminConfig admin,
        ShutdownConfig shutdown,
        AccessLogConfig accessLog,
        boolean watchConfig,
        ReloadConfig reload,
        Map<String, ClusterConfig> clusters,
        List<RouteConfig> routes) {

    public BulwarkConfig {
        clusters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(clusters));
        routes = List.copyOf(routes);
    }

    public Optional<ClusterConfig> cluster(String name) {
        return Optional.ofNullable(clusters.get(name));
    }
}
