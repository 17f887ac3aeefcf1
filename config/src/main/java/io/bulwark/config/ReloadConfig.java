package io.bulwark.config;

import java.time.Duration;

/**
 * {@code bulwark.reload}: how a reloaded config is watched and, when {@code auto-rollback} is on,
 * rolled back by itself if a route it changed gets worse.
 *
 * @param autoRollback the switch; off by default
 * @param bakeTime how long after a reload the changed routes are watched, and how far back their
 *                 figures before the reload are taken
 * @param maxErrorRateIncrease percentage points of 5xx above the route's rate before the reload
 * @param maxP90Increase factor over the route's p90 before the reload
 * @param minRequests requests a route needs within the bake time before its error rate is judged
 */
public record ReloadConfig(boolean autoRollback, Duration bakeTime, double maxErrorRateIncrease,
                           double maxP90Increase, int minRequests) {

    /** Requests a route needs, before and after the reload, before its p90 is judged (fixed by the contract). */
    public static final int LATENCY_MIN_REQUESTS = 200;
}
