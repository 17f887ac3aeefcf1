package io.bulwark.config;

import com.typesafe.config.ConfigValueType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads {@code bulwark.clusters}: each cluster's endpoints, balancer, pool and limits. The
 * health policies (active checks, outlier detection, circuit breaker) are read by
 * {@link ClusterHealthParser}.
 */
final class ClusterConfigParser {

    /** Every cluster name defined in the file (also broken ones, so routes naming them get no second error). */
    record Result(List<String> names, Map<String, ClusterConfig> clusters) {
    }

    static final List<String> CLUSTER_KEYS = List.of(
            "endpoints", "dns-refresh", "tls", "tls-ca-file", "tls-server-name", "tls-provider", "tls-cert-file", "tls-key-file", "load-balancer", "hash-key", "connect-timeout", "pool", "limits",
            "health-check", "outlier-detection", "panic-threshold", "slow-start", "circuit-breaker",
            "protocol", "http2");
    private static final List<String> HTTP2_KEYS = List.of("max-concurrent-streams");
    private static final Map<String, UpstreamProtocol.Version> PROTOCOLS = new LinkedHashMap<>();
    private static final List<String> ENDPOINT_KEYS = List.of("address", "weight");
    private static final List<String> POOL_KEYS = List.of("max-connections-per-upstream", "idle-timeout");
    private static final List<String> LIMITS_KEYS = List.of(
            "max-concurrent-requests", "max-pending-requests", "max-concurrent-retries", "adaptive");
    private static final List<String> ADAPTIVE_KEYS = List.of("min-limit", "max-limit", "initial-limit");

    private static final String ENDPOINT_EXPECTED = "\"host:port\" or { address = \"host:port\", weight = N }";
    private static final String HASH_KEY_EXPECTED = "header:NAME, cookie:NAME or client-ip";

    private static final Map<String, LoadBalancerKind> BALANCERS = new LinkedHashMap<>();

    static {
        for (UpstreamProtocol.Version v : UpstreamProtocol.Version.values()) {
            PROTOCOLS.put(v.configName(), v);
        }
        for (LoadBalancerKind kind : LoadBalancerKind.values()) {
            BALANCERS.put(kind.configName(), kind);
        }
    }

    private ClusterConfigParser() {
    }

    static Result parseAll(ConfigReader bulwark, ReferenceDefaults defaults) {
        ConfigReader.Slot slot = bulwark.slot("clusters");
        if (!slot.isPresent()) {
            bulwark.problemAt(slot, "missing (expected: at least one cluster, like clusters { users { endpoints = [\"127.0.0.1:9001\"] } })");
            return new Result(List.of(), Map.of());
        }
        ConfigReader clusters = bulwark.asObject(slot);
        List<String> names = clusters.keys();
        if (names.isEmpty() && slot.value().valueType() == ConfigValueType.OBJECT) {
            clusters.problemHere("empty (expected: at least one cluster)");
        }
        Map<String, ClusterConfig> parsed = new LinkedHashMap<>();
        for (String name : names) {
            ConfigReader.Slot clusterSlot = clusters.slot(name);
            if (!BulwarkConfigParser.isValidName(name)) {
                clusters.problemAt(clusterSlot, "invalid cluster name \"" + name + "\" (expected: "
                        + BulwarkConfigParser.NAME_EXPECTED + ")");
            }
            if (!clusterSlot.isPresent()) {
                clusters.problemAt(clusterSlot, "null (expected: a cluster object { endpoints = [ ... ] })");
                continue;
            }
            ConfigReader cluster = clusters.asObject(clusterSlot).withDefaults(defaults.cluster());
            parsed.put(name, parse(name, cluster, defaults));
        }
        return new Result(names, parsed);
    }

