package io.bulwark.proxy;

import io.bulwark.routing.Snapshot;

import io.bulwark.admin.AdminApi;
import io.bulwark.admin.AdminServer;
import io.bulwark.admin.ConfigVersions;
import io.bulwark.proxy.reload.BakeWatch;
import io.bulwark.proxy.reload.RouteOutcomes;
import io.bulwark.admin.EventLog;
import io.bulwark.admin.OperatorStateFile;
import io.bulwark.admin.ProxyControl;
import io.bulwark.routing.Route;
import io.bulwark.routing.Upstream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.FaultConfig;
import io.bulwark.proxy.health.HealthChecks;
import io.bulwark.proxy.tls.TlsContexts;
import io.bulwark.proxy.log.AccessLog;
import io.bulwark.proxy.metrics.MeterDescriptions;
import io.bulwark.proxy.metrics.ProxyMetrics;
import io.bulwark.proxy.metrics.ResilienceMetrics;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.circuit.ClusterCircuitBreaker;
import io.bulwark.routing.limits.ClusterLimits;
import io.bulwark.proxy.pool.ConnectionPools;
import io.bulwark.proxy.server.FrontendHandler;
import io.bulwark.proxy.server.ProxyContext;
import io.bulwark.proxy.server.ProxyServer;
import io.bulwark.proxy.transport.Transport;
import io.bulwark.routing.Clock;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.health.DelayScheduler;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyEventExecutorMetrics;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import io.bulwark.proxy.fleet.RedisFleet;
import io.bulwark.routing.ratelimit.QuotaSource;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A running Bulwark: the proxy listener on its worker event loops (one per core), the admin
 * server on its own event loop, DNS refresh, and the orderly shutdown of all of it.
 */
public final class Bulwark implements AutoCloseable {

    /** A listener could not be bound (port taken, address not local, permission). */
    public static final class ListenException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ListenException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(Bulwark.class);
    private static final Duration DEFAULT_POOL_IDLE = Duration.ofSeconds(30);
    private static final int EVENT_LOG_CAPACITY = 1000;

    private final AtomicReference<Snapshot> snapshot;
    private final PrometheusMeterRegistry registry;
    private final Transport transport;
    private final MultiThreadIoEventLoopGroup workers;
    private final MultiThreadIoEventLoopGroup adminGroup;
    private final ScheduledExecutorService background;
    private final ProxyContext proxy;
    private final ProxyServer server;
    private final AdminServer admin;
    private final EventLog events;
    private final ResilienceMetrics resilienceMetrics;
    private final HealthChecks healthChecks;
    private final TlsContexts tls;
    private final ConfigReloader reloader;
    private final ConfigVersions versions;
    private final BakeWatch bake;
    private final ChannelGroup connections;
    /** Fleet mode's Redis client; null in single-process mode. */
    private final RedisFleet fleet;
    private final AtomicBoolean ready = new AtomicBoolean();
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private InetSocketAddress proxyAddress;
    private InetSocketAddress adminAddress;
    /** Whether the config came from a file: without one (demo) nothing can be reloaded. */
    private final boolean reloadable;
    private volatile boolean sighupReloads;

