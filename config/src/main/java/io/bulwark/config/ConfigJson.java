package io.bulwark.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The effective config as JSON, for {@code GET /api/v1/config} and the reload summary. Uses the
 * HOCON key names and shapes, durations as HOCON strings ({@code "250ms"}) and sizes as byte
 * counts, so the output (unredacted) loads back into an equal {@link BulwarkConfig}. Unset
 * optional settings are written as {@code null}. Sets are written sorted, so the output is stable.
 */
final class ConfigJson {

    static final String REDACTED = "<redacted>";

    private ConfigJson() {
    }

    static String render(BulwarkConfig cfg, boolean redactSecrets) {
        return JsonWriter.write(Map.of("bulwark", tree(cfg, redactSecrets)));
    }

    /** The content of the {@code bulwark} object: maps, lists, strings, numbers, booleans and nulls. */
    static Map<String, Object> tree(BulwarkConfig cfg, boolean redactSecrets) {
        Map<String, Object> bulwark = new LinkedHashMap<>();
        bulwark.put("listener", listener(cfg.listener()));
        bulwark.put("admin", admin(cfg.admin(), redactSecrets));
        bulwark.put("shutdown", Map.of("drain-timeout", duration(cfg.shutdown().drainTimeout())));
        bulwark.put("access-log", Map.of("enabled", cfg.accessLog().enabled()));
        bulwark.put("watch-config", cfg.watchConfig());
        bulwark.put("reload", ordered(
                "auto-rollback", cfg.reload().autoRollback(),
                "bake-time", duration(cfg.reload().bakeTime()),
                "max-error-rate-increase", cfg.reload().maxErrorRateIncrease(),
                "max-p90-increase", cfg.reload().maxP90Increase(),
                "min-requests", cfg.reload().minRequests()));
        Map<String, Object> clusters = new LinkedHashMap<>();
        cfg.clusters().forEach((name, c) -> clusters.put(name, cluster(c)));
        bulwark.put("clusters", clusters);
        bulwark.put("routes", cfg.routes().stream().map(ConfigJson::route).toList());
        cfg.fleet().ifPresent(f -> bulwark.put("fleet", fleet(f, redactSecrets)));
        return bulwark;
    }

    /** A duration in the largest HOCON unit that shows it exactly: 250ms, 5s, 5m, 0s. */
    static String duration(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        if (d.getNano() == 0) {
            long s = d.getSeconds();
            if (s % 86_400 == 0) {
                return s / 86_400 + "d";
            }
            if (s % 3_600 == 0) {
                return s / 3_600 + "h";
            }
            return s % 60 == 0 ? s / 60 + "m" : s + "s";
        }
        long nanos = d.toNanos();
        if (nanos % 1_000_000 == 0) {
            return nanos / 1_000_000 + "ms";
        }
        return nanos % 1_000 == 0 ? nanos / 1_000 + "us" : nanos + "ns";
    }

