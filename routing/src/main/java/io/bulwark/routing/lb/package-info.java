/**
 * Load balancers: each picks the upstream for one try from a cluster's {@link io.bulwark.routing.HostSet}
 * snapshot, honouring the hosts a retry wants to avoid. One instance per event loop, so they keep
 * mutable state without locks; {@link io.bulwark.routing.lb.LoadBalancers} makes the one a cluster names.
 */
package io.bulwark.routing.lb;
