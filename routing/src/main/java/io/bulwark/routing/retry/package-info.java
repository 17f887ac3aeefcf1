/**
 * Retry decisions for a route, the per-route layer above load balancing (so a retry can land on
 * another host): {@link io.bulwark.routing.retry.RetryPolicy} says whether a failed try may be
 * retried and why, {@link io.bulwark.routing.retry.RetryBudget} caps retries in flight relative to
 * requests in flight (linkerd-style), and {@link io.bulwark.routing.retry.Backoff} picks the delay
 * (exponential with full jitter, or the upstream's {@code Retry-After}). Pure logic on an injected
 * clock and random source; the proxy does the I/O.
 */
package io.bulwark.routing.retry;
