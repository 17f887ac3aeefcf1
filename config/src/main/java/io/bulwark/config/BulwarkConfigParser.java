package io.bulwark.config;

import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Turns a resolved HOCON tree into a {@link BulwarkConfig}: checks the root, reads the
 * single top-level blocks (listener, admin, shutdown) itself and hands clusters and routes to
 * {@link ClusterConfigParser} and {@link RouteConfigParser}. Throws once, at the end, with
 * every problem found.
 */
final class BulwarkConfigParser {

    static final String ROOT = "bulwark";

    private static final List<String> ROOT_KEYS = List.of("listener", "admin", "shutdown", "access-log", "watch-config",
            "reload", "clusters", "routes", "fleet");
    private static final List<String> LISTENER_KEYS = List.of(
            "host", "port", "max-initial-line-length", "max-header-size", "max-body-size",
            "request-header-timeout", "idle-timeout", "max-connections", "body-timeout", "tls", "trust-forwarded-from",
            "unsafe-path-escapes", "close-on-refusal", "http2");
    private static final List<String> HTTP2_KEYS = List.of(
            "enabled", "max-concurrent-streams", "initial-window-size", "max-header-list-size", "max-resets-per-minute");
    private static final List<String> ADMIN_KEYS = List.of("host", "port", "token", "state-file");
    private static final List<String> SHUTDOWN_KEYS = List.of("drain-timeout");
    private static final List<String> ACCESS_LOG_KEYS = List.of("enabled");
    private static final List<String> FLEET_KEYS = List.of("redis", "mode", "password-file", "name", "member-ttl",
            "on-redis-down", "timeout");
    private static final List<String> RELOAD_KEYS = List.of("auto-rollback", "bake-time", "max-error-rate-increase",
            "max-p90-increase", "min-requests");

    /** Request line and header block bounds: below 256 bytes nothing real fits, above 1MiB is a memory risk. */
    private static final long MIN_HEADER_BYTES = 256;
    private static final long MAX_HEADER_BYTES = 1024 * 1024;

