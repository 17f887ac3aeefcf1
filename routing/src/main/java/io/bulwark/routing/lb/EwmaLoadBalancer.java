package io.bulwark.routing.lb;

import io.bulwark.routing.HostSet;
import io.bulwark.routing.RequestView;
import io.bulwark.routing.Upstream;

import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Peak-EWMA with the power of two choices, as linkerd2-proxy balances: sample two distinct
 * candidates and send to the cheaper, where
 *
 * <pre>cost = rtt * (activeRequests + 1) / weight</pre>
 *
 * and {@code rtt} is the upstream's peak-EWMA latency ({@link Upstream#decayedEwmaLatencyNanos()}:
 * it jumps up at once on a slow response, comes down gradually, and decays toward zero while the
 * upstream gets no responses, so a host that was slow once is tried again later).
 *
 * <p>An upstream with no observations yet is costed at a default RTT, {@value #DEFAULT_RTT_NANOS} ns
 * (1 ms) unless another is given. linkerd2-proxy uses 30 ms; Bulwark runs as a sidecar in front of
 * upstreams that usually answer within a few milliseconds, where a 30 ms guess would keep a new
 * host out of rotation under light load and so never measure it. With 1 ms a new host is tried
 * promptly and its real latency takes over after its first response.
 */
public final class EwmaLoadBalancer implements LoadBalancer {

    /** Cost basis of an upstream with no latency observations: 1 ms. */
    public static final long DEFAULT_RTT_NANOS = 1_000_000L;

    private final RandomGenerator random;
    private final double defaultRttNanos;
    private final Candidates candidates = new Candidates();

    public EwmaLoadBalancer() {
        this(ThreadLocalRandomGenerator.INSTANCE, DEFAULT_RTT_NANOS);
    }

    /**
     * @param random the sampling source; tests pass a seeded or scripted one
     * @param defaultRttNanos the RTT assumed for an upstream with no observations
     */
    /** The cheaper of two upstreams by {@link #cost}; a field so that choosing allocates nothing. */
    private final java.util.function.BinaryOperator<Upstream> cheaper = (a, b) -> cost(b) < cost(a) ? b : a;

    public EwmaLoadBalancer(RandomGenerator random, long defaultRttNanos) {
        this.random = random;
        this.defaultRttNanos = defaultRttNanos;
    }

    @Override
    public Upstream choose(HostSet hostSet, RequestView request, Set<Upstream> avoid) {
        return candidates.select(hostSet.usable(), avoid).powerOfTwoChoices(random, cheaper);
    }

    /** The load estimate P2C compares; lower is better. */
    double cost(Upstream u) {
        double weight = Candidates.weight(u);
        if (weight <= 0) {
            return Double.POSITIVE_INFINITY;
        }
        double rtt = u.decayedEwmaLatencyNanos();
        if (rtt <= 0) {
            rtt = defaultRttNanos;
        }
        return rtt * (u.activeRequests() + 1) / weight;
    }
}
