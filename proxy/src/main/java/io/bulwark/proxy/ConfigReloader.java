package io.bulwark.proxy;

import io.bulwark.routing.Snapshot;

import io.bulwark.admin.ProxyControl.ReloadResult;
import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigLoader;
import io.bulwark.config.ConfigProblem;
import io.bulwark.config.ConfigValidationException;
import io.bulwark.proxy.tls.TlsContexts;
import io.bulwark.routing.Clock;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.health.DelayScheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Safe hot reload: the file is validated in full; a config with any problem is rejected whole
 * and the running one stays; a valid one is swapped in atomically, with upstream state carried
 * over ({@link Snapshot#build}). Upstreams the new config no longer has are drained, not cut:
 * requests already on them finish, their idle pooled connections are closed. Triggered by the
 * admin API, SIGHUP, or a change of the file's content when {@code watch-config} is on
 * (polled, so a Kubernetes ConfigMap's symlink swap is seen too).
 */
final class ConfigReloader {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);

    private final Path file;
    private final AtomicReference<Snapshot> snapshot;
    private final Cluster.Resolver resolver;
    private final Clock clock;
    private final EventSink events;
    private final Consumer<Upstream> retire;
    private final TlsContexts tls;
    private final DelayScheduler timers;
    private final Counter accepted;
    private final Counter rejected;
    private byte[] lastDigest;

    /**
     * @param file the config file, or null when the config did not come from a file (demo)
     * @param retire called for each upstream a reload removed
     */
    ConfigReloader(Path file, AtomicReference<Snapshot> snapshot, Cluster.Resolver resolver, Clock clock,
                   EventSink events, DelayScheduler timers, Consumer<Upstream> retire, MeterRegistry registry,
                   TlsContexts tls) {
        this.tls = tls;
        this.timers = timers;
        this.file = file;
        this.snapshot = snapshot;
        this.resolver = resolver;
        this.clock = clock;
        this.events = events;
        this.retire = retire;
        this.accepted = Counter.builder("bulwark.config.reloads").tag("result", "success")
                .description("Config reloads by result").register(registry);
        this.rejected = Counter.builder("bulwark.config.reloads").tag("result", "failure")
                .description("Config reloads by result").register(registry);
        this.lastDigest = digest();
    }

    /** Re-reads the file and swaps it in if valid. Serialised: one reload at a time. */
    synchronized ReloadResult reload(String trigger) {
        if (file == null) {
            return reject(trigger, List.of(new ConfigProblem("<config>",
                    "this instance runs a built-in config (demo); there is no file to reload")));
        }
        lastDigest = digest();
        BulwarkConfig config;
        try {
            config = ConfigLoader.load(file);
        } catch (ConfigValidationException e) {
            return reject(trigger, e.problems());
        }
        Snapshot previous = snapshot.get();
        Snapshot next;
        try {
            tls.prepare(config); // a certificate that cannot be used rejects the reload; renewed files are picked up
            next = Snapshot.build(config, clock, resolver, events, timers, previous);
        } catch (io.bulwark.proxy.tls.TlsConfigException e) {
            return reject(trigger, List.of(new ConfigProblem(e.path(), e.problem())));
        } catch (RuntimeException e) {
            return reject(trigger, List.of(new ConfigProblem(file.toString(), "cannot apply: " + e.getMessage())));
        }
        snapshot.set(next);
        List<Upstream> gone = previous.upstreamsGoneIn(next);
        for (Upstream u : gone) {
            if (u.admin() == Upstream.AdminState.ACTIVE) {
                u.setAdmin(Upstream.AdminState.DRAINING);
            }
            retire.accept(u);
        }
        accepted.increment();
        String summary = next.clusters().size() + " clusters, " + next.routes().routes().size() + " routes"
                + (gone.isEmpty() ? "" : ", " + gone.size() + " upstreams retired");
        events.publish(new StateEvent(clock.currentTimeMillis(), "reload", null, null, "old", "new",
                "accepted", Map.of("trigger", trigger, "summary", summary)));
        LOG.info("Config reloaded ({}): {}", trigger, summary);
        return new ReloadResult(true, List.of(), summary);
    }

    private ReloadResult reject(String trigger, List<ConfigProblem> problems) {
        rejected.increment();
        events.publish(new StateEvent(clock.currentTimeMillis(), "reload", null, null, "old", "old", "rejected",
                Map.of("trigger", trigger, "problems", problems.size(),
                        "first_problem", problems.isEmpty() ? "" : problems.get(0).toString())));
        LOG.warn("Config reload ({}) rejected, the running config stays:{}", trigger,
                problems.stream().map(p -> "\n  " + p).reduce("", String::concat));
        return new ReloadResult(false, problems, null);
    }

    /** For {@code watch-config}: reloads when the file's content changed since the last look. */
    void reloadIfChanged() {
        if (file == null) {
            return;
        }
        byte[] now = digest();
        if (now != null && !Arrays.equals(now, lastDigest)) {
            reload("file_change");
        }
    }

    private byte[] digest() {
        if (file == null) {
            return null;
        }
        try {
            return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
        } catch (IOException | NoSuchAlgorithmException e) {
            return null; // unreadable for a moment (a ConfigMap swap in progress): look again next time
        }
    }
}
