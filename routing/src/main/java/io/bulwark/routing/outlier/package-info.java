/**
 * Passive outlier detection with Envoy's semantics: {@link io.bulwark.routing.outlier.OutlierDetector}
 * (one per cluster) receives every upstream's outcomes through a per-host monitor, ejects outliers by
 * setting their {@link io.bulwark.routing.outlier.OutlierState} flag, and readmits them by timer or
 * after a passing probe. Sits below the load balancer: balancers never see an ejected host.
 */
package io.bulwark.routing.outlier;
