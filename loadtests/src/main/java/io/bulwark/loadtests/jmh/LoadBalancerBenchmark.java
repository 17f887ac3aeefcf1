package io.bulwark.loadtests.jmh;

import io.bulwark.config.HashKey;
import io.bulwark.routing.Clock;
import io.bulwark.routing.HostSet;
import io.bulwark.routing.RequestView;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.lb.EwmaLoadBalancer;
import io.bulwark.routing.lb.LeastRequestLoadBalancer;
import io.bulwark.routing.lb.LoadBalancer;
import io.bulwark.routing.lb.RandomLoadBalancer;
import io.bulwark.routing.lb.RingHashLoadBalancer;
import io.bulwark.routing.lb.RoundRobinLoadBalancer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One pick of each balancer over {@code hosts} upstreams (goal: at most 1 us at 1,000), with equal
 * weights and with three distinct weights, and with one avoided host (a retry).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LoadBalancerBenchmark {

    @Param({"1000"})
    int hosts;

    @Param({"round-robin", "random", "least-request", "ewma", "ring-hash"})
    String balancer;

    @Param({"equal", "weighted"})
    String weights;

    private HostSet set;
    private LoadBalancer lb;
    private Set<Upstream> avoid;
    private final RequestView request = World.get("/");

    @Setup
    public void setUp() {
        List<Upstream> all = new ArrayList<>();
        for (int i = 0; i < hosts; i++) {
            String host = "10.0." + (i / 250) + "." + (1 + i % 250);
            int weight = weights.equals("equal") ? 1 : 1 + i % 3;
            all.add(new Upstream("app", host + ":8080", InetSocketAddress.createUnresolved(host, 8080), weight,
                    Clock.SYSTEM, () -> { }));
        }
        set = HostSet.of(all, 50);
        avoid = Set.of(all.get(hosts / 2));
        lb = switch (balancer) {
            case "round-robin" -> new RoundRobinLoadBalancer(0);
            case "random" -> new RandomLoadBalancer();
            case "least-request" -> new LeastRequestLoadBalancer();
            case "ewma" -> new EwmaLoadBalancer();
            default -> new RingHashLoadBalancer(new HashKey(HashKey.Source.CLIENT_IP, ""));
        };
    }

    @Benchmark
    public Upstream pick() {
        return lb.choose(set, request, Set.of());
    }

    @Benchmark
    public Upstream pickAvoidingOne() {
        return lb.choose(set, request, avoid);
    }
}
