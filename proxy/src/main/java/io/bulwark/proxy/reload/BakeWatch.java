package io.bulwark.proxy.reload;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigDiff;
import io.bulwark.config.ReloadConfig;
import io.bulwark.config.RouteConfig;
import io.bulwark.routing.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Automatic rollback ({@code bulwark.reload.auto-rollback}): for {@code bake-time} after a reload,
 * each route the reload changed or added is compared with how it did over the {@code bake-time}
 * before; when one is worse beyond the thresholds, the reload is rolled back at once.
 * <ul>
 *   <li>error rate (every 5xx the client got, the upstream's or Bulwark's own): judged once the route
 *   has {@code min-requests} since the reload; worse when it is more than
 *   {@code max-error-rate-increase} percentage points above the baseline. The baseline is the route's
 *   rate before the reload when it had {@code min-requests} then, else that of the clusters it
 *   used (a new route: the clusters it uses now) before the reload, else 0%.</li>
 *   <li>p90: judged with at least {@value ReloadConfig#LATENCY_MIN_REQUESTS} requests both before and
 *   since the reload; worse when above {@code max-p90-increase} times the p90 before (a p90 under
 *   {@link #P90_FLOOR} counts as that, so sub-millisecond jitter never rolls back).</li>
 * </ul>
 * Nothing here sleeps: {@link #check()} runs every 100ms on the background thread and reads the
 * injected clock, so tests drive it by hand.
 */
public final class BakeWatch {

    private static final Logger LOG = LoggerFactory.getLogger(BakeWatch.class);
    static final Duration P90_FLOOR = Duration.ofMillis(5);

    /** Performs the rollback; answers false when it did not happen (a newer config is running). */
    @FunctionalInterface
    public interface Rollback {
        boolean rollBack(int watchedVersion, int toVersion, String reason, Map<String, Object> detail);
    }

    /** Why a watched route is judged worse: the {@code reason} tag and the figures for the event. */
    record Verdict(String route, String reason, Map<String, Object> detail) {
    }

    private final Clock clock;
    private final RouteOutcomes outcomes;
    private final Rollback rollback;
    private Watch watch;

    public BakeWatch(Clock clock, RouteOutcomes outcomes, Rollback rollback) {
        this.clock = clock;
        this.outcomes = outcomes;
        this.rollback = rollback;
    }

    private record Baseline(Outcomes.Figures errors, String errorsFrom, Outcomes.Figures latency) {
    }

    private record Watch(int fromVersion, int toVersion, long startNanos, ReloadConfig settings,
                         Map<String, Baseline> baselines, Map<String, Outcomes> since) {
    }

    /**
     * A reload from version {@code fromVersion} ({@code before}) to {@code toVersion} ({@code after})
     * took effect: starts watching the routes it changed or added (when {@code auto-rollback} is on).
     */
    public synchronized void reloaded(int fromVersion, BulwarkConfig before, int toVersion, BulwarkConfig after,
                                      ConfigDiff diff) {
        ReloadConfig settings = after.reload();
        stop();
        Set<String> names = new LinkedHashSet<>(diff.routesChanged().keySet());
        names.addAll(diff.routesAdded());
        if (!settings.autoRollback() || names.isEmpty()) {
            outcomes.bakeTime(settings.bakeTime());
            return;
        }
        Duration window = settings.bakeTime();
        Map<String, Baseline> baselines = new LinkedHashMap<>();
        for (String name : names) {
            Outcomes.Figures own = outcomes.route(name, window);
            boolean isNew = diff.routesAdded().contains(name);
            Outcomes.Figures errors = isNew ? Outcomes.Figures.NONE : own;
            String from = "route";
            if (errors.requests() < settings.minRequests()) {
                RouteConfig route = (isNew ? after : before).routes().stream().filter(r -> r.name().equals(name))
                        .findFirst().orElse(null);
                Set<String> clusters = new LinkedHashSet<>();
                if (route != null) {
                    route.clusters().forEach(c -> clusters.add(c.name()));
                }
                errors = outcomes.clusters(clusters, window);
                from = "clusters " + String.join(",", clusters);
                if (errors.requests() < settings.minRequests()) {
                    errors = Outcomes.Figures.NONE;
                    from = "none";
                }
            }
            baselines.put(name, new Baseline(errors, from, isNew ? Outcomes.Figures.NONE : own));
        }
        outcomes.bakeTime(settings.bakeTime()); // after the baselines: a new bake time drops the history
        watch = new Watch(fromVersion, toVersion, clock.nanoTime(), settings, baselines, outcomes.watch(names));
        LOG.info("Watching routes {} for {} after config version {} (auto-rollback to version {} if one gets worse)",
                names, window, toVersion, fromVersion);
    }

    /** A rollback or another reload took over: nothing is watched any more. */
    public synchronized void stop() {
        watch = null;
        outcomes.unwatch();
    }

    /** True while a reload is being watched. */
    public synchronized boolean watching() {
        return watch != null;
    }

    /** Judges the watched routes now; rolls back when one is worse, ends the watch when bake-time is over. */
    public void check() {
        Verdict verdict;
        Watch w;
        synchronized (this) {
            w = watch;
            if (w == null) {
                return;
            }
            verdict = judge(w);
            if (verdict == null) {
                if (clock.nanoTime() - w.startNanos() >= w.settings().bakeTime().toNanos()) {
                    LOG.info("Config version {} baked for {} without a changed route getting worse; it stays",
                            w.toVersion(), w.settings().bakeTime());
                    stop();
                }
                return;
            }
            stop();
        }
        LOG.warn("Route {} got worse after config version {} ({}): rolling back to version {}: {}",
                verdict.route(), w.toVersion(), verdict.reason(), w.fromVersion(), verdict.detail());
        rollback.rollBack(w.toVersion(), w.fromVersion(), verdict.reason(), verdict.detail());
    }

    private static Verdict judge(Watch w) {
        ReloadConfig s = w.settings();
        for (Map.Entry<String, Outcomes> e : w.since().entrySet()) {
            String route = e.getKey();
            long[] sum = Outcomes.empty();
            e.getValue().addTo(sum);
            Outcomes.Figures after = Outcomes.figures(sum);
            Baseline base = w.baselines().get(route);
            if (after.requests() >= s.minRequests()
                    && after.errorRatePercent() - base.errors().errorRatePercent() > s.maxErrorRateIncrease()) {
                return new Verdict(route, "error_rate", detail(route, w, base.errors(), after, base.errorsFrom(),
                        "max_error_rate_increase", s.maxErrorRateIncrease()));
            }
            long floor = P90_FLOOR.toNanos();
            if (after.requests() >= ReloadConfig.LATENCY_MIN_REQUESTS
                    && base.latency().requests() >= ReloadConfig.LATENCY_MIN_REQUESTS
                    && after.p90Nanos() > s.maxP90Increase() * Math.max(base.latency().p90Nanos(), floor)) {
                return new Verdict(route, "latency", detail(route, w, base.latency(), after, "route",
                        "max_p90_increase", s.maxP90Increase()));
            }
        }
        return null;
    }

    private static Map<String, Object> detail(String route, Watch w, Outcomes.Figures before, Outcomes.Figures after,
                                              String baseline, String threshold, double limit) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("route", route);
        d.put("watched_version", w.toVersion());
        d.put("baseline", baseline);
        d.put("before_requests", before.requests());
        d.put("before_error_rate", round(before.errorRatePercent()));
        d.put("before_p90_ms", round(before.p90Millis()));
        d.put("after_requests", after.requests());
        d.put("after_error_rate", round(after.errorRatePercent()));
        d.put("after_p90_ms", round(after.p90Millis()));
        d.put(threshold, limit);
        return d;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