    /** Cluster and route names end up in URLs, metric tags and log fields. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    static final String NAME_EXPECTED = "a name of letters, digits, '.', '_' and '-', starting with a letter or digit";

    private BulwarkConfigParser() {
    }

    static boolean isValidName(String name) {
        return NAME.matcher(name).matches();
    }

    static BulwarkConfig parse(ConfigObject root, ReferenceDefaults defaults) throws ConfigValidationException {
        Problems problems = new Problems();
        // Only "bulwark" belongs at the top; anything else is a typo or a file meant for something else.
        for (String key : new ConfigReader("", root, problems).keys()) {
            if (!key.equals(ROOT)) {
                problems.add(ConfigReader.quoteKey(key), "unknown key" + hintOrExpected(key));
            }
        }
        ConfigValue bulwarkValue = root.get(ROOT);
        if (bulwarkValue == null || bulwarkValue.valueType() != ConfigValueType.OBJECT) {
            problems.add(ROOT, ConfigReader.render(bulwarkValue)
                    + " (expected: the root object bulwark { listener { port = ... }, clusters { ... }, routes = [ ... ] })");
            problems.throwIfAny();
        }
        ConfigReader bulwark = new ConfigReader(ROOT, (ConfigObject) bulwarkValue, problems).withDefaults(defaults.bulwark());
        bulwark.rejectUnknownKeys(ROOT_KEYS);

        ListenerConfig listener = listener(bulwark.object("listener"), defaults);
        AdminConfig admin = admin(bulwark.object("admin"));
        ShutdownConfig shutdown = shutdown(bulwark.object("shutdown"));
        AccessLogConfig accessLog = accessLog(bulwark.object("access-log"));
        boolean watchConfig = bulwark.bool("watch-config");
        ReloadConfig reload = reload(bulwark.object("reload"));
        ClusterConfigParser.Result clusters = ClusterConfigParser.parseAll(bulwark, defaults);
        List<RouteConfig> routes = RouteConfigParser.parseAll(bulwark, clusters.names(), defaults);
        Optional<FleetConfig> fleet = bulwark.optionalObject("fleet").map(f -> fleet(f.withDefaults(defaults.fleet())));
        if (fleet.isEmpty()) {
            for (int i = 0; i < routes.size(); i++) {
                if (routes.get(i).rateLimit().map(rl -> rl.scope() == RateLimitConfig.Scope.GLOBAL).orElse(false)) {
                    problems.add(ROOT + ".routes[" + i + "].rate-limit.scope", "global (expected: local, or a "
                            + "bulwark.fleet { redis = ... } block: a global limit is kept in the fleet's Redis)");
                }
            }
        }

        problems.throwIfAny();
        return new BulwarkConfig(listener, admin, shutdown, accessLog, watchConfig, reload, clusters.clusters(), routes,
                fleet);
    }

    private static String hintOrExpected(String key) {
        String hint = DidYouMean.hint(key, List.of(ROOT));
        return hint.isEmpty() ? " (expected: only the root object \"bulwark\")" : hint;
    }

    private static ListenerConfig listener(ConfigReader r, ReferenceDefaults defaults) {
        r.rejectUnknownKeys(LISTENER_KEYS);
        String sizeRange = "a size from 256 bytes to 1MiB, like 16KiB";
        return new ListenerConfig(
                bindHost(r),
                r.integer("port", 1, 65535),
                (int) r.bytes("max-initial-line-length", MIN_HEADER_BYTES, MAX_HEADER_BYTES, sizeRange),
                (int) r.bytes("max-header-size", MIN_HEADER_BYTES, MAX_HEADER_BYTES, sizeRange),
                r.bytes("max-body-size", 0, Long.MAX_VALUE, "a size >= 0 like 10MiB (0 = no limit)"),
                r.positiveDuration("request-header-timeout"),
                r.positiveDuration("idle-timeout"),
                r.integer("max-connections", 1, 1_000_000),
                r.positiveDuration("body-timeout"),
                r.optionalObject("tls").map(t -> serverTls(t.withDefaults(defaults.listenerTls()))),
                trustedRanges(r),
                r.choice("unsafe-path-escapes", java.util.Map.of("reject", Boolean.FALSE, "pass", Boolean.TRUE),
                        Boolean.FALSE),
                r.bool("close-on-refusal"),
                http2(r.object("http2")));
    }

    /** {@code listener.http2}: bounds a client connection's streams, windows and header lists can cost. */
    private static Http2Config http2(ConfigReader r) {
        r.rejectUnknownKeys(HTTP2_KEYS);
        return new Http2Config(
                r.bool("enabled"),
                r.integer("max-concurrent-streams", 1, 10_000),
                // RFC 9113 §6.5.2: at most 2^31-1; below 1KiB a stream crawls
                (int) r.bytes("initial-window-size", 1024, Integer.MAX_VALUE,
                        "a size from 1KiB to 2GiB-1, like 64KiB"),
                (int) r.bytes("max-header-list-size", MIN_HEADER_BYTES, MAX_HEADER_BYTES,
                        "a size from 256 bytes to 1MiB, like 16KiB"),
                r.integer("max-resets-per-minute", 1, 1_000_000));
    }

    /** IP addresses or CIDR ranges, checked here so a typo cannot silently trust everyone. */
    private static List<String> trustedRanges(ConfigReader r) {
        List<String> ranges = new java.util.ArrayList<>();
        for (ConfigReader.Slot slot : r.list("trust-forwarded-from", "IP addresses or CIDR ranges")) {
            Optional<String> text = r.string(slot, "an IP address or CIDR range like 10.0.0.0/8");
            if (text.isEmpty()) {
                continue;
            }
            String t = text.get().trim();
            int slash = t.indexOf('/');
            String ip = slash >= 0 ? t.substring(0, slash) : t;
            Optional<byte[]> bytes = HostAddresses.parseIpv4(ip).or(() -> HostAddresses.parseIpv6(ip));
            boolean ok = bytes.isPresent();
            if (ok && slash >= 0) {
                try {
                    int prefix = Integer.parseInt(t.substring(slash + 1));
                    ok = prefix >= 0 && prefix <= bytes.get().length * 8;
                } catch (NumberFormatException e) {
                    ok = false;
                }
            }
            if (ok) {
                ranges.add(t);
            } else {
                r.problemAt(slot, "\"" + t + "\" (expected: an IP address or CIDR range like 10.0.0.0/8)");
            }
        }
        return ranges;
    }

