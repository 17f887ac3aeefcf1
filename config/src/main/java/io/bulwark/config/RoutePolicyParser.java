package io.bulwark.config;

import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Reads a route's resilience policies: the retry block, the rate limit and fault injection. */
final class RoutePolicyParser {

    private static final List<String> RETRY_KEYS = List.of(
            "max-retries", "retry-on", "retriable-status", "per-try-timeout", "backoff", "budget-percent",
            "min-retry-concurrency", "retry-non-idempotent", "buffer-limit");
    private static final List<String> BACKOFF_KEYS = List.of("base", "max");
    private static final List<String> RATE_LIMIT_KEYS = List.of("requests-per-second", "burst", "key", "scope");
    private static final List<String> FAULT_KEYS = List.of("delay", "abort");
    private static final List<String> DELAY_KEYS = List.of("percent", "duration");
    private static final List<String> ABORT_KEYS = List.of("percent", "status");

    /** More retries than this only multiply load on an upstream that is already failing. */
    static final int MAX_RETRIES = 10;

    private static final String RATE_LIMIT_KEY_EXPECTED = "route, client-ip or header:NAME";

    private static final Map<String, RetryConfig.RetryOn> RETRY_ON = new LinkedHashMap<>();

    static {
        for (RetryConfig.RetryOn r : RetryConfig.RetryOn.values()) {
            RETRY_ON.put(r.configName(), r);
        }
    }

    private RoutePolicyParser() {
    }

    static RetryConfig retry(ConfigReader r) {
        r.rejectUnknownKeys(RETRY_KEYS);
        int maxRetries = r.integer("max-retries", 0, MAX_RETRIES);

        Set<RetryConfig.RetryOn> retryOn = EnumSet.noneOf(RetryConfig.RetryOn.class);
        for (ConfigReader.Slot item : r.list("retry-on", "retry conditions like [connect-failure, reset]")) {
            r.choice(item, RETRY_ON).ifPresent(retryOn::add);
        }
        Set<Integer> statuses = new LinkedHashSet<>();
        for (ConfigReader.Slot item : r.list("retriable-status", "HTTP status codes like [503]")) {
            statuses.add(r.integer(item, 100, 599));
        }
        if (retryOn.contains(RetryConfig.RetryOn.RETRIABLE_STATUS) && statuses.isEmpty() && r.has("retriable-status")) {
            r.problem("retriable-status", "empty list (expected: at least one status, since retry-on has retriable-status)");
        }
        Duration perTryTimeout = r.duration("per-try-timeout");

        ConfigReader b = r.object("backoff");
        b.rejectUnknownKeys(BACKOFF_KEYS);
        Duration base = b.duration("base");
        ConfigReader.Slot maxSlot = b.slot("max");
        Duration max = b.duration("max");
        if (max.compareTo(base) < 0 && maxSlot.isPresent()) {
            b.problemAt(maxSlot, ConfigReader.render(maxSlot.value())
                    + " (expected: a duration >= backoff.base, which is " + ConfigJson.duration(base) + ")");
        }
        return new RetryConfig(
                maxRetries,
                retryOn,
                statuses,
                perTryTimeout,
                new RetryConfig.Backoff(base, max),
                r.percent("budget-percent"),
                r.integer("min-retry-concurrency", 0, Integer.MAX_VALUE),
                r.bool("retry-non-idempotent"),
                r.bytes("buffer-limit", 0, Integer.MAX_VALUE, "a size >= 0 like 64KiB"));
    }

    static final double DEFAULT_RATE = 100;
    static final java.time.Duration DEFAULT_HEDGE_DELAY = java.time.Duration.ofMillis(50);
    static final java.time.Duration DEFAULT_STALE_IF_ERROR = java.time.Duration.ofMinutes(5);

    private static final java.util.Map<String, RateLimitConfig.Scope> RATE_LIMIT_SCOPES = new java.util.LinkedHashMap<>();

    static {
        RATE_LIMIT_SCOPES.put("local", RateLimitConfig.Scope.LOCAL);
        RATE_LIMIT_SCOPES.put("global", RateLimitConfig.Scope.GLOBAL);
    }

    static RateLimitConfig rateLimit(ConfigReader r) {
        r.rejectUnknownKeys(RATE_LIMIT_KEYS);
        // CONTRACT §2: requests-per-second = 100 is built in, like every default shown there.
        double rps = r.has("requests-per-second") ? r.positiveNumber("requests-per-second") : DEFAULT_RATE;
        // Without a burst, one second's worth of requests may arrive at once.
        int burst = r.has("burst") ? r.integer("burst", 1, Integer.MAX_VALUE) : (int) Math.max(1, Math.ceil(Math.min(rps, Integer.MAX_VALUE)));
        RateLimitConfig.Key key = r.parsed(r.slot("key"), RATE_LIMIT_KEY_EXPECTED, RoutePolicyParser::parseRateLimitKey)
                .orElse(new RateLimitConfig.Key(RateLimitConfig.Key.Kind.ROUTE, ""));
        RateLimitConfig.Scope scope = r.choice("scope", RATE_LIMIT_SCOPES, RateLimitConfig.Scope.LOCAL);
        return new RateLimitConfig(rps, burst, key, scope);
    }

