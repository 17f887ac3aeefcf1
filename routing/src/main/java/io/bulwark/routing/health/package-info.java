/**
 * Active health checking, minus the I/O: {@link io.bulwark.routing.health.HealthCheckScheduler}
 * (one per cluster with a {@code health-check} block) runs a check of every upstream every
 * interval (with jitter) through a {@link io.bulwark.routing.health.Prober} the proxy implements
 * with Netty, on a {@link io.bulwark.routing.health.DelayScheduler} it supplies; each upstream's
 * {@link io.bulwark.routing.health.HealthCheckState} turns results into the upstream's health flag
 * by consecutive-success and consecutive-failure thresholds.
 */
package io.bulwark.routing.health;
