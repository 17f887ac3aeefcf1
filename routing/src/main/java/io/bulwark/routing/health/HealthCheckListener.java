package io.bulwark.routing.health;

import io.bulwark.routing.Upstream;

import java.util.function.Consumer;

/**
 * Hears every check result, not only flips. Wire it to the cluster's outlier detector
 * ({@code detector.healthCheckListener()}), whose {@code readmit = probe} counts passing checks that
 * started after an ejection. Called on whatever thread delivered the result, after the result has
 * been noted on the upstream (its health flag and recovery timings); must not block.
 */
public interface HealthCheckListener {

    /** A check of {@code upstream} passed (called after any flip to healthy). */
    default void onCheckPassed(Upstream upstream) {
    }

    /**
     * A check of {@code upstream} passed, and it started at or after {@code startedAfterNanos} (on the
     * checker's {@link io.bulwark.routing.Clock#nanoTime()}): a bound, never later than the real start,
     * so a pass is never taken for one that started after an event it may have preceded. Calls
     * {@link #onCheckPassed(Upstream)} unless overridden.
     */
    default void onCheckPassed(Upstream upstream, long startedAfterNanos) {
        onCheckPassed(upstream);
    }

    /**
     * True while passing checks of {@code upstream} are counting toward something this listener
     * decides (a probe readmission with some but not all of its passes in): the scheduler then
     * checks it again after the {@code transition-interval} instead of the full interval.
     */
    default boolean confirming(Upstream upstream) {
        return false;
    }

    /** A check of {@code upstream} failed (called after any flip to unhealthy). */
    default void onCheckFailed(Upstream upstream) {
    }

    HealthCheckListener NONE = new HealthCheckListener() {
    };

    static HealthCheckListener of(Consumer<Upstream> passed, Consumer<Upstream> failed) {
        return new HealthCheckListener() {
            @Override
            public void onCheckPassed(Upstream upstream) {
                passed.accept(upstream);
            }

            @Override
            public void onCheckFailed(Upstream upstream) {
                failed.accept(upstream);
            }
        };
    }
}