    private Bulwark(BulwarkConfig fileConfig, Path configFile, Cluster.Resolver resolver) {
        this.reloadable = configFile != null;
        this.versions = fileConfig.admin().stateFile()
                .map(p -> ConfigVersions.load(ConfigVersions.fileFor(p))).orElseGet(ConfigVersions::inMemory);
        byte[] fileDigest = configFile != null ? ConfigReloader.digest(configFile)
                : ConfigReloader.digest(io.bulwark.config.ConfigLoader.toJson(fileConfig, false));
        StartingVersion starting = startingVersion(fileConfig, ConfigReloader.hex(fileDigest));
        BulwarkConfig config = starting.config();
        // First, before any thread starts: a TLS setting this machine cannot honour is a config error.
        this.tls = new TlsContexts();
        try {
            tls.prepare(config);
        } catch (RuntimeException e) {
            tls.close();
            throw e;
        }
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().meterFilter(new MeterDescriptions()); // before any binder registers a meter
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        this.events = new EventLog(EVENT_LOG_CAPACITY);
        this.resilienceMetrics = new ResilienceMetrics(registry);
        EventSink sink = event -> {
            events.publish(event);
            resilienceMetrics.publish(event);
        };
        this.background = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bulwark-background");
            t.setDaemon(true);
            return t;
        });
        // Ejections end at their ejected_until, on the background thread (as the outlier ticks run).
        DelayScheduler timers = DelayScheduler.of(background);
        // Fleet mode: its Redis client exists before the routes, whose global rate limits draw on it.
        this.fleet = config.fleet().map(f -> new RedisFleet(f, RedisFleet.defaultMemberId(), Clock.SYSTEM, sink,
                registry)).orElse(null);
        QuotaSource quota = fleet != null ? fleet : QuotaSource.NONE;
        this.snapshot = new AtomicReference<>(Snapshot.build(config, Clock.SYSTEM, resolver, sink, timers, null,
                quota));
        trackMeters();
        this.transport = Transport.best();
        int threads = Integer.getInteger("bulwark.workers", Runtime.getRuntime().availableProcessors());
        this.workers = transport.newGroup(Math.max(1, threads), "bulwark-worker");
        this.adminGroup = transport.newGroup(1, "bulwark-admin");
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider allocator) {
            new NettyAllocatorMetrics(allocator).bindTo(registry);
        }
        new NettyEventExecutorMetrics(workers).bindTo(registry);
        ConnectionPools pools = new ConnectionPools(workers, transport, upstream -> {
            Cluster c = snapshot.get().clusters().get(upstream.cluster());
            return c == null ? DEFAULT_POOL_IDLE : c.config().pool().idleTimeout();
        }, tls);
        this.connections = new DefaultChannelGroup("bulwark-downstream", GlobalEventExecutor.INSTANCE);
        RouteOutcomes outcomes = new RouteOutcomes(Clock.SYSTEM, config.reload().bakeTime());
        this.proxy = new ProxyContext(snapshot, pools, new ProxyMetrics(registry, outcomes),
                new AccessLog(registry, () -> snapshot.get().config().accessLog().enabled()), connections, tls);
        this.server = new ProxyServer(proxy, transport, workers);
        ConfigVersions.Version first = versions.add(config, "start", starting.hash(), starting.detail(),
                starting.detail().isEmpty(), Clock.SYSTEM.currentTimeMillis());
        ConfigReloader.publishVersion(sink, Clock.SYSTEM, null, first);
        this.reloader = new ConfigReloader(configFile, snapshot, resolver, Clock.SYSTEM, sink, timers,
                pools::closeIdle, registry, tls, versions, fileDigest);
        this.bake = new BakeWatch(Clock.SYSTEM, outcomes, reloader::autoRollback);
        reloader.bakeWatch(bake);
        reloader.quotaSource(quota);
        OperatorStateFile stateFile = config.admin().stateFile()
                .map(path -> new OperatorStateFile(path, Clock.SYSTEM, sink, background)).orElse(null);
        AdminApi api = new AdminApi(new Control(), events, sink, Clock.SYSTEM, background, stateFile, fleet);
        api.restoreState();
        if (fleet != null) {
            // The fleet's overrides are loaded before serving (bounded: a missing Redis never stops a start).
            fleet.start(api.fleetListener(), Duration.ofSeconds(5));
        }
        this.admin = new AdminServer(() -> snapshot.get().config().admin(), registry, ready::get, api,
                () -> versions.note().orElse(null));
        ClusterMaintenance maintenance = new ClusterMaintenance(snapshot::get, resolver, Clock.SYSTEM);
        this.healthChecks = new HealthChecks(workers, transport, Clock.SYSTEM, sink, tls);
        healthChecks.sync(snapshot.get().clusters().values());
        UpstreamLists seen = new UpstreamLists();
        background.scheduleWithFixedDelay(() -> {
            maintenance.run();
            bake.check();
            if (fleet != null) {
                api.reconcileFleet();
            }
            Snapshot current = snapshot.get();
            if (seen.changed(current)) { // DNS and reloads change the upstreams; otherwise nothing to redo
                healthChecks.sync(current.clusters().values());
                trackMeters();
            }
        }, 100, 100, TimeUnit.MILLISECONDS);
        long rotation = TlsContexts.SESSION_TIMEOUT.toSeconds();
        background.scheduleAtFixedRate(tls::rotateTicketKeys, rotation, rotation, TimeUnit.SECONDS);
        background.scheduleWithFixedDelay(() -> {
            if (snapshot.get().config().watchConfig()) {
                reloader.reloadIfChanged();
            }
        }, 1, 1, TimeUnit.SECONDS);
    }

    /** The config to start on, its content hash, and (when not the file's) why. */
    private record StartingVersion(BulwarkConfig config, String hash, Map<String, Object> detail) {
    }

    /**
     * The file's config, unless the version history says its content was rolled back: then the last
     * good version, with a WARN (the file is applied again when it changes or is reloaded).
     */
    private StartingVersion startingVersion(BulwarkConfig fileConfig, String fileHash) {
        if (!versions.rolledBack(fileHash)) {
            return new StartingVersion(fileConfig, fileHash, Map.of());
        }
        ConfigVersions.Version good = versions.lastGood().orElse(null);
        if (good == null) {
            LOG.warn("The config file holds content that was rolled back (hash {}), but no earlier version can be "
                    + "restored; starting on the file", fileHash);
            return new StartingVersion(fileConfig, fileHash, Map.of());
        }
        LOG.warn("The config file holds content that was rolled back (hash {}); starting on the last good version {} "
                + "instead. Fix the file (or reload it on purpose) to run its content", fileHash, good.number());
        BulwarkConfig config = ConfigVersions.restorable(good, fileConfig.admin().token(), fileConfig.fleet())
                .orElseThrow();
        return new StartingVersion(config, good.hash(), Map.of("restored_from", good.number(), "file_hash", fileHash));
    }

    private void trackMeters() {
        Snapshot current = snapshot.get();
        resilienceMetrics.track(current.clusters().values());
        resilienceMetrics.trackBreakers(current.clusters().values().stream().map(Cluster::breaker).toList());
        resilienceMetrics.trackAdaptive(current.clusters().values());
    }

    /**
     * Notices when the snapshot or some cluster's upstream list was replaced since the last look, so
     * the work that follows the upstreams (health-check loops, meters), which is proportional to the
     * number of upstreams, runs when they change and not ten times a second regardless.
     */
    private static final class UpstreamLists {
        private Snapshot snapshot;
        private final List<List<Upstream>> lists = new ArrayList<>();

        boolean changed(Snapshot current) {
            boolean changed = current != snapshot;
            int i = 0;
            for (Cluster c : current.clusters().values()) {
                List<Upstream> list = c.upstreams();
                if (i < lists.size()) {
                    changed |= lists.get(i) != list;
                    lists.set(i, list);
                } else {
                    changed = true;
                    lists.add(list);
                }
                i++;
            }
            changed |= i != lists.size();
            lists.subList(i, lists.size()).clear();
            snapshot = current;
            return changed;
        }
    }

    /** The admin API's view of this proxy. */
    private final class Control implements ProxyControl {
        @Override
        public BulwarkConfig config() {
            return snapshot.get().config();
        }

        @Override
        public Map<String, Cluster> clusters() {
            return snapshot.get().clusters();
        }

        @Override
        public List<Route> routes() {
            return snapshot.get().routes().routes();
        }

        @Override
        public void closeIdleConnections(Upstream upstream) {
            proxy.pools().closeIdle(upstream);
        }

        @Override
        public ReloadResult reload() {
            return reloader.reload("admin_api");
        }

        @Override
        public List<String> reloadPaths() {
            return Bulwark.this.reloadPaths();
        }

        @Override
        public ConfigVersions versions() {
            return versions;
        }

        @Override
        public RollbackResult rollback(java.util.OptionalInt to) {
            return reloader.rollback(to, "manual", Map.of());
        }

        @Override
        public ClusterCircuitBreaker circuitBreaker(Cluster cluster) {
            Cluster current = snapshot.get().clusters().get(cluster.name());
            return current == null ? null : current.breaker();
        }

        @Override
        public ClusterLimits limits(Cluster cluster) {
            Cluster current = snapshot.get().clusters().get(cluster.name());
            return current == null ? null : current.limits();
        }

        @Override
        public FaultConfig fault(Route route) {
            return proxy.faults().effective(route);
        }

        @Override
        public void setFault(Route route, FaultConfig fault) {
            proxy.faults().set(route.name(), fault);
        }

        @Override
        public TlsEngineInfo tlsEngine() {
            TlsContexts.Engines engines = tls.engines(snapshot.get().config());
            Map<String, String> clusters = new java.util.LinkedHashMap<>();
            engines.clusters().forEach((name, engine) -> clusters.put(name, engine.configName()));
            return new TlsEngineInfo(engines.listener().map(e -> e.configName()), clusters,
                    engines.openSsl().version(), engines.openSsl().unavailableBecause());
        }
    }

    /**
     * Starts a proxy on {@code config}: resolves endpoints, binds the admin and proxy listeners,
     * then turns ready.
     */
    public static Bulwark start(BulwarkConfig config) throws InterruptedException {
        return start(config, null, Cluster.Resolver.SYSTEM);
    }

    public static Bulwark start(BulwarkConfig config, Cluster.Resolver resolver) throws InterruptedException {
        return start(config, null, resolver);
    }

    /**
     * @param configFile where {@code config} was read from, re-read on reload; null for a built-in config
     */
    public static Bulwark start(BulwarkConfig config, Path configFile, Cluster.Resolver resolver)
            throws InterruptedException {
        Bulwark bulwark = new Bulwark(config, configFile, resolver);
        String where = "admin " + config.admin().host() + ":" + config.admin().port();
        try {
            bulwark.adminAddress = bulwark.admin.start(bulwark.adminGroup, bulwark.transport.serverChannelClass());
            where = "listener " + config.listener().host() + ":" + config.listener().port();
            bulwark.proxyAddress = bulwark.server.start();
        } catch (InterruptedException e) {
            bulwark.close();
            throw e;
        } catch (Exception e) {
            // Netty's native transport reports a taken port as its own IOException, not a BindException.
            bulwark.close();
            throw new ListenException("cannot listen on " + where + ": " + e.getMessage(), e);
        }
        bulwark.ready.set(true);
        LOG.info("Bulwark listening on {} (admin on {}), {} worker event loops, {} transport, {}",
                bulwark.proxyAddress, bulwark.adminAddress, bulwark.workers.executorCount(), bulwark.transport.name(),
                bulwark.tls.describe(config));
        return bulwark;
    }

    /**
     * Tells whether a SIGHUP handler could be installed (the command line installs it after start).
     * When it could not, SIGHUP does nothing (a process started under {@code nohup} ignores it for
     * good), so this says so out loud at WARN, naming the reload paths that do work.
     */
    public void sighupReloads(boolean handled) {
        sighupReloads = handled;
        if (!handled && reloadable) {
            LOG.warn("SIGHUP is ignored by this process (started under nohup, or with SIGHUP ignored), so "
                    + "`kill -HUP` will not reload the config. Reload with POST /api/v1/config/reload on the admin "
                    + "API (http://{}:{}){}", adminAddress.getHostString(), adminAddress.getPort(),
                    snapshot.get().config().watchConfig() ? "; watch-config is on, so saving the file reloads it too"
                            : ", or set bulwark.watch-config = true to reload when the file changes");
        }
    }

    /**
     * The ways the config can be reloaded now ({@code reload_paths} in {@code GET /api/v1/config}):
     * {@code admin_api}, {@code sighup} when a handler is installed, {@code watch_config} when on;
     * none for a built-in config (demo), which has no file to re-read.
     */
    public List<String> reloadPaths() {
        if (!reloadable) {
            return List.of();
        }
        List<String> paths = new java.util.ArrayList<>(3);
        paths.add("admin_api");
        if (sighupReloads) {
            paths.add("sighup");
        }
        if (snapshot.get().config().watchConfig()) {
            paths.add("watch_config");
        }
        return List.copyOf(paths);
    }

    /** Reloads the config file (SIGHUP, tests); the admin API and the file watcher call the same. */
    public ProxyControl.ReloadResult reload(String trigger) {
        return reloader.reload(trigger);
    }

    /** Rolls back as {@code POST /api/v1/config/rollback} does (tests). */
    public ProxyControl.RollbackResult rollback(java.util.OptionalInt to) {
        return reloader.rollback(to, "manual", Map.of());
    }

    public ConfigVersions versions() {
        return versions;
    }

    public EventLog events() {
        return events;
    }

    public InetSocketAddress proxyAddress() {
        return proxyAddress;
    }

    public InetSocketAddress adminAddress() {
        return adminAddress;
    }

    public boolean ready() {
        return ready.get();
    }

    public Snapshot snapshot() {
        return snapshot.get();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public ProxyContext proxyContext() {
        return proxy;
    }

    /**
     * Graceful stop (SIGTERM): readiness turns 503 at once, the listener stops accepting,
     * idle keep-alive connections close, in-flight requests get up to {@code drain-timeout} to
     * finish (their responses carry {@code Connection: close}), then everything closes.
     *
     * @return true if every in-flight request finished within the drain timeout
     */
    public boolean shutdown() {
        if (!stopped.compareAndSet(false, true)) {
            return true;
        }
        ready.set(false);
        Duration drain = snapshot.get().config().shutdown().drainTimeout();
        LOG.info("Shutting down: draining {} in-flight requests (up to {} ms)", proxy.activeExchanges(),
                drain.toMillis());
        server.stopAccepting();
        proxy.startDraining();
        for (Channel ch : connections) {
            FrontendHandler frontend = ch.pipeline().get(FrontendHandler.class);
            if (frontend != null) {
                ch.eventLoop().execute(frontend::closeIfIdle);
            }
            io.bulwark.proxy.server.Http2Frontend h2 = ch.pipeline().get(io.bulwark.proxy.server.Http2Frontend.class);
            if (h2 != null) {
                ch.eventLoop().execute(h2::closeIfIdle); // GOAWAY; open streams finish
            }
        }
        long deadline = System.nanoTime() + drain.toNanos();
        while (proxy.activeExchanges() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        boolean clean = proxy.activeExchanges() == 0;
        if (!clean) {
            LOG.warn("Drain timeout reached with {} requests in flight; closing them", proxy.activeExchanges());
        }
        close();
        return clean;
    }

    /** Closes everything at once (after {@link #shutdown()} drained, or on a failed start). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        stopped.set(true);
        ready.set(false);
        server.stopAccepting();
        connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        proxy.pools().closeAllIdle();
        admin.stop();
        background.shutdownNow();
        if (fleet != null) {
            fleet.close();
        }
        healthChecks.close();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        adminGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        tls.close(); // after the event loops: no handler is made from them any more
        try {
            AccessLog.flush(1_000); // the last requests' lines are on stdout before the process exits
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        registry.close();
    }
}