    private static ServerTls serverTls(ConfigReader t) {
        t.rejectUnknownKeys(List.of("cert-file", "key-file", "provider"));
        java.util.Optional<java.nio.file.Path> cert = TlsFiles.optionalReadableFile(t, "cert-file",
                "a readable PEM certificate chain");
        java.util.Optional<java.nio.file.Path> key = TlsFiles.optionalReadableFile(t, "key-file",
                "a readable PEM (PKCS#8) private key");
        if (!t.has("cert-file")) {
            t.problem("cert-file", "missing (expected: the PEM certificate chain of the listener)");
        }
        if (!t.has("key-file")) {
            t.problem("key-file", "missing (expected: the PEM private key of the listener)");
        }
        TlsProvider provider = tlsProvider(t, "provider");
        return new ServerTls(cert.orElse(java.nio.file.Path.of("")), key.orElse(java.nio.file.Path.of("")), provider);
    }

    private static final java.util.Map<String, TlsProvider> TLS_PROVIDERS = new java.util.LinkedHashMap<>();

    static {
        for (TlsProvider p : TlsProvider.values()) {
            TLS_PROVIDERS.put(p.configName(), p);
        }
    }

    /** {@code auto | openssl | jdk}: the listener's {@code provider}, a cluster's {@code tls-provider}. */
    static TlsProvider tlsProvider(ConfigReader r, String key) {
        return r.choice(key, TLS_PROVIDERS, TlsProvider.AUTO);
    }

    private static AdminConfig admin(ConfigReader r) {
        r.rejectUnknownKeys(ADMIN_KEYS);
        String host = bindHost(r);
        int port = r.integer("port", 1, 65535);
        Optional<String> token = r.optionalString("token", "a non-empty string");
        token.ifPresent(t -> {
            if (t.isEmpty()) {
                r.problem("token", "\"\" (expected: a non-empty string; leave token out to disable authentication)");
            } else if (!t.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                // It travels in an Authorization header; anything else cannot be typed reliably.
                r.problem("token", "<redacted> (expected: printable ASCII without spaces)");
            }
        });
        if (token.isEmpty() && !host.isEmpty() && !HostAddresses.isLoopback(host)) {
            r.problem("token", "required when admin.host is not loopback (admin.host is \"" + host
                    + "\"); set it, e.g. token = ${?BULWARK_ADMIN_TOKEN}, or bind the admin API to 127.0.0.1");
        }
        Optional<Path> stateFile = r.optionalString("state-file", "a file path").flatMap(s -> {
            try {
                if (s.isBlank()) {
                    throw new InvalidPathException(s, "empty path");
                }
                return Optional.of(Path.of(s));
            } catch (InvalidPathException e) {
                r.problem("state-file", ConfigReader.render(r.slot("state-file").value()) + " (expected: a file path)");
                return Optional.empty();
            }
        });
        return new AdminConfig(host, port, token, stateFile);
    }

    private static ShutdownConfig shutdown(ConfigReader r) {
        r.rejectUnknownKeys(SHUTDOWN_KEYS);
        return new ShutdownConfig(r.duration("drain-timeout"));
    }

    private static AccessLogConfig accessLog(ConfigReader r) {
        r.rejectUnknownKeys(ACCESS_LOG_KEYS);
        return new AccessLogConfig(r.bool("enabled"));
    }

    private static final java.util.Map<String, FleetConfig.Mode> FLEET_MODES = new java.util.LinkedHashMap<>();
    private static final java.util.Map<String, FleetConfig.OnRedisDown> ON_REDIS_DOWN = new java.util.LinkedHashMap<>();

