package io.bulwark.routing.outlier;

import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.FailureKind;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.bulwark.routing.outlier.OutlierFixture.fail;
import static io.bulwark.routing.outlier.OutlierFixture.respond;
import static org.assertj.core.api.Assertions.assertThat;

class ConsecutiveFailureTest {

    private final OutlierFixture f = new OutlierFixture();

    @Test
    void ejectsAtExactlyNConsecutive5xxAndNotBefore() {
        f.build();
        Upstream u = f.host(1);

        respond(u, 500, 4);
        assertThat(u.outlier()).isEmpty();
        assertThat(u.eligible()).isTrue();

        respond(u, 500, 1);
        assertThat(u.outlier()).hasValueSatisfying(s -> {
            assertThat(s.reason()).isEqualTo(OutlierDetector.CONSECUTIVE_5XX);
            assertThat(s.timesEjected()).isEqualTo(1);
        });
        assertThat(u.eligible()).isFalse();
        assertThat(u.reasons()).containsExactly("outlier_ejected");
        assertThat(f.cluster.hostSet().usable()).doesNotContain(u).hasSize(2);
    }

    @Test
    void aNon5xxResponseResetsTheConsecutive5xxCount() {
        f.build();
        Upstream u = f.host(1);

        respond(u, 500, 4);
        respond(u, 404, 1);
        respond(u, 500, 4);
        assertThat(u.outlier()).isEmpty();

        respond(u, 500, 1);
        assertThat(u.outlier()).isPresent();
    }

    @Test
    void localFailuresCountAsConsecutive5xx() {
        f.consecutiveGatewayFailure = 1000;
        f.build();
        Upstream u = f.host(1);

        respond(u, 500, 2);
        fail(u, FailureKind.CONNECT_FAILURE);
        u.onLocalFailure(1_000_000); // the kind-less variant counts too (as a reset)
        assertThat(u.outlier()).isEmpty();
        respond(u, 500, 1);

        assertThat(u.outlier().orElseThrow().reason()).isEqualTo(OutlierDetector.CONSECUTIVE_5XX);
    }

    @Test
    void gatewayFailuresAreConnectFailuresResetsTimeoutsAnd502To504() {
        f.consecutive5xx = 1000;
        f.build();
        Upstream u = f.host(1);

        fail(u, FailureKind.CONNECT_FAILURE);
        fail(u, FailureKind.RESET);
        fail(u, FailureKind.TIMEOUT);
        respond(u, 502, 1);
        assertThat(u.outlier()).isEmpty();
        respond(u, 503, 1);
        assertThat(u.outlier().orElseThrow().reason()).isEqualTo(OutlierDetector.CONSECUTIVE_GATEWAY_FAILURE);
    }

    @Test
    void a500BreaksARunOfGatewayFailures() {
        f.consecutive5xx = 1000;
        f.build();
        Upstream u = f.host(1);

        respond(u, 503, 4);
        respond(u, 500, 1);
        respond(u, 502, 4);
        assertThat(u.outlier()).isEmpty();

        fail(u, FailureKind.TIMEOUT);
        assertThat(u.outlier()).isPresent();
    }

    @Test
    void manyThreadsReporting5xxCauseExactlyOneEjection() throws Exception {
        f.build();
        Upstream u = f.host(1);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 2_000; i++) {
                        u.onResponse(i % 2 == 0 ? 500 : 503, 1_000);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> d : done) {
                d.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(f.events("ejected")).hasSize(1);
        assertThat(u.outlier()).isPresent();
        assertThat(f.detector().timesEjected(u)).isEqualTo(1);
    }

    @Test
    void concurrentEjectionsOfManyHostsNeverExceedMaxEjectionPercent() throws Exception {
        f.hosts = 10;
        f.maxEjectionPercent = 50;
        f.build();
        ExecutorService pool = Executors.newFixedThreadPool(10);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (Upstream u : f.cluster.upstreams()) {
                done.add(pool.submit(() -> {
                    start.await();
                    respond(u, 500, 100);
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> d : done) {
                d.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        // 5 of 10 = 50%, not below 50: the sixth is refused
        assertThat(f.cluster.upstreams().stream().filter(u -> u.outlier().isPresent())).hasSize(5);
        assertThat(f.events("ejected")).hasSize(5).extracting(StateEvent::upstream).doesNotHaveDuplicates();
        assertThat(f.detector().ejectionsSkipped()).isPositive();
    }

    @Test
    void ejectionEventCarriesReasonAndThresholds() {
        f.build();
        Upstream u = f.host(2);

        respond(u, 500, 5);

        assertThat(f.events).singleElement().satisfies(e -> {
            assertThat(e.type()).isEqualTo("ejected");
            assertThat(e.timeMillis()).isEqualTo(f.clock.currentTimeMillis());
            assertThat(e.cluster()).isEqualTo("svc");
            assertThat(e.upstream()).isEqualTo("10.0.0.2:80");
            assertThat(e.from()).isEqualTo("eligible");
            assertThat(e.to()).isEqualTo("ejected");
            assertThat(e.reason()).isEqualTo("consecutive_5xx");
            assertThat(e.detail())
                    .containsEntry("consecutive_5xx", 5)
                    .containsEntry("ejection_time_ms", 30_000L)
                    .containsEntry("times_ejected", 1)
                    .containsEntry("max_ejection_percent", 10.0)
                    .containsEntry("readmit", "timer");
        });
    }
}
