package io.bulwark.routing.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.bulwark.config.RateLimitConfig;
import io.bulwark.routing.Clock;
import io.bulwark.routing.RequestView;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.atomic.LongAdder;

/**
 * The rate limit of one route ({@code rate-limit} block): the first per-route layer, before fault
 * injection, retries and the cluster. Keeps one {@link TokenBucket} per key:
 * <ul>
 * <li>{@code key = route}: one bucket for the whole route;</li>
 * <li>{@code key = client-ip}: one per client address;</li>
 * <li>{@code key = header:NAME}: one per value of that header. Requests <em>without</em> the header
 *     share the bucket of the empty key {@code ""}, so leaving the header out never escapes the limit.
 *     Values longer than {@value #MAX_KEY_LENGTH} characters are replaced by their SHA-256, so a
 *     client cannot make the cache hold its 16 KiB header values.</li>
 * </ul>
 * Per-client buckets live in a bounded Caffeine cache (at most {@code maxKeys} entries, least
 * recently/frequently used evicted first), so a flood of distinct keys cannot exhaust memory. An
 * entry expires once untouched for the time a bucket takes to refill completely: by then it is full,
 * exactly like a new one, so expiry never forgives a client anything. Only eviction by size can,
 * and only under a flood of more distinct keys than {@code maxKeys}. The cache does its maintenance
 * on the calling thread ({@code executor(Runnable::run)}) and reads time from the injected
 * {@link Clock}, so there are no background threads and tests are deterministic.
 *
 * <p>Thread-safe and non-blocking on the request path.
 */
public final class RouteRateLimiter {

    /** Per-key buckets kept when the caller does not say otherwise. */
    public static final long DEFAULT_MAX_KEYS = 100_000;
    /** Longer keys are stored as their SHA-256. */
    public static final int MAX_KEY_LENGTH = 128;

    private final String route;
    private final RateLimitConfig config;
    private final Clock clock;
    /** The single bucket of {@code key = route}; null for per-client keys. */
    private final TokenBucket routeBucket;
    /** Per-key buckets; null for {@code key = route}. */
    private final Cache<String, TokenBucket> buckets;
    private final String policyHeader;
    private final String quotedName;
    private final LongAdder refused = new LongAdder();
    /** The fleet's buckets for {@code scope = global}; null for a local limit. */
    private final GlobalRateLimiter global;

    public RouteRateLimiter(String route, RateLimitConfig config, Clock clock) {
        this(route, config, clock, DEFAULT_MAX_KEYS, QuotaSource.NONE);
    }

    /** @param quota where a {@code scope = global} limit gets its tokens (ignored for a local one) */
    public RouteRateLimiter(String route, RateLimitConfig config, Clock clock, QuotaSource quota) {
        this(route, config, clock, DEFAULT_MAX_KEYS, quota);
    }

    /** @param maxKeys how many per-key buckets to keep at most (ignored for {@code key = route}) */
    public RouteRateLimiter(String route, RateLimitConfig config, Clock clock, long maxKeys) {
        this(route, config, clock, maxKeys, QuotaSource.NONE);
    }

    /**
     * @param maxKeys how many per-key buckets to keep at most (ignored for {@code key = route})
     * @param quota where a {@code scope = global} limit gets its tokens (ignored for a local one)
     */
    public RouteRateLimiter(String route, RateLimitConfig config, Clock clock, long maxKeys, QuotaSource quota) {
        this.route = route;
        this.config = config;
        this.clock = clock;
        this.global = config.scope() == RateLimitConfig.Scope.GLOBAL
                ? new GlobalRateLimiter(route, config, clock, quota, maxKeys) : null;
        if (config.key().kind() == RateLimitConfig.Key.Kind.ROUTE) {
            this.routeBucket = new TokenBucket(config.requestsPerSecond(), config.burst(), clock);
            this.buckets = null;
        } else {
            this.routeBucket = null;
            this.buckets = Caffeine.newBuilder()
                    .maximumSize(maxKeys)
                    .expireAfterAccess(refillTime(config))
                    .executor(Runnable::run)
                    .ticker(clock::nanoTime)
                    .build();
        }
        this.quotedName = structuredString(route);
        this.policyHeader = quotedName + ";q=" + config.burst() + ";w=" + windowSeconds(config);
    }

