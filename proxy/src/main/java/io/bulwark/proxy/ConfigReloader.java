package io.bulwark.proxy;

import io.bulwark.routing.Snapshot;

import io.bulwark.admin.ConfigVersions;
import io.bulwark.admin.ProxyControl.ReloadResult;
import io.bulwark.admin.ProxyControl.RollbackResult;
import io.bulwark.config.ConfigDiff;
import io.bulwark.proxy.reload.BakeWatch;
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
import io.micrometer.core.instrument.Gauge;
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
 *
 * <p>Every config that takes effect becomes a {@link ConfigVersions.Version}; a rollback swaps an
 * earlier version's config in the same way (state carries over just the same) and records it as a
 * new version. The file's digest is only taken from the file, so after a rollback
 * {@code watch-config} leaves the rolled-back file alone until its content changes again.
 */
final class ConfigReloader {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);
    static final List<String> ROLLBACK_REASONS = List.of("manual", "error_rate", "latency");

    private final Path file;
    private final AtomicReference<Snapshot> snapshot;
    private final Cluster.Resolver resolver;
    private final Clock clock;
    private final EventSink events;
    private final Consumer<Upstream> retire;
    private final TlsContexts tls;
    private final DelayScheduler timers;
    private final ConfigVersions versions;
    private final Counter accepted;
    private final Counter rejected;
    private final Map<String, Counter> rollbacks = new java.util.HashMap<>();
    private BakeWatch bake;
    private byte[] lastDigest;

    /**
     * @param file the config file, or null when the config did not come from a file (demo)
     * @param retire called for each upstream a reload removed
     * @param versions the history, already holding the version the proxy started on
     * @param startDigest the file's digest at start (what watch-config compares with)
     */
    /** The fleet's tokens for the routes' global rate limits (fleet mode starts with the process; a reload keeps it). */
    private volatile io.bulwark.routing.ratelimit.QuotaSource quota = io.bulwark.routing.ratelimit.QuotaSource.NONE;

    void quotaSource(io.bulwark.routing.ratelimit.QuotaSource quota) {
        this.quota = quota;
    }

    ConfigReloader(Path file, AtomicReference<Snapshot> snapshot, Cluster.Resolver resolver, Clock clock,
                   EventSink events, DelayScheduler timers, Consumer<Upstream> retire, MeterRegistry registry,
                   TlsContexts tls, ConfigVersions versions, byte[] startDigest) {
        this.tls = tls;
        this.timers = timers;
        this.file = file;
        this.snapshot = snapshot;
        this.resolver = resolver;
        this.clock = clock;
        this.events = events;
        this.retire = retire;
        this.versions = versions;
        this.accepted = Counter.builder("bulwark.config.reloads").tag("result", "success")
                .description("Config reloads by result").register(registry);
        this.rejected = Counter.builder("bulwark.config.reloads").tag("result", "failure")
                .description("Config reloads by result").register(registry);
        for (String reason : ROLLBACK_REASONS) {
            rollbacks.put(reason, Counter.builder("bulwark.config.rollbacks").tag("reason", reason)
                    .description("Config rollbacks by reason: manual (admin API), error_rate or latency (automatic)")
                    .register(registry));
        }
        Gauge.builder("bulwark.config.version", versions,
                        v -> v.current().map(ConfigVersions.Version::number).orElse(0))
                .description("Number of the config version in force").register(registry);
        this.lastDigest = startDigest;
    }

    /** Where a reload starts being watched for automatic rollback (set once, after construction). */
    void bakeWatch(BakeWatch bake) {
        this.bake = bake;
    }

    /** Re-reads the file and swaps it in if valid. Serialised: one reload at a time. */
    synchronized ReloadResult reload(String trigger) {
        if (file == null) {
            return reject(trigger, List.of(new ConfigProblem("<config>",
                    "this instance runs a built-in config (demo); there is no file to reload")));
        }
        byte[] digest = digest(file);
        lastDigest = digest;
        BulwarkConfig config;
        try {
            config = ConfigLoader.load(file);
        } catch (ConfigValidationException e) {
            return reject(trigger, e.problems());
        }
        Snapshot previous = snapshot.get();
        List<ConfigProblem> problems = swap(config, previous);
        if (problems != null) {
            return reject(trigger, problems);
        }
        accepted.increment();
        ConfigVersions.Version from = versions.current().orElse(null);
        ConfigVersions.Version v = versions.add(config, trigger, hex(digest), Map.of(), true,
                clock.currentTimeMillis());
        String summary = config.clusters().size() + " clusters, " + config.routes().size() + " routes; "
                + v.changes().describe();
        events.publish(new StateEvent(clock.currentTimeMillis(), "reload", null, null, "old", "new",
                "accepted", Map.of("trigger", trigger, "summary", summary, "version", v.number())));
        publishVersion(from, v);
        LOG.info("Config reloaded ({}): version {}: {}", trigger, v.number(), summary);
        if (bake != null && from != null) {
            bake.reloaded(from.number(), previous.config(), v.number(), config, v.changes());
        }
        return new ReloadResult(true, List.of(), "version " + v.number() + ": " + summary);
    }

    /**
     * Swaps in {@code config}; null when done, else the problems that kept it out. Upstreams it no
     * longer has are drained and their idle connections closed.
     */
    private List<ConfigProblem> swap(BulwarkConfig config, Snapshot previous) {
        Snapshot next;
        try {
            tls.prepare(config); // a certificate that cannot be used rejects the reload; renewed files are picked up
            next = Snapshot.build(config, clock, resolver, events, timers, previous, quota);
        } catch (io.bulwark.proxy.tls.TlsConfigException e) {
            return List.of(new ConfigProblem(e.path(), e.problem()));
        } catch (RuntimeException e) {
            return List.of(new ConfigProblem(file == null ? "<config>" : file.toString(),
                    "cannot apply: " + e.getMessage()));
        }
        snapshot.set(next);
        for (Upstream u : previous.upstreamsGoneIn(next)) {
            if (u.admin() == Upstream.AdminState.ACTIVE) {
                u.setAdmin(Upstream.AdminState.DRAINING);
            }
            retire.accept(u);
        }
        return null;
    }

    /**
     * Rolls back to version {@code to} (empty: the previous one, {@link ConfigVersions#previous()}).
     *
     * @param reason {@code manual}, {@code error_rate} or {@code latency}
     * @param detail the figures behind an automatic rollback (for the event); empty for a manual one
     */
    synchronized RollbackResult rollback(java.util.OptionalInt to, String reason, Map<String, Object> detail) {
        ConfigVersions.Version running = versions.current().orElse(null);
        if (running == null) {
            return RollbackResult.refused(409, "conflict", "no config version is running yet");
        }
        ConfigVersions.Version target;
        if (to.isPresent()) {
            target = versions.get(to.getAsInt()).orElse(null);
            if (target == null) {
                return RollbackResult.refused(404, "not_found", "no config version " + to.getAsInt() + " (the last "
                        + ConfigVersions.CAPACITY + " are kept; GET /api/v1/config/versions lists them)");
            }
            if (target.number() == running.number()) {
                return RollbackResult.refused(409, "conflict", "version " + target.number() + " is already running");
            }
        } else {
            target = versions.previous().orElse(null);
            if (target == null) {
                return RollbackResult.refused(409, "conflict", "there is no earlier version with a different config"
                        + " to roll back to (running version " + running.number() + ")");
            }
        }
        BulwarkConfig config = ConfigVersions.restorable(target, snapshot.get().config().admin().token(),
                snapshot.get().config().fleet()).orElse(null);
        if (config == null) {
            return RollbackResult.refused(409, "conflict", "version " + target.number()
                    + " was read back from the history but its config no longer loads (see the log at start)");
        }
        List<ConfigProblem> problems = swap(config, snapshot.get());
        if (problems != null) {
            return RollbackResult.refused(409, "conflict", "version " + target.number() + " cannot be applied: "
                    + problems.get(0));
        }
        if (bake != null) {
            bake.stop();
        }
        if (!running.hash().equals(target.hash())) {
            versions.markRolledBack(running.hash());
        }
        Map<String, Object> versionDetail = new java.util.LinkedHashMap<>();
        versionDetail.put("rolled_back_from", running.number());
        versionDetail.put("rolled_back_to", target.number());
        versionDetail.put("reason", reason);
        ConfigVersions.Version v = versions.add(config, "rollback", target.hash(), versionDetail, false,
                clock.currentTimeMillis());
        rollbacks.get(reason).increment();
        Map<String, Object> eventDetail = new java.util.LinkedHashMap<>(versionDetail);
        eventDetail.put("version", v.number());
        eventDetail.putAll(detail);
        events.publish(new StateEvent(clock.currentTimeMillis(), "config_rollback", null, null,
                "version " + running.number(), "version " + target.number(), reason, eventDetail));
        publishVersion(running, v);
        LOG.warn("Config rolled back ({}) from version {} to version {}, now running as version {}; the config file "
                + "is not changed and is applied again only when it changes or is reloaded", reason, running.number(),
                target.number(), v.number());
        return RollbackResult.done(v);
    }

    /** For the automatic rollback: only while {@code watched} is still the running version. */
    boolean autoRollback(int watched, int to, String reason, Map<String, Object> detail) {
        synchronized (this) {
            if (versions.current().map(v -> v.number() != watched).orElse(true)) {
                return false;
            }
            return rollback(java.util.OptionalInt.of(to), reason, detail).version() != null;
        }
    }

    private void publishVersion(ConfigVersions.Version from, ConfigVersions.Version v) {
        publishVersion(events, clock, from, v);
    }

    /** The {@code config_version} event of a version that just took effect. */
    static void publishVersion(EventSink events, Clock clock, ConfigVersions.Version from, ConfigVersions.Version v) {
        Map<String, Object> detail = new java.util.LinkedHashMap<>();
        detail.put("version", v.number());
        detail.put("hash", v.hash());
        detail.put("summary", v.changes().describe());
        detail.putAll(v.detail());
        events.publish(new StateEvent(clock.currentTimeMillis(), "config_version", null, null,
                from == null ? null : "version " + from.number(), "version " + v.number(), v.source(), detail));
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
        byte[] now = digest(file);
        if (now != null && !Arrays.equals(now, lastDigest)) {
            reload("file_change");
        }
    }

    /** SHA-256 of the file's bytes; null when it cannot be read right now. */
    static byte[] digest(Path file) {
        if (file == null) {
            return null;
        }
        try {
            return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
        } catch (IOException | NoSuchAlgorithmException e) {
            return null; // unreadable for a moment (a ConfigMap swap in progress): look again next time
        }
    }

    /** SHA-256 of a string (the built-in config has no file). */
    static byte[] digest(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String hex(byte[] digest) {
        return digest == null ? "unknown" : java.util.HexFormat.of().formatHex(digest);
    }
}
