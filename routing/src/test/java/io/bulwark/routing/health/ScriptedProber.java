package io.bulwark.routing.health;

import io.bulwark.routing.ManualClock;
import io.bulwark.routing.Upstream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A {@link Prober} for tests: answers at once with the result set for the upstream, or, with
 * none set, holds the check open until the test completes it.
 */
final class ScriptedProber implements Prober {

    /** One check as the prober saw it. */
    record Probe(Upstream upstream, String path, Duration timeout, long atNanos, Consumer<ProbeResult> done) {
    }

    private final ManualClock clock;
    private final Map<Upstream, ProbeResult> answers = new HashMap<>();
    final List<Probe> probes = new ArrayList<>();
    final List<Probe> open = new ArrayList<>();
    RuntimeException failWith;

    ScriptedProber(ManualClock clock) {
        this.clock = clock;
    }

    /** Answer every check of {@code upstream} at once with {@code result}; null holds them open. */
    void answer(Upstream upstream, ProbeResult result) {
        if (result == null) {
            answers.remove(upstream);
        } else {
            answers.put(upstream, result);
        }
    }

    @Override
    public void probe(Upstream upstream, String path, Duration timeout, Consumer<ProbeResult> done) {
        if (failWith != null) {
            throw failWith;
        }
        Probe probe = new Probe(upstream, path, timeout, clock.nanoTime(), done);
        probes.add(probe);
        ProbeResult answer = answers.get(upstream);
        if (answer != null) {
            done.accept(answer);
        } else {
            open.add(probe);
        }
    }

    /** Probe times of {@code upstream}, in seconds since {@code startNanos}. */
    List<Double> times(Upstream upstream, long startNanos) {
        return probes.stream().filter(p -> p.upstream() == upstream)
                .map(p -> (p.atNanos() - startNanos) / 1e9).toList();
    }
}