    private static ClusterConfig parse(String name, ConfigReader c, ReferenceDefaults defaults) {
        c.rejectUnknownKeys(CLUSTER_KEYS);
        List<EndpointConfig> endpoints = endpoints(c, defaults);
        Duration dnsRefresh = c.positiveDuration("dns-refresh");
        boolean tls = c.bool("tls");
        LoadBalancerKind balancer = c.choice("load-balancer", BALANCERS, LoadBalancerKind.ROUND_ROBIN);
        Optional<HashKey> hashKey = hashKey(c, balancer);
        Duration connectTimeout = c.positiveDuration("connect-timeout");
        PoolConfig pool = pool(c.object("pool"));
        LimitsConfig limits = limits(c.object("limits"), defaults);
        Optional<HealthCheckConfig> healthCheck = c.optionalObject("health-check")
                .map(h -> ClusterHealthParser.healthCheck(h.withDefaults(defaults.healthCheck())));
        OutlierDetectionConfig outlier = ClusterHealthParser.outlierDetection(
                c.object("outlier-detection"), healthCheck.isPresent(), defaults.outlierLatency());
        double panicThreshold = c.percent("panic-threshold");
        Duration slowStart = c.duration("slow-start");
        CircuitBreakerConfig breaker = ClusterHealthParser.circuitBreaker(c.object("circuit-breaker"));
        UpstreamTls tlsOptions = new UpstreamTls(
                TlsFiles.optionalReadableFile(c, "tls-ca-file", "a readable PEM file of CA certificates"),
                c.optionalString("tls-server-name", "a host name for SNI and certificate verification"),
                BulwarkConfigParser.tlsProvider(c, "tls-provider"),
                TlsFiles.optionalReadableFile(c, "tls-cert-file", "a readable PEM file of the client certificate chain"),
                TlsFiles.optionalReadableFile(c, "tls-key-file", "a readable PEM file of the client certificate's key"));
        if (!tls && (tlsOptions.caFile().isPresent() || tlsOptions.serverName().isPresent()
                || tlsOptions.provider() != TlsProvider.AUTO || c.has("tls-cert-file") || c.has("tls-key-file"))) {
            c.problem("tls", "false (expected: true when tls-ca-file, tls-server-name, tls-provider, tls-cert-file or"
                    + " tls-key-file is set)");
        }
        if (c.has("tls-cert-file") != c.has("tls-key-file")) {
            String missing = c.has("tls-cert-file") ? "tls-key-file" : "tls-cert-file";
            c.problem(missing, "missing (expected: tls-cert-file and tls-key-file together, for a client certificate)");
        }
        UpstreamProtocol protocol = protocol(c);
        return new ClusterConfig(name, endpoints, dnsRefresh, tls, balancer, hashKey, connectTimeout, pool, limits,
                healthCheck, outlier, panicThreshold, slowStart, breaker, tlsOptions, protocol);
    }

    /** {@code protocol} and its {@code http2} block (read whatever the protocol, so a typo in it is found either way). */
    private static UpstreamProtocol protocol(ConfigReader c) {
        UpstreamProtocol.Version version = c.choice("protocol", PROTOCOLS, UpstreamProtocol.Version.HTTP1);
        ConfigReader h2 = c.object("http2");
        h2.rejectUnknownKeys(HTTP2_KEYS);
        int streams = h2.integer("max-concurrent-streams", 1, Integer.MAX_VALUE);
        return new UpstreamProtocol(version, streams);
    }

    private static List<EndpointConfig> endpoints(ConfigReader c, ReferenceDefaults defaults) {
        ConfigReader.Slot slot = c.slot("endpoints");
        if (!slot.isPresent()) {
            c.problemAt(slot, ConfigReader.render(slot.value()) + " (expected: a list of at least one endpoint, each "
                    + ENDPOINT_EXPECTED + ")");
            return List.of();
        }
        List<ConfigReader.Slot> items = c.list("endpoints", ENDPOINT_EXPECTED);
        if (items.isEmpty() && slot.value().valueType() == ConfigValueType.LIST) {
            c.problemAt(slot, "empty list (expected: at least one endpoint " + ENDPOINT_EXPECTED + ")");
        }
        List<EndpointConfig> endpoints = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        for (ConfigReader.Slot item : items) {
            endpoint(c, item, defaults).ifPresent(e -> {
                String previous = seen.putIfAbsent(e.address().toLowerCase(Locale.ROOT), item.path());
                if (previous != null) {
                    // The admin API and the metrics identify an upstream by its address.
                    c.problemAt(item, "duplicate endpoint \"" + e.address() + "\" (already at " + previous + ")");
                }
                endpoints.add(e);
            });
        }
        return endpoints;
    }