    /** How long an empty bucket takes to fill (at least a second), after which an idle entry may go. */
    static Duration refillTime(RateLimitConfig config) {
        double seconds = config.burst() / config.requestsPerSecond();
        long nanos = (long) Math.min(Long.MAX_VALUE / 2.0, Math.ceil(seconds * 1e9));
        return Duration.ofNanos(Math.max(1_000_000_000L, nanos));
    }

    /** The policy window in whole seconds: the time {@code burst} tokens take to refill, at least 1. */
    static long windowSeconds(RateLimitConfig config) {
        double seconds = config.burst() / config.requestsPerSecond();
        return Math.max(1, (long) Math.ceil(Math.min(seconds, Long.MAX_VALUE / 2.0)));
    }

    public String route() {
        return route;
    }

    public RateLimitConfig config() {
        return config;
    }

    /** The key this route's limit counts {@code request} under ("" for {@code key = route} and for a missing header). */
    public String keyOf(RequestView request) {
        return switch (config.key().kind()) {
            case ROUTE -> "";
            case CLIENT_IP -> nullToEmpty(request.clientIp());
            case HEADER -> nullToEmpty(request.header(config.key().headerName()));
        };
    }

    /** Takes a token from the bucket {@code request} counts against. */
    public RateLimitDecision tryAcquire(RequestView request) {
        return tryAcquire(keyOf(request));
    }

    /**
     * Takes a token from {@code key}'s bucket (the key is ignored for {@code key = route}; null is
     * treated as ""). A refused request should be answered 429 {@code rate_limited} with
     * {@code Retry-After: }{@link RateLimitDecision#retryAfterSeconds()}.
     */
    public RateLimitDecision tryAcquire(String key) {
        if (global != null) {
            RateLimitDecision decision = global.tryAcquire(storedKey(nullToEmpty(key)));
            if (!decision.allowed()) {
                refused.increment();
            }
            return decision;
        }
        TokenBucket bucket = routeBucket != null ? routeBucket : bucketFor(key);
        RateLimitDecision decision = bucket.tryAcquire();
        if (!decision.allowed()) {
            refused.increment();
        }
        return decision;
    }

    private TokenBucket bucketFor(String key) {
        String k = storedKey(nullToEmpty(key));
        TokenBucket bucket = buckets.getIfPresent(k);
        if (bucket == null) {
            // Creating a bucket is cheap and never blocks, so computing in the map is fine.
            bucket = buckets.get(k, ignored -> new TokenBucket(config.requestsPerSecond(), config.burst(), clock));
        }
        return bucket;
    }

    /**
     * The {@code RateLimit-Policy} header value (draft-ietf-httpapi-ratelimit-headers):
     * {@code "<route>";q=<burst>;w=<seconds to refill the burst>}. The same for every response.
     */
    public String policyHeader() {
        return policyHeader;
    }

    /**
     * The {@code RateLimit} header value for a decision: {@code "<route>";r=<tokens left>;t=<seconds
     * until the bucket is full again>}.
     */
    public String rateLimitHeader(RateLimitDecision decision) {
        return quotedName + ";r=" + decision.remaining() + ";t=" + decision.resetSeconds();
    }

    /** Requests refused so far (for {@code bulwark_rate_limited_total}). */
    public long refusedCount() {
        return refused.sum();
    }

    /** Per-key buckets held now (approximate, as Caffeine counts); 1 for {@code key = route}. */
    public long trackedKeys() {
        if (global != null) {
            return global.trackedKeys();
        }
        return buckets == null ? 1 : buckets.estimatedSize();
    }

    /** Runs pending cache maintenance now (evictions, expiry); for tests and the admin API. */
    public void cleanUp() {
        if (buckets != null) {
            buckets.cleanUp();
        }
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    static String storedKey(String key) {
        if (key.length() <= MAX_KEY_LENGTH) {
            return key;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return "sha256:" + HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** An RFC 8941 sf-string: quoted, with {@code "} and {@code \} escaped and non-printable ASCII dropped. */
    static String structuredString(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c >= 0x20 && c < 0x7f) {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