    private static Map<String, Object> listener(ListenerConfig l) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("host", l.host());
        m.put("port", l.port());
        m.put("max-initial-line-length", l.maxInitialLineLength());
        m.put("max-header-size", l.maxHeaderSize());
        m.put("max-body-size", l.maxBodySize());
        m.put("request-header-timeout", duration(l.requestHeaderTimeout()));
        m.put("idle-timeout", duration(l.idleTimeout()));
        m.put("max-connections", l.maxConnections());
        m.put("body-timeout", duration(l.bodyTimeout()));
        m.put("trust-forwarded-from", new ArrayList<>(l.trustForwardedFrom()));
        m.put("unsafe-path-escapes", l.passUnsafePathEscapes() ? "pass" : "reject");
        m.put("close-on-refusal", l.closeOnRefusal());
        m.put("tls", l.tls().map(t -> (Object) ordered(
                "cert-file", t.certFile().toString(), "key-file", t.keyFile().toString(),
                "provider", t.provider().configName())).orElse(null));
        Http2Config h2 = l.http2();
        m.put("http2", ordered("enabled", h2.enabled(), "max-concurrent-streams", h2.maxConcurrentStreams(),
                "initial-window-size", h2.initialWindowSize(), "max-header-list-size", h2.maxHeaderListSize(),
                "max-resets-per-minute", h2.maxResetsPerMinute()));
        return m;
    }

    private static Map<String, Object> admin(AdminConfig a, boolean redactSecrets) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("host", a.host());
        m.put("port", a.port());
        m.put("token", a.token().map(t -> redactSecrets ? REDACTED : t).orElse(null));
        m.put("state-file", a.stateFile().map(Object::toString).orElse(null));
        return m;
    }

    private static Map<String, Object> cluster(ClusterConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Object> endpoints = new ArrayList<>();
        for (EndpointConfig e : c.endpoints()) {
            endpoints.add(ordered("address", e.address(), "weight", e.weight()));
        }
        m.put("endpoints", endpoints);
        m.put("dns-refresh", duration(c.dnsRefresh()));
        m.put("tls", c.tls());
        m.put("tls-ca-file", c.tlsOptions().caFile().map(Object::toString).orElse(null));
        m.put("tls-server-name", c.tlsOptions().serverName().orElse(null));
        m.put("tls-provider", c.tlsOptions().provider().configName());
        m.put("tls-cert-file", c.tlsOptions().certFile().map(Object::toString).orElse(null));
        m.put("tls-key-file", c.tlsOptions().keyFile().map(Object::toString).orElse(null));
        m.put("protocol", c.protocol().version().configName());
        m.put("http2", ordered("max-concurrent-streams", c.protocol().maxConcurrentStreams()));
        m.put("load-balancer", c.loadBalancer().configName());
        m.put("hash-key", c.hashKey().map(HashKey::toString).orElse(null));
        m.put("connect-timeout", duration(c.connectTimeout()));
        m.put("pool", ordered(
                "max-connections-per-upstream", c.pool().maxConnectionsPerUpstream(),
                "idle-timeout", duration(c.pool().idleTimeout())));
        m.put("limits", ordered(
                "max-concurrent-requests", c.limits().maxConcurrentRequests(),
                "max-pending-requests", c.limits().maxPendingRequests(),
                "max-concurrent-retries", c.limits().maxConcurrentRetries(),
                "adaptive", c.limits().adaptive().map(a -> ordered(
                        "min-limit", a.minLimit(), "max-limit", a.maxLimit(), "initial-limit", a.initialLimit()))
                        .orElse(null)));
        m.put("health-check", c.healthCheck().map(ConfigJson::healthCheck).orElse(null));
        m.put("outlier-detection", outlier(c.outlierDetection()));
        m.put("panic-threshold", c.panicThreshold());
        m.put("slow-start", duration(c.slowStart()));
        m.put("circuit-breaker", circuitBreaker(c.circuitBreaker()));
        return m;
    }

    private static Map<String, Object> healthCheck(HealthCheckConfig h) {
        return ordered(
                "path", h.path(),
                "interval", duration(h.interval()),
                "timeout", duration(h.timeout()),
                "unhealthy-threshold", h.unhealthyThreshold(),
                "healthy-threshold", h.healthyThreshold(),
                "transition-interval", duration(h.transitionInterval()),
                "grpc-service", h.grpcService().orElse(null));
    }

    private static Map<String, Object> outlier(OutlierDetectionConfig o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("consecutive-5xx", o.consecutive5xx());
        m.put("consecutive-gateway-failure", o.consecutiveGatewayFailure());
        m.put("success-rate", ordered(
                "minimum-hosts", o.successRate().minimumHosts(),
                "request-volume", o.successRate().requestVolume(),
                "stdev-factor", o.successRate().stdevFactor()));
        m.put("failure-percentage", ordered(
                "threshold", o.failurePercentage().threshold(),
                "minimum-hosts", o.failurePercentage().minimumHosts(),
                "request-volume", o.failurePercentage().requestVolume()));
        m.put("interval", duration(o.interval()));
        m.put("base-ejection-time", duration(o.baseEjectionTime()));
        m.put("max-ejection-time", duration(o.maxEjectionTime()));
        m.put("max-ejection-percent", o.maxEjectionPercent());
        m.put("readmit", o.readmit().name().toLowerCase(Locale.ROOT));
        m.put("readmit-guard", duration(o.readmitGuard()));
        m.put("latency", o.latency().map(l -> (Object) ordered(
                "threshold", duration(l.threshold()),
                "factor", l.factor(),
                "window", duration(l.window()),
                "request-volume", l.requestVolume(),
                "minimum-hosts", l.minimumHosts())).orElse(null));
        return m;
    }

    private static Map<String, Object> circuitBreaker(CircuitBreakerConfig cb) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("enabled", cb.enabled());
        m.put("failure-rate-threshold", cb.failureRateThreshold());
        m.put("slow-call-duration", duration(cb.slowCallDuration()));
        m.put("slow-call-rate-threshold", cb.slowCallRateThreshold());
        m.put("sliding-window-type", cb.slidingWindowType().name().toLowerCase(Locale.ROOT));
        m.put("sliding-window-duration", duration(cb.slidingWindowDuration()));
        m.put("sliding-window-size", cb.slidingWindowSize());
        m.put("minimum-calls", cb.minimumCalls());
        m.put("wait-in-open", duration(cb.waitInOpen()));
        m.put("half-open-calls", cb.halfOpenCalls());
        return m;
    }

    private static Map<String, Object> route(RouteConfig r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        m.put("match", match(r.match()));
        if (r.clusters().size() == 1 && r.clusters().get(0).weight() == 1) {
            m.put("cluster", r.clusters().get(0).name());
        } else {
            m.put("clusters", r.clusters().stream().map(w -> ordered("name", w.name(), "weight", w.weight())).toList());
        }
        m.put("prefix-rewrite", r.prefixRewrite().orElse(null));
        m.put("request-headers", ordered(
                "add", new LinkedHashMap<>(r.requestHeaders().add()),
                "remove", r.requestHeaders().remove()));
        m.put("timeout", duration(r.timeout()));
        m.put("retry", retry(r.retry()));
        m.put("rate-limit", r.rateLimit().map(ConfigJson::rateLimit).orElse(null));
        m.put("fault", ordered(
                "delay", ordered("percent", r.fault().delay().percent(), "duration", duration(r.fault().delay().duration())),
                "abort", ordered("percent", r.fault().abort().percent(), "status", r.fault().abort().status())));
        m.put("hedge", r.hedge().map(h -> (Object) ordered(
                "delay", h.delay().map(ConfigJson::duration).orElse("p95"), "max-extra", h.maxExtra())).orElse(null));
        m.put("fallback", r.fallback().map(ConfigJson::fallback).orElse(null));
        return m;
    }

    private static Map<String, Object> fallback(FallbackConfig f) {
        Map<String, Object> m = new LinkedHashMap<>();
        f.staleIfError().ifPresent(d -> m.put("stale-if-error", duration(d)));
        m.put("max-size", f.maxSize());
        f.fixed().ifPresent(x -> {
            m.put("status", x.status());
            m.put("body", x.body());
            m.put("content-type", x.contentType());
        });
        return m;
    }

    private static Map<String, Object> match(RouteMatch match) {
        Map<String, Object> m = new LinkedHashMap<>();
        String pathKey = switch (match.path().kind()) {
            case PREFIX -> "path-prefix";
            case EXACT -> "path-exact";
            case REGEX -> "path-regex";
        };
        m.put(pathKey, match.path().value());
        m.put("host", match.host().orElse(null));
        m.put("methods", match.methods().stream().sorted().toList());
        m.put("headers", new TreeMap<>(match.headers()));
        return m;
    }

    private static Map<String, Object> retry(RetryConfig r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("max-retries", r.maxRetries());
        m.put("retry-on", r.retryOn().stream().sorted().map(RetryConfig.RetryOn::configName).toList());
        m.put("retriable-status", r.retriableStatus().stream().sorted().toList());
        m.put("per-try-timeout", duration(r.perTryTimeout()));
        m.put("backoff", ordered("base", duration(r.backoff().base()), "max", duration(r.backoff().max())));
        m.put("budget-percent", r.budgetPercent());
        m.put("min-retry-concurrency", r.minRetryConcurrency());
        m.put("retry-non-idempotent", r.retryNonIdempotent());
        m.put("buffer-limit", r.bufferLimit());
        return m;
    }

    private static Map<String, Object> rateLimit(RateLimitConfig r) {
        return ordered("requests-per-second", r.requestsPerSecond(), "burst", r.burst(), "key", r.key().toString(),
                "scope", r.scope().name().toLowerCase(Locale.ROOT));
    }

    /** The fleet block; a password in the Redis URI is redacted with the other secrets (the file is only named). */
    private static Map<String, Object> fleet(FleetConfig f, boolean redactSecrets) {
        return ordered("redis", redactSecrets ? f.redactedRedis() : f.redis(),
                "mode", f.mode().name().toLowerCase(Locale.ROOT),
                "password-file", f.passwordFile().map(java.nio.file.Path::toString).orElse(null),
                "name", f.name(),
                "member-ttl", duration(f.memberTtl()),
                "on-redis-down", f.onRedisDown().name().toLowerCase(Locale.ROOT),
                "timeout", duration(f.timeout()));
    }

    /** A map from alternating keys and values, in that order. */
    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }
}
