package io.bulwark.routing.outlier;

import java.time.Instant;

/**
 * An upstream's outlier ejection as the admin API shows it: the {@code "outlier"} object of an
 * upstream ({@code ejected_until}, {@code reason}, {@code times_ejected}, ...), which is null while
 * the upstream is not ejected.
 *
 * @param ejectedUntil when the ejection time runs out (wall clock); readmission happens at the first
 *     detector tick after it, or with {@code readmit = probe} at the first passing health check after it
 * @param reason what ejected it: {@code consecutive_5xx}, {@code consecutive_gateway_failure},
 *     {@code success_rate} or {@code failure_percentage}
 * @param timesEjected the backoff multiplier: ejection time is base-ejection-time times this, capped
 *     at max-ejection-time. It grows by one per ejection and decays by one per healthy interval
 * @param awaitingProbe true when the ejection time is over but {@code readmit = probe} still waits for
 *     a passing active health check
 */
public record OutlierState(Instant ejectedUntil, String reason, int timesEjected, boolean awaitingProbe) {

    public OutlierState(Instant ejectedUntil, String reason, int timesEjected) {
        this(ejectedUntil, reason, timesEjected, false);
    }
}
