package io.bulwark.routing;

import io.bulwark.config.CircuitBreakerConfig;
import io.bulwark.config.ClusterConfig;
import io.bulwark.config.EndpointConfig;
import io.bulwark.config.FaultConfig;
import io.bulwark.config.HashKey;
import io.bulwark.config.LimitsConfig;
import io.bulwark.config.LoadBalancerKind;
import io.bulwark.config.OutlierDetectionConfig;
import io.bulwark.config.PoolConfig;
import io.bulwark.config.RetryConfig;
import io.bulwark.config.RouteConfig;
import io.bulwark.config.RouteMatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Config records for tests, with every default from CONTRACT §2 filled in, so tests never need
 * the (separately written) {@code ConfigLoader}.
 */
public final class TestConfigs {

    private TestConfigs() {
    }

    /** A cluster with the contract's defaults; endpoints are {@code "host:port"} or {@code "host:port@weight"}. */
    public static ClusterConfig cluster(String name, LoadBalancerKind kind, HashKey hashKey, String... endpoints) {
        List<EndpointConfig> parsed = new ArrayList<>();
        for (String endpoint : endpoints) {
            int at = endpoint.indexOf('@');
            int weight = at < 0 ? 1 : Integer.parseInt(endpoint.substring(at + 1));
            String address = at < 0 ? endpoint : endpoint.substring(0, at);
            int colon = address.lastIndexOf(':');
            parsed.add(new EndpointConfig(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)), weight));
        }
        return new ClusterConfig(
                name,
                parsed,
                Duration.ofSeconds(30),
                false,
                kind,
                Optional.ofNullable(hashKey),
                Duration.ofSeconds(1),
                new PoolConfig(256, Duration.ofSeconds(30)),
                new LimitsConfig(1024, 1024, 3),
                Optional.empty(),
                new OutlierDetectionConfig(5, 5,
                        new OutlierDetectionConfig.SuccessRateConfig(5, 100, 1.9),
                        new OutlierDetectionConfig.FailurePercentageConfig(85, 5, 50),
                        Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(300), 10,
                        OutlierDetectionConfig.Readmit.TIMER),
                50,
                Duration.ZERO,
                new CircuitBreakerConfig(true, 50, Duration.ofSeconds(5), 100,
                        CircuitBreakerConfig.WindowType.TIME, Duration.ofSeconds(10), 100, 20, Duration.ofSeconds(10), 5));
    }

    public static ClusterConfig cluster(String name, String... endpoints) {
        return cluster(name, LoadBalancerKind.ROUND_ROBIN, null, endpoints);
    }

    /** The contract's default retry policy. */
    public static RetryConfig defaultRetry() {
        return new RetryConfig(2,
                Set.of(RetryConfig.RetryOn.CONNECT_FAILURE, RetryConfig.RetryOn.RESET, RetryConfig.RetryOn.GATEWAY_ERROR),
                Set.of(503), Duration.ZERO,
                new RetryConfig.Backoff(Duration.ofMillis(25), Duration.ofMillis(250)),
                20, 3, false, 64 * 1024);
    }

    public static RouteBuilder route(String name) {
        return new RouteBuilder(name);
    }

    /** Builds a {@link RouteConfig}; a route with no path condition matches every path. */
    public static final class RouteBuilder {
        private final String name;
        private RouteMatch.PathMatch path;
        private String host;
        private Set<String> methods = Set.of();
        private final Map<String, String> headers = new LinkedHashMap<>();
        private final List<RouteConfig.WeightedCluster> clusters = new ArrayList<>();
        private String prefixRewrite;

        private RouteBuilder(String name) {
            this.name = name;
        }

        public RouteBuilder prefix(String prefix) {
            path = new RouteMatch.PathMatch(RouteMatch.PathMatch.Kind.PREFIX, prefix);
            return this;
        }

        public RouteBuilder exact(String exact) {
            path = new RouteMatch.PathMatch(RouteMatch.PathMatch.Kind.EXACT, exact);
            return this;
        }

        public RouteBuilder regex(String regex) {
            path = new RouteMatch.PathMatch(RouteMatch.PathMatch.Kind.REGEX, regex);
            return this;
        }

        public RouteBuilder host(String host) {
            this.host = host;
            return this;
        }

        public RouteBuilder methods(String... methods) {
            this.methods = Set.of(methods);
            return this;
        }

        public RouteBuilder header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        public RouteBuilder cluster(String cluster) {
            return cluster(cluster, 1);
        }

        public RouteBuilder cluster(String cluster, int weight) {
            clusters.add(new RouteConfig.WeightedCluster(cluster, weight));
            return this;
        }

        public RouteBuilder prefixRewrite(String rewrite) {
            this.prefixRewrite = rewrite;
            return this;
        }

        public RouteConfig build() {
            return new RouteConfig(
                    name,
                    new RouteMatch(path, Optional.ofNullable(host), methods, headers),
                    clusters,
                    Optional.ofNullable(prefixRewrite),
                    RouteConfig.HeaderRewrite.NONE,
                    Duration.ofSeconds(15),
                    defaultRetry(),
                    Optional.empty(),
                    FaultConfig.NONE,
                    Optional.empty());
        }
    }
}
