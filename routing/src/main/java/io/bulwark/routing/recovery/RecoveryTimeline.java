package io.bulwark.routing.recovery;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One upstream's recovery timings as {@code GET /api/v1/recovery} shows them: when it last failed,
 * the episode in progress (if it is out or ramping back up) and the last
 * {@value RecoveryTracker#HISTORY_LIMIT} finished episodes, newest first. The top-level
 * {@code time_*} figures are those of {@link #latest()}.
 *
 * @param lastFailure the last failure the data plane (or a failed health check) reported
 * @param current the episode not yet over: taken out, or back but still ramping up under slow start
 * @param history finished episodes, newest first
 */
public record RecoveryTimeline(Optional<Instant> lastFailure, Optional<Episode> current, List<Episode> history) {

    public RecoveryTimeline {
        history = List.copyOf(history);
    }

    /**
     * One failure episode: from the first failure after the host last served at full weight, through
     * being taken out (ejected or health-checked unhealthy), to serving at full weight again.
     *
     * @param firstFailure the first failure of the episode (the moment of taking out if none was reported)
     * @param takenOut when it stopped getting traffic
     * @param firstPassingCheck the first passing active health check while it was out, counted from being
     *     taken out or from the last failed check after that; empty without one (no health checks, or none passed)
     * @param back when it became eligible again (the last time, if it was taken out again while ramping)
     * @param fullWeight when it served at full weight again: {@code back} plus any slow-start ramp
     * @param reason why it was first taken out ({@code consecutive_5xx}, {@code health_check_failed}, ...)
     * @param timeToDetectMs first failure -> taken out
     * @param timeOutMs taken out -> back; empty while out
     * @param timeToRecoverMs taken out -> serving at full weight; empty until then
     * @param timeToReadmitMs first passing check -> back: how long readmission took once the checks saw
     *     the host healthy; empty until back, and without a passing check
     * @param timeToFullShareMs back -> serving at full weight (the slow-start ramp; 0 without one); empty
     *     until then. With {@code timeToReadmitMs} it adds up to first passing check -> full share
     */
    public record Episode(Instant firstFailure, Instant takenOut, Optional<Instant> firstPassingCheck,
                          Optional<Instant> back, Optional<Instant> fullWeight, String reason, long timeToDetectMs,
                          OptionalLong timeOutMs, OptionalLong timeToRecoverMs, OptionalLong timeToReadmitMs,
                          OptionalLong timeToFullShareMs) {
    }

    /** The current episode, or else the newest finished one. */
    public Optional<Episode> latest() {
        return current.isPresent() ? current : history.stream().findFirst();
    }

    public OptionalLong timeToDetectMs() {
        return latest().map(e -> OptionalLong.of(e.timeToDetectMs())).orElse(OptionalLong.empty());
    }

    public OptionalLong timeOutMs() {
        return latest().map(Episode::timeOutMs).orElse(OptionalLong.empty());
    }

    public OptionalLong timeToRecoverMs() {
        return latest().map(Episode::timeToRecoverMs).orElse(OptionalLong.empty());
    }

    public OptionalLong timeToReadmitMs() {
        return latest().map(Episode::timeToReadmitMs).orElse(OptionalLong.empty());
    }

    public OptionalLong timeToFullShareMs() {
        return latest().map(Episode::timeToFullShareMs).orElse(OptionalLong.empty());
    }
}
