/**
 * Bulkheads: {@link io.bulwark.routing.limits.ClusterLimits} caps a cluster's requests, pending
 * requests and retries in flight with lock-free counters (over a limit the proxy answers 503
 * {@code overloaded} at once, it never queues), handing out idempotent
 * {@link io.bulwark.routing.limits.Permit}s that the retry budget uses too.
 */
package io.bulwark.routing.limits;