    static RateLimitConfig.Key parseRateLimitKey(String text) {
        if (text.equals("route")) {
            return new RateLimitConfig.Key(RateLimitConfig.Key.Kind.ROUTE, "");
        }
        if (text.equals("client-ip")) {
            return new RateLimitConfig.Key(RateLimitConfig.Key.Kind.CLIENT_IP, "");
        }
        if (text.startsWith("header:") && HttpSyntax.isToken(text.substring(7))) {
            return new RateLimitConfig.Key(RateLimitConfig.Key.Kind.HEADER, text.substring(7).toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException("expected: " + RATE_LIMIT_KEY_EXPECTED + ", where NAME is a header name"
                + DidYouMean.suggest(text, List.of("route", "client-ip")).map(s -> "; did you mean \"" + s + "\"?").orElse(""));
    }

    private static final List<String> HEDGE_KEYS = List.of("delay", "max-extra");
    private static final List<String> FALLBACK_KEYS = List.of("stale-if-error", "max-size", "status", "body",
            "content-type");
    static final long DEFAULT_FALLBACK_MAX_SIZE = 64L * 1024 * 1024;

    /** {@code hedge { delay = 50ms | p95, max-extra = 1 }}: delay 50ms and max-extra 1 (1 to 3) by default. */
    static HedgeConfig hedge(ConfigReader h) {
        h.rejectUnknownKeys(HEDGE_KEYS);
        ConfigReader.Slot d = h.slot("delay");
        java.util.Optional<java.time.Duration> delay = java.util.Optional.of(DEFAULT_HEDGE_DELAY);
        if (d.isPresent() && "p95".equals(String.valueOf(d.value().unwrapped()))) {
            delay = java.util.Optional.empty();
        } else if (d.isPresent()) {
            delay = java.util.Optional.of(h.duration(d, true));
        }
        int maxExtra = h.has("max-extra") ? h.integer("max-extra", 1, 3) : 1;
        return new HedgeConfig(delay, maxExtra);
    }

    /**
     * {@code fallback { stale-if-error, max-size }} and/or {@code fallback { status, body, content-type }}.
     * Without a fixed reply, {@code stale-if-error} defaults to 5m (CONTRACT §7), so {@code fallback {}}
     * serves stale copies.
     */
    static FallbackConfig fallback(ConfigReader f) {
        f.rejectUnknownKeys(FALLBACK_KEYS);
        java.util.Optional<java.time.Duration> stale = f.has("stale-if-error")
                ? java.util.Optional.of(f.positiveDuration("stale-if-error"))
                : f.has("status") ? java.util.Optional.empty() : java.util.Optional.of(DEFAULT_STALE_IF_ERROR);
        long maxSize = f.has("max-size")
                ? f.bytes("max-size", 1024, Long.MAX_VALUE, "a size of at least 1KiB, like 64MiB")
                : DEFAULT_FALLBACK_MAX_SIZE;
        java.util.Optional<FallbackConfig.Fixed> fixed = java.util.Optional.empty();
        if (f.has("status")) {
            fixed = java.util.Optional.of(new FallbackConfig.Fixed(f.integer("status", 200, 599),
                    f.optionalString("body", "a string").orElse(""),
                    f.optionalString("content-type", "a media type like text/plain").orElse("text/plain; charset=utf-8")));
        } else if (f.has("body") || f.has("content-type")) {
            f.problem("status", "missing (expected: the status of the fixed fallback reply its body and content-type"
                    + " belong to, like 503)");
        }
        return new FallbackConfig(stale, maxSize, fixed);
    }

    static FaultConfig fault(ConfigReader f) {
        f.rejectUnknownKeys(FAULT_KEYS);
        ConfigReader d = f.object("delay");
        d.rejectUnknownKeys(DELAY_KEYS);
        var delay = new FaultConfig.Delay(d.percent("percent"), d.duration("duration"));
        ConfigReader a = f.object("abort");
        a.rejectUnknownKeys(ABORT_KEYS);
        var abort = new FaultConfig.Abort(a.percent("percent"), a.integer("status", 200, 599));
        return new FaultConfig(delay, abort);
    }
}
