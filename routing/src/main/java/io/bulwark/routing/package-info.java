/**
 * Routing at run time: {@link io.bulwark.routing.RouteTable} picks the route for a request, a
 * {@link io.bulwark.routing.Cluster} holds its {@link io.bulwark.routing.Upstream}s and publishes
 * {@link io.bulwark.routing.HostSet} snapshots, which the balancers in {@code routing.lb} choose from.
 */
package io.bulwark.routing;
