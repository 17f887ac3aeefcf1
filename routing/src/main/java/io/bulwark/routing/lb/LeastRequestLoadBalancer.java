package io.bulwark.routing.lb;

import io.bulwark.routing.HostSet;
import io.bulwark.routing.RequestView;
import io.bulwark.routing.Upstream;

import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Least request by the power of two choices, as Envoy's {@code LEAST_REQUEST} with
 * {@code choice_count = 2}: sample two distinct candidates at random and send to the one with
 * fewer {@link Upstream#activeRequests() active requests}. Sampling (rather than scanning for the
 * global minimum) keeps the cost constant and stops every event loop stampeding onto the same
 * momentarily idle host.
 *
 * <p>When the two weights differ the comparison is weighted, {@code (active + 1) / weight}, the
 * cost Envoy uses with an active-request bias of 1: a host of weight 2 takes about twice the
 * concurrency of a host of weight 1. Ties go to the first sample.
 */
public final class LeastRequestLoadBalancer implements LoadBalancer {

    private final RandomGenerator random;
    private final Candidates candidates = new Candidates();

    public LeastRequestLoadBalancer() {
        this(ThreadLocalRandomGenerator.INSTANCE);
    }

    /** @param random the sampling source; tests pass a scripted one */
    public LeastRequestLoadBalancer(RandomGenerator random) {
        this.random = random;
    }

    @Override
    public Upstream choose(HostSet hostSet, RequestView request, Set<Upstream> avoid) {
        return candidates.select(hostSet.usable(), avoid)
                .powerOfTwoChoices(random, LeastRequestLoadBalancer::lessLoaded);
    }

    static Upstream lessLoaded(Upstream a, Upstream b) {
        double wa = Candidates.weight(a);
        double wb = Candidates.weight(b);
        if (wa == wb) {
            return b.activeRequests() < a.activeRequests() ? b : a;
        }
        double costA = wa > 0 ? (a.activeRequests() + 1) / wa : Double.POSITIVE_INFINITY;
        double costB = wb > 0 ? (b.activeRequests() + 1) / wb : Double.POSITIVE_INFINITY;
        return costB < costA ? b : a;
    }
}
