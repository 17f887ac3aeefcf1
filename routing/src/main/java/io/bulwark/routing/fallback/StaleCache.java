package io.bulwark.routing.fallback;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.bulwark.config.FallbackConfig;
import io.bulwark.routing.Clock;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A route's kept copies of successful GET responses, for {@code fallback.stale-if-error}: when
 * the route's upstreams fail a request after its retries, a copy younger than the window is served
 * instead of the error (RFC 5861's {@code stale-if-error}, decided by the proxy rather than by each
 * response). What may be kept follows RFC 9111's rules for a shared cache:
 * <ul>
 * <li>only a GET answered 200, 203 or 204, with a body of at most an eighth of {@code max-size};</li>
 * <li>never a response whose {@code Cache-Control} says {@code no-store}, {@code private},
 *     {@code no-cache}, {@code must-revalidate} or {@code proxy-revalidate} (the last three forbid
 *     serving it stale), nor one to a request whose {@code Cache-Control} says {@code no-store};</li>
 * <li>never a response with {@code Vary: *} or a {@code Set-Cookie} (one client's cookie is not
 *     another's), and never a response to a request with {@code Authorization} unless the response
 *     says {@code public};</li>
 * <li>{@code Vary} is honoured: a copy is served only to a request with the same values of the
 *     fields it names (up to {@value #MAX_VARIANTS} variants per target are kept).</li>
 * </ul>
 * Copies live in a Caffeine cache bounded by {@code max-size} (bodies and fields, in bytes) and
 * expire {@code stale-if-error} after they were stored. Times come from the injected clock.
 * Thread-safe: every event loop stores and reads.
 */
public final class StaleCache {

    /** Variants of one target (by {@code Vary}) kept at most. */
    public static final int MAX_VARIANTS = 8;

    /** One kept response. {@code headers} are the response's fields as they were relayed, in order. */
    public record Copy(int status, List<Map.Entry<String, String>> headers, byte[] body, long storedAtMillis,
                       Map<String, String> varyValues) {

        /** Seconds since it was stored, for the {@code Age} field. */
        public long ageSeconds(long nowMillis) {
            return Math.max(0, (nowMillis - storedAtMillis) / 1000);
        }

        int weight() {
            int w = body.length + 64;
            for (Map.Entry<String, String> h : headers) {
                w += h.getKey().length() + h.getValue().length() + 8;
            }
            return w;
        }
    }

    private final FallbackConfig config;
    private final Duration window;
    private final Clock clock;
    private final long maxBodyBytes;
    private final Cache<String, List<Copy>> copies;

    public StaleCache(FallbackConfig config, Duration window, Clock clock) {
        this.config = config;
        this.window = window;
        this.clock = clock;
        this.maxBodyBytes = Math.max(1, config.maxSize() / 8);
        this.copies = Caffeine.newBuilder()
                .maximumWeight(config.maxSize())
                .weigher((String key, List<Copy> variants) -> {
                    long w = key.length();
                    for (Copy c : variants) {
                        w += c.weight();
                    }
                    return (int) Math.min(Integer.MAX_VALUE, w);
                })
                .expireAfterWrite(window)
                .ticker(clock::nanoTime)
                .build();
    }

    public FallbackConfig config() {
        return config;
    }

    /** The largest body a copy may have (an eighth of {@code max-size}). */
    public long maxBodyBytes() {
        return maxBodyBytes;
    }

    /**
     * Whether a response to this request may be kept (before its body is read): the request side
     * and the response head's rules above.
     *
     * @param requestField the request's field of a (lower-case) name, or null
     * @param responseField the response's field of a (lower-case) name, or null
     * @param contentLength the response's declared body length, or -1
     */
    public boolean storable(String method, Function<String, String> requestField, int status,
                            Function<String, String> responseField, long contentLength) {
        if (!"GET".equals(method) || status != 200 && status != 203 && status != 204) {
            return false;
        }
        if (contentLength > maxBodyBytes) {
            return false;
        }
        if (hasDirective(requestField.apply("cache-control"), "no-store")) {
            return false;
        }
        String cacheControl = responseField.apply("cache-control");
        for (String forbidden : new String[] {"no-store", "private", "no-cache", "must-revalidate", "proxy-revalidate"}) {
            if (hasDirective(cacheControl, forbidden)) {
                return false;
            }
        }
        String vary = responseField.apply("vary");
        if (vary != null && vary.contains("*")) {
            return false;
        }
        if (responseField.apply("set-cookie") != null) {
            return false;
        }
        return requestField.apply("authorization") == null || hasDirective(cacheControl, "public");
    }

    /**
     * Keeps a copy of a response {@link #storable} said yes to, once its whole body is in.
     *
     * @param target the request's host and path with query (what the copy answers)
     * @param requestField the request's fields, for the values of those {@code Vary} names
     */
    public void store(String target, Function<String, String> requestField, int status,
                      List<Map.Entry<String, String>> headers, byte[] body) {
        if (body.length > maxBodyBytes) {
            return;
        }
        Map<String, String> varyValues = varyValues(headers, requestField);
        Copy copy = new Copy(status, List.copyOf(headers), body, clock.currentTimeMillis(), varyValues);
        copies.asMap().compute(target, (k, before) -> {
            List<Copy> next = new ArrayList<>(before == null ? 1 : before.size() + 1);
            next.add(copy);
            if (before != null) {
                for (Copy c : before) {
                    if (!c.varyValues().equals(varyValues) && next.size() < MAX_VARIANTS) {
                        next.add(c);
                    }
                }
            }
            return List.copyOf(next);
        });
    }

    /** A copy for this request younger than the window, if one is kept. */
    public Optional<Copy> lookup(String target, Function<String, String> requestField) {
        List<Copy> variants = copies.getIfPresent(target);
        if (variants == null) {
            return Optional.empty();
        }
        long now = clock.currentTimeMillis();
        for (Copy c : variants) {
            if (now - c.storedAtMillis() >= window.toMillis()) {
                continue;
            }
            boolean matches = true;
            for (Map.Entry<String, String> v : c.varyValues().entrySet()) {
                String value = requestField.apply(v.getKey());
                if (!v.getValue().equals(value == null ? "" : value)) {
                    matches = false;
                    break;
                }
            }
            if (matches) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** Copies kept now (for tests and the admin API). */
    public long size() {
        copies.cleanUp();
        return copies.asMap().values().stream().mapToLong(List::size).sum();
    }

    private static Map<String, String> varyValues(List<Map.Entry<String, String>> headers,
                                                  Function<String, String> requestField) {
        Map<String, String> values = new java.util.TreeMap<>();
        for (Map.Entry<String, String> h : headers) {
            if (!h.getKey().equalsIgnoreCase("vary")) {
                continue;
            }
            for (String name : h.getValue().split(",")) {
                String n = name.trim().toLowerCase(Locale.ROOT);
                if (!n.isEmpty()) {
                    String value = requestField.apply(n);
                    values.put(n, value == null ? "" : value);
                }
            }
        }
        return values;
    }

    /** Whether a {@code Cache-Control} value has {@code directive} (with or without an argument). */
    static boolean hasDirective(String cacheControl, String directive) {
        if (cacheControl == null) {
            return false;
        }
        for (String part : cacheControl.split(",")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            int eq = p.indexOf('=');
            if ((eq < 0 ? p : p.substring(0, eq).trim()).equals(directive)) {
                return true;
            }
        }
        return false;
    }
}
