package io.bulwark.loadtests.jmh;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.routing.RequestView;
import io.bulwark.routing.RouteTable;
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

import java.util.concurrent.TimeUnit;

/**
 * Finding the route of a request among {@code routes} prefix routes: the first and the last route,
 * over 1,024 distinct paths (no per-path cache could answer). The cost must not grow with the table.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RouteMatchBenchmark {

    @Param({"1", "5000"})
    int routes;

    private RouteTable table;
    private RequestView[] first;
    private RequestView[] last;
    private int i;

    @Setup
    public void setUp() {
        BulwarkConfig config = World.config(routes, 1, "round-robin");
        table = RouteTable.compile(config.routes(), World.clusters(config));
        first = new RequestView[1024];
        last = new RequestView[1024];
        for (int k = 0; k < first.length; k++) {
            first[k] = World.get("/svc-00000/items/" + k + "/detail");
            last[k] = World.get(String.format("/svc-%05d/items/%d/detail", routes - 1, k));
        }
    }

    @Benchmark
    public Object firstRoute() {
        return table.match(first[i++ & 1023]);
    }

    @Benchmark
    public Object lastRoute() {
        return table.match(last[i++ & 1023]);
    }
}