    static {
        FLEET_MODES.put("standalone", FleetConfig.Mode.STANDALONE);
        FLEET_MODES.put("sentinel", FleetConfig.Mode.SENTINEL);
        FLEET_MODES.put("cluster", FleetConfig.Mode.CLUSTER);
        ON_REDIS_DOWN.put("local", FleetConfig.OnRedisDown.LOCAL);
        ON_REDIS_DOWN.put("deny", FleetConfig.OnRedisDown.DENY);
    }

    /** {@code bulwark.fleet}: the URI's scheme must agree with {@code mode}; the password is never echoed. */
    private static FleetConfig fleet(ConfigReader r) {
        r.rejectUnknownKeys(FLEET_KEYS);
        String expectedUri = "a Redis URI like redis://127.0.0.1:6379, rediss://host:6380 or "
                + "redis-sentinel://host:26379/0#mymaster";
        String redis = r.optionalString("redis", expectedUri).orElse("");
        FleetConfig.Mode mode = r.choice("mode", FLEET_MODES, FleetConfig.Mode.STANDALONE);
        String scheme = "";
        try {
            java.net.URI uri = new java.net.URI(redis);
            scheme = uri.getScheme() == null ? "" : uri.getScheme();
            if (!List.of("redis", "rediss", "redis-sentinel", "rediss-sentinel").contains(scheme)
                    || uri.getHost() == null && !redis.contains("@") && !scheme.endsWith("sentinel")) {
                r.problem("redis", "\"" + FleetConfig.redact(redis) + "\" (expected: " + expectedUri + ")");
            }
        } catch (java.net.URISyntaxException e) {
            r.problem("redis", "\"" + FleetConfig.redact(redis) + "\" (expected: " + expectedUri + ")");
        }
        boolean sentinelUri = scheme.endsWith("-sentinel");
        if (mode == FleetConfig.Mode.SENTINEL && !sentinelUri && !scheme.isEmpty()) {
            r.problem("mode", "sentinel (expected: a redis-sentinel:// URI in fleet.redis for mode = sentinel)");
        } else if (mode != FleetConfig.Mode.SENTINEL && sentinelUri) {
            r.problem("mode", mode.name().toLowerCase(java.util.Locale.ROOT)
                    + " (expected: sentinel, since fleet.redis is a redis-sentinel:// URI)");
        }
        Optional<Path> passwordFile = TlsFiles.optionalReadableFile(r, "password-file",
                "a readable file whose first line is the Redis password");
        String name = r.string("name", NAME_EXPECTED);
        if (!name.isEmpty() && !isValidName(name)) {
            r.problem("name", "\"" + name + "\" (expected: " + NAME_EXPECTED + ")");
        }
        Duration memberTtl = r.positiveDuration("member-ttl");
        if (memberTtl.compareTo(Duration.ofSeconds(1)) < 0) {
            r.problem("member-ttl", ConfigJson.duration(memberTtl) + " (expected: at least 1s; heartbeats go every "
                    + "member-ttl / 3)");
        }
        Duration timeout = r.positiveDuration("timeout");
        return new FleetConfig(redis, mode, passwordFile, name, memberTtl,
                r.choice("on-redis-down", ON_REDIS_DOWN, FleetConfig.OnRedisDown.LOCAL), timeout);
    }

    private static ReloadConfig reload(ConfigReader r) {
        r.rejectUnknownKeys(RELOAD_KEYS);
        return new ReloadConfig(
                r.bool("auto-rollback"),
                r.positiveDuration("bake-time"),
                r.positivePercent("max-error-rate-increase"),
                r.number(r.slot("max-p90-increase"), 1, false, 1000, "a factor > 1, like 2.0"),
                r.integer("min-requests", 1, 1_000_000));
    }

    private static String bindHost(ConfigReader r) {
        String expected = "an IP address or host name, like 0.0.0.0 or ::1";
        ConfigReader.Slot slot = r.slot("host");
        return r.string(slot, expected).map(h -> {
            Optional<String> host = HostAddresses.normalizeBindHost(h);
            if (host.isEmpty()) {
                r.problemAt(slot, ConfigReader.render(slot.value()) + " (expected: " + expected + ")");
            }
            return host.orElse("");
        }).orElse("");
    }
}
