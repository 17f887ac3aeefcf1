/**
 * The per-cluster circuit breaker, checked right after a route picks its cluster and before the
 * bulkhead and the load balancer: {@link io.bulwark.routing.circuit.ClusterCircuitBreaker} wraps a
 * Resilience4j {@code CircuitBreaker} for non-blocking use on event loops (try for a permission,
 * report the outcome later), on the injected clock, with no threads of its own. Open means 503
 * {@code circuit_open} at once.
 */
package io.bulwark.routing.circuit;
