package io.bulwark.routing.outlier;

import java.time.Instant;

/**
 * An upstream's outlier ejection as the admin API shows it: the {@code "outlier"} object of an
 * upstream ({@code ejected_until}, {@code reason}, {@code times_ejected}, ...), which is null while
 * the upstream is not ejected.
 *
 * @param ejectedUntil when the ejection time runs out (wall clock): with {@code readmit = timer} the host
 *     comes back then; with {@code readmit = probe} passing health checks may readmit it sooner (unless
 *     {@code readmitGuarded}), and once it has passed it waits only for them
 * @param reason what ejected it: {@code consecutive_5xx}, {@code consecutive_gateway_failure},
 *     {@code success_rate}, {@code failure_percentage} or {@code latency}
 * @param timesEjected the backoff multiplier: ejection time is base-ejection-time times this, capped
 *     at max-ejection-time. It grows by one per ejection and decays by one per healthy interval
 * @param awaitingProbe true when the ejection time is over but {@code readmit = probe} still waits for
 *     its passing active health checks
 * @param readmitGuarded with {@code readmit = probe}: this ejection came within {@code readmit-guard} of a
 *     probe readmission, so probes may readmit it only once {@code ejectedUntil} has passed
 */
public record OutlierState(Instant ejectedUntil, String reason, int timesEjected, boolean awaitingProbe,
                           boolean readmitGuarded) {

    public OutlierState(Instant ejectedUntil, String reason, int timesEjected) {
        this(ejectedUntil, reason, timesEjected, false, false);
    }
}
