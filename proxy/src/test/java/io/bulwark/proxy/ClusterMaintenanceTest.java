package io.bulwark.proxy;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigLoader;
import io.bulwark.routing.Clock;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.Snapshot;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterMaintenanceTest {

    private static final String CONFIG = """
            bulwark {
              clusters { app {
                endpoints = [ "127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003" ]
                outlier-detection { max-ejection-percent = 50, latency { request-volume = 5 } }
              } }
              routes = [ { cluster = app } ]
            }
            """;

    /** Moves only when the test says so. */
    private static final class TestClock implements Clock {
        long nanos = 5_000_000_000L;

        @Override
        public long nanoTime() {
            return nanos;
        }

        @Override
        public long currentTimeMillis() {
            return 1_800_000_000_000L + nanos / 1_000_000;
        }
    }

    private static void answer(Upstream u, Duration latency, int times) {
        for (int i = 0; i < times; i++) {
            u.onRequestStart();
            u.onResponse(200, latency.toNanos());
            u.onRequestEnd();
        }
    }

    @Test
    void runsTheLatencyDetectorEverySecondWhenTheClusterHasOne() throws Exception {
        BulwarkConfig config = ConfigLoader.parse(CONFIG);
        TestClock clock = new TestClock();
        Snapshot snapshot = Snapshot.build(config, clock, Cluster.Resolver.SYSTEM, EventSink.NONE, null, null);
        ClusterMaintenance maintenance = new ClusterMaintenance(() -> snapshot, Cluster.Resolver.SYSTEM, clock);
        Cluster app = snapshot.clusters().get("app");
        maintenance.run(); // first sight of the cluster: its timers start now

        answer(app.upstreams().get(0), Duration.ofMillis(5), 10);
        answer(app.upstreams().get(1), Duration.ofMillis(5), 10);
        answer(app.upstreams().get(2), Duration.ofSeconds(2), 10);
        clock.nanos += Duration.ofMillis(900).toNanos();
        maintenance.run();
        assertThat(app.upstreams().get(2).outlier()).as("not a second yet").isEmpty();

        clock.nanos += Duration.ofMillis(100).toNanos();
        maintenance.run();

        assertThat(app.upstreams().get(2).outlier()).hasValueSatisfying(s -> assertThat(s.reason()).isEqualTo("latency"));
    }
}
