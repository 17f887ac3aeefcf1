/**
 * The admin API (its endpoints are listed in the README, "Admin API"): a small Netty HTTP server
 * on its own event loop serving liveness, readiness, Prometheus metrics and the operator's
 * {@code /api/v1} calls.
 */
package io.bulwark.admin;
