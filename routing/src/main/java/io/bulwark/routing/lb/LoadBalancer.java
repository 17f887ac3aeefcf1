package io.bulwark.routing.lb;

import io.bulwark.routing.HostSet;
import io.bulwark.routing.RequestView;
import io.bulwark.routing.Upstream;

import java.util.Set;

/**
 * Picks the upstream for one try. An instance belongs to one event loop (as Envoy's
 * balancers belong to one worker), so implementations keep mutable state without locks;
 * what they read from {@link Upstream} is atomic.
 */
public interface LoadBalancer {

    /**
     * @param hosts the cluster's current snapshot; only {@link HostSet#usable()} may be chosen
     * @param request the request being routed (hash keys are read from it)
     * @param avoid upstreams already tried for this request; chosen only when nothing else is usable
     * @return the chosen upstream, or null when {@code hosts.usable()} is empty
     */
    Upstream choose(HostSet hosts, RequestView request, Set<Upstream> avoid);
}
