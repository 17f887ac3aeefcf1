package io.bulwark.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The data plane's meters (listed in the README, "Metrics"). Names and tags are fixed here, since
 * dashboards and alerts depend on them; tag values are bounded (route, cluster, upstream, status,
 * code — never a path or a client), and meters are cached so the hot path does one map lookup,
 * not a registry lookup.
 */
public final class ProxyMetrics {

    public static final String REQUESTS = "bulwark.requests";
    public static final String UPSTREAM_REQUESTS = "bulwark.upstream.requests";
    public static final String LOCAL_REPLIES = "bulwark.local.replies";
    public static final String RETRIES = "bulwark.retries";
    public static final String HEDGES = "bulwark.hedges";
    public static final String FALLBACKS = "bulwark.fallback.served";
    public static final String RATE_LIMITED = "bulwark.rate.limited";
    public static final String RETRY_BUDGET_EXHAUSTED = "bulwark.retry.budget.exhausted";
    public static final String RETRY_LIMIT_REACHED = "bulwark.retry.limit.reached";
    public static final String HTTP2_REFUSALS = "bulwark.http2.refusals";

    /** Fixed histogram buckets: 14 per series keeps a route x cluster x status series small. */
    private static final Duration[] LATENCY_BUCKETS = {
        Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
        Duration.ofSeconds(10), Duration.ofSeconds(30),
    };

    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, AtomicReferenceArray<Timer>>> requestTimers =
            new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, ConcurrentHashMap<String, Timer>>> upstreamTimers =
            new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> localReplies = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> retries = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> simpleCounters = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> rateLimited = new ConcurrentHashMap<>();

    private final io.bulwark.proxy.reload.RouteOutcomes outcomes;

    public ProxyMetrics(MeterRegistry registry) {
        this(registry, null);
    }

    /** @param outcomes also told of every finished request (for judging reloads); null for none */
    public ProxyMetrics(MeterRegistry registry, io.bulwark.proxy.reload.RouteOutcomes outcomes) {
        this.registry = registry;
        this.outcomes = outcomes;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** A finished downstream request. {@code route}/{@code cluster} are "none" when there was none. */
    public void request(String route, String cluster, int status, long nanos) {
        // Nested lookups and a status-indexed array: no key object is built per request.
        AtomicReferenceArray<Timer> byStatus = requestTimers
                .computeIfAbsent(route, r -> new ConcurrentHashMap<>())
                .computeIfAbsent(cluster, c -> new AtomicReferenceArray<>(600));
        int index = status >= 0 && status < 600 ? status : 0;
        Timer timer = byStatus.get(index);
        if (timer == null) {
            timer = Timer.builder(REQUESTS)
                    .description("Downstream requests by route, cluster and status")
                    .tags("route", route, "cluster", cluster, "status", Integer.toString(status))
                    .serviceLevelObjectives(LATENCY_BUCKETS)
                    .register(registry);
            byStatus.set(index, timer);
        }
        timer.record(nanos, TimeUnit.NANOSECONDS);
        if (outcomes != null) {
            outcomes.record(route, cluster, status, nanos);
        }
    }

    /** One try against an upstream; {@code outcome} is e.g. "2xx", "5xx", "connect_failure", "reset", "timeout". */
    public void upstreamTry(String cluster, String upstream, String outcome, long nanos) {
        // Nested lookups: no key string is built per try.
        upstreamTimers.computeIfAbsent(cluster, c -> new ConcurrentHashMap<>())
                .computeIfAbsent(upstream, u -> new ConcurrentHashMap<>())
                .computeIfAbsent(outcome, o -> Timer.builder(UPSTREAM_REQUESTS)
                        .description("Tries sent to upstreams, by outcome")
                        .tags("cluster", cluster, "upstream", upstream, "outcome", outcome)
                        .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    }

    public void localReply(String code) {
        localReplies.computeIfAbsent(code, c -> Counter.builder(LOCAL_REPLIES)
                .description("Responses Bulwark made itself, by error code")
                .tag("code", c)
                .register(registry)).increment();
    }

    public void rateLimited(String route) {
        // Counted on every refusal of a flood: one lookup by the route's name, no key built.
        Counter c = rateLimited.get(route);
        if (c == null) {
            c = rateLimited.computeIfAbsent(route,
                    r -> counter(RATE_LIMITED, "Requests refused by a route's rate limit", "route", r));
        }
        c.increment();
    }

    public void retryBudgetExhausted(String route) {
        counter(RETRY_BUDGET_EXHAUSTED, "Retries refused by the route's retry budget", "route", route).increment();
    }

    public void retryLimitReached(String cluster) {
        counter(RETRY_LIMIT_REACHED, "Retries refused by the cluster's max-concurrent-retries", "cluster", cluster)
                .increment();
    }

    private Counter counter(String name, String description, String tag, String value) {
        return simpleCounters.computeIfAbsent(name + '\0' + value, k -> Counter.builder(name)
                .description(description).tag(tag, value).register(registry));
    }

    /**
     * An HTTP/2 client was refused a stream or its connection (a GOAWAY or RST_STREAM Bulwark sent);
     * {@code reason} is one of CONTRACT §7's ({@code rapid_reset}, {@code continuation_flood}, ...).
     */
    public void http2Refusal(String reason) {
        counter(HTTP2_REFUSALS, "HTTP/2 streams and connections refused, by reason", "reason", reason).increment();
    }

    /** A hedged try was sent ({@code sent}), or a hedged try's response won ({@code won}). */
    public void hedge(String route, String result) {
        retries.computeIfAbsent(HEDGES + '\0' + route + '\0' + result, k -> Counter.builder(HEDGES)
                .description("Hedged tries by route: sent, and won (the hedge answered first)")
                .tags("route", route, "result", result)
                .register(registry)).increment();
    }

    /** A fallback answered instead of an error: {@code stale} (a kept copy) or {@code fixed} (the configured reply). */
    public void fallbackServed(String route, String kind) {
        retries.computeIfAbsent(FALLBACKS + '\0' + route + '\0' + kind, k -> Counter.builder(FALLBACKS)
                .description("Fallback replies served instead of an error, by route and kind (stale, fixed)")
                .tags("route", route, "kind", kind)
                .register(registry)).increment();
    }

    public void retry(String route, String reason) {
        String key = route + '\0' + reason;
        retries.computeIfAbsent(key, k -> Counter.builder(RETRIES)
                .description("Retries by route and reason")
                .tags("route", route, "reason", reason)
                .register(registry)).increment();
    }
}
