/**
 * Passive outlier detection with Envoy's semantics: {@link io.bulwark.routing.outlier.OutlierDetector}
 * (one per cluster) receives every upstream's outcomes through a per-host monitor, ejects outliers by
 * setting their {@link io.bulwark.routing.outlier.OutlierState} flag (failures, success rate, failure
 * percentage, and p90 latency over a sliding window), and readmits them by timer or as soon as active
 * checks pass, with an anti-flap guard. Sits below the load balancer: balancers never see an ejected host.
 */
package io.bulwark.routing.outlier;
