package io.bulwark.routing;

import java.util.Arrays;
import java.util.List;

/**
 * An immutable snapshot of a cluster's upstreams as a load balancer sees them. Rebuilt by
 * {@link Cluster} whenever an upstream's eligibility changes; balancers only read it.
 *
 * @param all every upstream of the cluster, in a stable order
 * @param usable the upstreams to balance over: the eligible ones, or in panic every upstream that is not
 *     drained or draining (outlier-ejected and unhealthy ones included, as in Envoy)
 * @param panic true when fewer than the panic threshold of the upstreams an operator has not drained are
 *     eligible (an outlier-ejected upstream is not eligible; a drained one is not counted at all)
 */
public record HostSet(List<Upstream> all, List<Upstream> usable, boolean panic) {

    public static final HostSet EMPTY = new HostSet(List.of(), List.of(), false);

    public HostSet {
        all = List.copyOf(all);
        usable = List.copyOf(usable);
    }

    /**
     * Builds the snapshot: eligible upstreams, unless their share of the upstreams that are not
     * drained is below {@code panicThreshold} percent, in which case every non-draining upstream is
     * usable (Envoy's panic mode). Drained upstreams are left out of the share: a drain is an
     * operator's intent, not a failure, and must not tip the cluster into panic.
     */
    public static HostSet of(List<Upstream> all, double panicThreshold) {
        // One pass, and each list copied once: the cluster rebuilds this on every flip of any upstream.
        int n = all.size();
        Upstream[] eligible = new Upstream[n];
        Upstream[] notDrained = new Upstream[n];
        int e = 0;
        int a = 0;
        for (int i = 0; i < n; i++) {
            Upstream u = all.get(i);
            if (u.eligible()) {
                eligible[e++] = u;
            }
            if (u.admin() == Upstream.AdminState.ACTIVE) {
                notDrained[a++] = u;
            }
        }
        boolean panic = a > 0 && panicThreshold > 0 && e * 100.0 / a < panicThreshold;
        List<Upstream> usable = panic ? List.of(Arrays.copyOf(notDrained, a)) : List.of(Arrays.copyOf(eligible, e));
        return new HostSet(all, usable, panic);
    }
}