    private static Optional<EndpointConfig> endpoint(ConfigReader c, ConfigReader.Slot item, ReferenceDefaults defaults) {
        ConfigValueType type = item.isPresent() ? item.value().valueType() : ConfigValueType.NULL;
        if (type == ConfigValueType.STRING) {
            // The shorthand "host:port" takes every other endpoint setting from the defaults.
            ConfigReader shorthandDefaults = new ConfigReader(item.path(), defaults.endpoint(), c.problems());
            int weight = shorthandDefaults.integer("weight", 1, Integer.MAX_VALUE);
            return c.parsed(item, ENDPOINT_EXPECTED, HostAddresses::parseHostPort)
                    .map(hp -> new EndpointConfig(hp.host(), hp.port(), weight));
        }
        if (type != ConfigValueType.OBJECT) {
            c.problemAt(item, ConfigReader.render(item.value()) + " (expected: " + ENDPOINT_EXPECTED + ")");
            return Optional.empty();
        }
        ConfigReader e = c.asObject(item).withDefaults(defaults.endpoint());
        e.rejectUnknownKeys(ENDPOINT_KEYS);
        ConfigReader.Slot address = e.slot("address");
        Optional<HostAddresses.HostPort> hostPort = e.parsed(address, "\"host:port\"", HostAddresses::parseHostPort);
        int weight = e.integer("weight", 1, Integer.MAX_VALUE);
        return hostPort.map(hp -> new EndpointConfig(hp.host(), hp.port(), weight));
    }

    private static Optional<HashKey> hashKey(ConfigReader c, LoadBalancerKind balancer) {
        ConfigReader.Slot slot = c.slot("hash-key");
        if (!slot.isPresent()) {
            if (balancer == LoadBalancerKind.RING_HASH) {
                c.problemAt(slot, "required when load-balancer is ring-hash (expected: " + HASH_KEY_EXPECTED + ")");
            }
            return Optional.empty();
        }
        return c.parsed(slot, HASH_KEY_EXPECTED, ClusterConfigParser::parseHashKey);
    }

    static HashKey parseHashKey(String text) {
        if (text.equals("client-ip")) {
            return new HashKey(HashKey.Source.CLIENT_IP, "");
        }
        if (text.startsWith("header:") && HttpSyntax.isToken(text.substring(7))) {
            return new HashKey(HashKey.Source.HEADER, text.substring(7).toLowerCase(Locale.ROOT));
        }
        if (text.startsWith("cookie:") && HttpSyntax.isToken(text.substring(7))) {
            return new HashKey(HashKey.Source.COOKIE, text.substring(7));
        }
        throw new IllegalArgumentException("expected: " + HASH_KEY_EXPECTED + ", where NAME is a header or cookie name"
                + DidYouMean.suggest(text, List.of("client-ip")).map(s -> "; did you mean \"" + s + "\"?").orElse(""));
    }

    private static PoolConfig pool(ConfigReader p) {
        p.rejectUnknownKeys(POOL_KEYS);
        return new PoolConfig(
                p.integer("max-connections-per-upstream", 1, Integer.MAX_VALUE),
                p.positiveDuration("idle-timeout"));
    }

    private static LimitsConfig limits(ConfigReader l, ReferenceDefaults defaults) {
        l.rejectUnknownKeys(LIMITS_KEYS);
        return new LimitsConfig(
                l.integer("max-concurrent-requests", 1, Integer.MAX_VALUE),
                l.integer("max-pending-requests", 1, Integer.MAX_VALUE),
                l.integer("max-concurrent-retries", 1, Integer.MAX_VALUE),
                l.optionalObject("adaptive").map(a -> adaptive(a.withDefaults(defaults.adaptiveLimit()))));
    }

    private static AdaptiveLimitConfig adaptive(ConfigReader a) {
        a.rejectUnknownKeys(ADAPTIVE_KEYS);
        int min = a.integer("min-limit", 1, Integer.MAX_VALUE);
        int max = a.integer("max-limit", 1, Integer.MAX_VALUE);
        int initial = a.integer("initial-limit", 1, Integer.MAX_VALUE);
        if (min > max) {
            a.problem("min-limit", min + " (expected: at most max-limit, " + max + ")");
        } else if (initial < min || initial > max) {
            a.problem("initial-limit", initial + " (expected: between min-limit and max-limit, " + min + ".." + max + ")");
        }
        return new AdaptiveLimitConfig(min, max, initial);
    }
}
