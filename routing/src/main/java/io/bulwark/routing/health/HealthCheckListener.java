package io.bulwark.routing.health;

import io.bulwark.routing.Upstream;

import java.util.function.Consumer;

/**
 * Hears every check result, not only flips. Wire it to the cluster's outlier detector, whose
 * {@code readmit = probe} waits for a passing check and whose recovery timings start at a failing
 * one: {@code HealthCheckListener.of(detector::onHealthCheckPassed, detector::onHealthCheckFailed)}.
 * Called on whatever thread delivered the result; must not block.
 */
public interface HealthCheckListener {

    /** A check of {@code upstream} passed (called after any flip to healthy). */
    default void onCheckPassed(Upstream upstream) {
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
