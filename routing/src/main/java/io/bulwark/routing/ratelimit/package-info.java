/**
 * Per-route rate limiting, the first per-route layer after route matching: a lock-free
 * {@link io.bulwark.routing.ratelimit.TokenBucket} per key, kept by a
 * {@link io.bulwark.routing.ratelimit.RouteRateLimiter} (one per route) in a bounded Caffeine
 * cache for per-client keys. A refusal becomes a 429 {@code rate_limited} with {@code Retry-After}
 * and the IETF draft {@code RateLimit}/{@code RateLimit-Policy} headers.
 */
package io.bulwark.routing.ratelimit;
