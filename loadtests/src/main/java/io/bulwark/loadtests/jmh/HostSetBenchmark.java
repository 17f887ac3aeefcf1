package io.bulwark.loadtests.jmh;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.lb.LoadBalancer;
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

import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What an ejection or health flip costs in a cluster of {@code upstreams}: the upstream's flag
 * changes, the cluster rebuilds its host set, and the next pick of the round robin takes the new
 * set on. Must stay O(n) at most.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HostSetBenchmark {

    @Param({"1000"})
    int upstreams;

    private Cluster cluster;
    private Upstream flipping;
    private LoadBalancer lb;
    private boolean out;

    @Setup
    public void setUp() {
        BulwarkConfig config = World.config(1, upstreams, "round-robin");
        cluster = World.clusters(config).get("app");
        flipping = cluster.upstreams().get(upstreams / 2);
        lb = cluster.loadBalancer();
    }

    @Benchmark
    public Object flipAndPick() {
        out = !out;
        flipping.setHealth(out ? Upstream.Health.UNHEALTHY : Upstream.Health.HEALTHY);
        return lb.choose(cluster.hostSet(), World.get("/"), Set.of());
    }
}
