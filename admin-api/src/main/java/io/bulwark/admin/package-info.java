/**
 * The admin API (its endpoints are listed in the README, "Admin API"): a small Netty HTTP server
 * on its own event loop serving liveness, readiness, Prometheus metrics, the operator's
 * {@code /api/v1} calls and the operator console at {@code /} (static files in
 * {@code resources/io/bulwark/admin/console}, which poll {@code /api/v1/summary}).
 */
package io.bulwark.admin;
