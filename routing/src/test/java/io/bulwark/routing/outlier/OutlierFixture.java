package io.bulwark.routing.outlier;

import io.bulwark.routing.FailureKind;
import io.bulwark.config.ClusterConfig;
import io.bulwark.config.HealthCheckConfig;
import io.bulwark.config.OutlierDetectionConfig;
import io.bulwark.config.OutlierDetectionConfig.FailurePercentageConfig;
import io.bulwark.config.OutlierDetectionConfig.SuccessRateConfig;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.ManualClock;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.TestConfigs;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.health.ManualScheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A cluster of IP-literal upstreams 10.0.0.1:80, 10.0.0.2:80, ... with the contract's outlier
 * defaults, any of which a test overrides before {@link #build()}; a {@link ManualClock} and an
 * event sink that records. Panic is off unless a test sets a threshold.
 */
final class OutlierFixture {

    final ManualClock clock = new ManualClock();
    final List<StateEvent> events = new CopyOnWriteArrayList<>();

    int hosts = 3;
    int weight = 1;
    int consecutive5xx = 5;
    int consecutiveGatewayFailure = 5;
    SuccessRateConfig successRate = new SuccessRateConfig(5, 100, 1.9);
    FailurePercentageConfig failurePercentage = new FailurePercentageConfig(85, 5, 50);
    Duration interval = Duration.ofSeconds(10);
    Duration baseEjectionTime = Duration.ofSeconds(30);
    Duration maxEjectionTime = Duration.ofSeconds(300);
    double maxEjectionPercent = 10;
    OutlierDetectionConfig.Readmit readmit = OutlierDetectionConfig.Readmit.TIMER;
    Duration readmitGuard = OutlierDetectionConfig.DEFAULT_READMIT_GUARD;
    /** The latency detector; null = off. */
    OutlierDetectionConfig.LatencyConfig latency;
    /** The cluster's health-check block (its healthy-threshold is probe readmission's); null = none. */
    HealthCheckConfig healthCheck;
    Duration slowStart = Duration.ZERO;
    double panicThreshold = 0;

    /** When set (before {@link #build()}), ejections end by this scheduler's timers at their deadline. */
    ManualScheduler timers;

    Cluster cluster;

    Cluster build() {
        List<String> endpoints = new ArrayList<>();
        for (int i = 1; i <= hosts; i++) {
            endpoints.add("10.0.0." + i + ":80@" + weight);
        }
        ClusterConfig base = TestConfigs.cluster("svc", endpoints.toArray(String[]::new));
        OutlierDetectionConfig outlier = new OutlierDetectionConfig(consecutive5xx, consecutiveGatewayFailure,
                successRate, failurePercentage, interval, baseEjectionTime, maxEjectionTime, maxEjectionPercent, readmit,
                readmitGuard, Optional.ofNullable(latency));
        ClusterConfig config = new ClusterConfig(base.name(), base.endpoints(), base.dnsRefresh(), base.tls(),
                base.loadBalancer(), base.hashKey(), base.connectTimeout(), base.pool(), base.limits(),
                Optional.ofNullable(healthCheck), outlier, panicThreshold, slowStart, base.circuitBreaker());
        cluster = new Cluster(config, clock, events::add, timers);
        cluster.resolve(Cluster.Resolver.SYSTEM);
        return cluster;
    }

    /** The i-th upstream, from 1. */
    Upstream host(int i) {
        return cluster.upstreams().get(i - 1);
    }

    OutlierDetector detector() {
        return cluster.outlierDetector();
    }

    /** A passing health check of {@code u} that started {@code ago} before now. */
    void checkPassed(Upstream u, Duration ago) {
        detector().onHealthCheckPassed(u, clock.nanoTime() - ago.toNanos());
    }

    void checkFailed(Upstream u) {
        detector().onHealthCheckFailed(u);
    }

    static void respond(Upstream u, int status, int times) {
        for (int i = 0; i < times; i++) {
            u.onRequestStart();
            u.onResponse(status, 1_000_000);
            u.onRequestEnd();
        }
    }

    /** {@code times} tries answered 200 after {@code latency}. */
    static void answer(Upstream u, Duration latency, int times) {
        for (int i = 0; i < times; i++) {
            u.onRequestStart();
            u.onResponse(200, latency.toNanos());
            u.onRequestEnd();
        }
    }

    static void fail(Upstream u, FailureKind kind) {
        u.onRequestStart();
        u.onLocalFailure(kind, 1_000_000);
        u.onRequestEnd();
    }

    /** {@code failures} 5xx spread evenly among {@code requests} (never two in a row unless more than half fail). */
    static void mixed(Upstream u, int requests, int failures) {
        int sent = 0;
        for (int i = 0; i < requests; i++) {
            boolean fail = (long) (i + 1) * failures / requests > sent;
            if (fail) {
                sent++;
            }
            respond(u, fail ? 500 : 200, 1);
        }
    }

    List<StateEvent> events(String type) {
        return events.stream().filter(e -> e.type().equals(type)).toList();
    }

    /** Milliseconds from now until {@code u}'s ejection runs out. */
    long ejectionLeftMillis(Upstream u) {
        return u.outlier().orElseThrow().ejectedUntil().toEpochMilli() - clock.currentTimeMillis();
    }
}
