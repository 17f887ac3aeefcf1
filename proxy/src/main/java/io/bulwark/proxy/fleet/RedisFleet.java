package io.bulwark.proxy.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bulwark.admin.FleetControl;
import io.bulwark.admin.FleetOverride;
import io.bulwark.config.FleetConfig;
import io.bulwark.routing.Clock;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.ratelimit.QuotaSource;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fleet mode's Redis side ({@code bulwark.fleet}): the global rate limits' tokens
 * ({@link QuotaSource}), the fleet-wide operator overrides and the members list
 * ({@link FleetControl}).
 *
 * <h2>Threads</h2>
 * Lettuce runs on its own {@link ClientResources} with its smallest pools (two I/O threads, two
 * computation threads, mostly idle), not on Bulwark's worker event loops: a Redis reconnect storm or a slow reply can then never
 * delay a client's request, and futures complete on Lettuce's thread, where the limiter only
 * updates a few fields of its cell. Nothing here blocks a caller: every Redis call is asynchronous,
 * commands fail at once while disconnected ({@code REJECT_COMMANDS}) instead of queueing, and the
 * fleet's own timer thread runs heartbeats, reconnects and the overrides' resync.
 *
 * <h2>Redis keys (all with the hash tag {@code {name}}, so Redis Cluster keeps a fleet in one slot)</h2>
 * <ul>
 * <li>{@code bulwark:{name}:rl:<route>:<key>}: a global limit's bucket ({@link FleetScripts#TAKE});</li>
 * <li>{@code bulwark:{name}:members}: member ids by last heartbeat ({@link FleetScripts#HEARTBEAT});</li>
 * <li>{@code bulwark:{name}:overrides}: a hash, one field per upstream and kind, the value the
 *     override's JSON; channel {@code bulwark:{name}:overrides} carries each change, channel
 *     {@code bulwark:{name}:acks} each member's "applied it".</li>
 * </ul>
 * An override issued while Redis is down is kept and written when it returns, before the hash is
 * read back; the hash is read again after every reconnect and every heartbeat, so every member
 * converges on it whatever messages it missed.
 */
public final class RedisFleet implements QuotaSource, FleetControl, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RedisFleet.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FleetConfig config;
    private final String memberId;
    private final Clock clock;
    private final EventSink events;
    private final MeterRegistry registry;
    private final ClientResources resources;
    private final AbstractRedisClient client;
    private final RedisURI uri;
    private final ScheduledExecutorService timer;
    private final String prefix;
    private final String overridesKey;
    private final String membersKey;
    private final String overridesChannel;
    private final String acksChannel;
    private final String epochKey;

    private volatile StatefulConnection<String, String> connection;
    private volatile RedisClusterAsyncCommands<String, String> commands;
    private volatile StatefulRedisPubSubConnection<String, String> pubsub;
    private volatile boolean up;
    private volatile long lastChangeMillis;
    private volatile List<Member> members = List.of();
    private volatile String takeSha;
    private volatile String heartbeatSha;
    private volatile Listener listener;
    /** Overrides issued here that Redis has not taken yet, by hash field; written first when it is back. */
    private final Map<String, Runnable> pending = new LinkedHashMap<>();
    private final AtomicLong fetches = new AtomicLong();
    private final AtomicLong fetchFailures = new AtomicLong();
    /** Per route: the counters of decisions by Redis [0] and by the local share [1]. */
    private final Map<String, Counter[]> decisions = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public RedisFleet(FleetConfig config, String memberId, Clock clock, EventSink events, MeterRegistry registry) {
        this.config = config;
        this.memberId = memberId;
        this.clock = clock;
        this.events = events;
        this.registry = registry;
        this.prefix = "bulwark:{" + config.name() + "}:";
        this.overridesKey = prefix + "overrides";
        this.membersKey = prefix + "members";
        this.overridesChannel = prefix + "overrides";
        this.acksChannel = prefix + "acks";
        this.epochKey = prefix + "epoch";
        this.uri = redisUri(config);
        // Commands time out on their own too (a frozen Redis), well after the data plane stopped waiting.
        Duration commandTimeout = max(Duration.ofSeconds(1), config.timeout().multipliedBy(10));
        this.uri.setTimeout(commandTimeout);
        // Lettuce's smallest pools (it raises anything below 2 to 2): Redis traffic here is a few calls a second.
        this.resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2).build();
        TimeoutOptions timeouts = TimeoutOptions.enabled(commandTimeout);
        if (config.mode() == FleetConfig.Mode.CLUSTER) {
            RedisClusterClient cluster = RedisClusterClient.create(resources, uri);
            // A cluster connection opens its node connections lazily, so rejecting commands while one is not
            // open yet would fail the first call to every node: they queue (bounded, and timed out) instead;
            // the limiters still never wait, since they ask only while the fleet is up and stop waiting after
            // fleet.timeout.
            cluster.setOptions(ClusterClientOptions.builder().autoReconnect(true).timeoutOptions(timeouts)
                    .requestQueueSize(10_000)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS).build());
            this.client = cluster;
        } else {
            RedisClient standalone = RedisClient.create(resources);
            standalone.setOptions(ClientOptions.builder().autoReconnect(true).timeoutOptions(timeouts)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
            this.client = standalone;
        }
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bulwark-fleet");
            t.setDaemon(true);
            return t;
        });
        Gauge.builder("bulwark_fleet_redis_up", this, f -> f.up ? 1 : 0)
                .description("1 while this sidecar's connection to the fleet's Redis is up, else 0")
                .register(registry);
        Gauge.builder("bulwark_fleet_members", this, f -> f.members.size())
                .description("Live members of the fleet this sidecar last saw (by heartbeat)")
                .register(registry);
        lastChangeMillis = clock.currentTimeMillis();
    }

    /** The URI with the password from {@code password-file}, if any; never logged. */
    private static RedisURI redisUri(FleetConfig config) {
        RedisURI u = RedisURI.create(config.redis());
        config.passwordFile().ifPresent(path -> {
            try {
                String first = Files.readAllLines(path, StandardCharsets.UTF_8).stream().findFirst().orElse("");
                io.lettuce.core.RedisCredentials uriCredentials = u.getCredentialsProvider() instanceof
                        io.lettuce.core.RedisCredentialsProvider.ImmediateRedisCredentialsProvider immediate
                        ? immediate.resolveCredentialsNow() : null;
                String user = uriCredentials != null && uriCredentials.hasUsername() ? uriCredentials.getUsername() : null;
                u.setCredentialsProvider(new io.lettuce.core.StaticCredentialsProvider(user, first.strip().toCharArray()));
            } catch (IOException e) {
                throw new IllegalStateException("cannot read bulwark.fleet.password-file " + path + ": "
                        + e.getClass().getSimpleName(), e);
            }
        });
        return u;
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    /** A member id for this process: the host name and the process id. */
    public static String defaultMemberId() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "localhost";
            }
        }
        return host + "-" + ProcessHandle.current().pid();
    }

    /**
     * Connects, and waits up to {@code wait} (off the event loops, at start) for the first load of
     * the fleet's overrides, so a starting sidecar applies them before it serves. Keeps trying in
     * the background when Redis is not there.
     */
    public void start(Listener overrides, Duration wait) {
        this.listener = overrides;
        reconnecting = true; // no second connect from checkConnection while this one is under way
        CompletableFuture<Void> first = connect().whenComplete((ok, error) -> reconnecting = false);
        try {
            first.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            LOG.warn("Fleet {}: Redis {} not reachable at start ({}); serving with local limits, retrying",
                    config.name(), config.redactedRedis(), cause.getClass().getSimpleName() + ": " + cause.getMessage() + (cause.getCause() != null ? ": " + cause.getCause() : ""));
        }
        long beat = Math.max(100, config.memberTtl().toMillis() / 3);
        timer.scheduleWithFixedDelay(this::tick, beat, beat, TimeUnit.MILLISECONDS);
        timer.scheduleWithFixedDelay(this::checkConnection, 200, 200, TimeUnit.MILLISECONDS);
    }

    /** Opens the command and pub/sub connections; completes once the overrides are loaded. */
    private CompletableFuture<Void> connect() {
        CompletableFuture<StatefulConnection<String, String>> cmd;
        java.util.function.Supplier<CompletableFuture<StatefulRedisPubSubConnection<String, String>>> sub;
        if (client instanceof RedisClusterClient cluster) {
            try {
                // The topology first (blocking, bounded by the command timeout): connect() runs on the
                // main thread at start and on the fleet's timer thread after, never on an event loop.
                cluster.getPartitions();
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
            cmd = cluster.connectAsync(StringCodec.UTF8).toCompletableFuture().thenApply(c -> c);
            sub = () -> cluster.connectPubSubAsync(StringCodec.UTF8).toCompletableFuture().thenApply(c -> c);
        } else {
            RedisClient standalone = (RedisClient) client;
            cmd = standalone.connectAsync(StringCodec.UTF8, uri).toCompletableFuture().thenApply(c -> c);
            sub = () -> standalone.connectPubSubAsync(StringCodec.UTF8, uri).toCompletableFuture();
        }
        // The pub/sub connection after the command one: a cluster client learns the topology on the first.
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> subscribed = cmd.thenCompose(c -> sub.get());
        return cmd.thenCombine(subscribed, (c, s) -> {
            if (closed) {
                c.closeAsync();
                s.closeAsync();
                throw new IllegalStateException("closed");
            }
            connection = c;
            commands = c instanceof StatefulRedisConnection<String, String> single ? single.async()
                    : ((io.lettuce.core.cluster.api.StatefulRedisClusterConnection<String, String>) c).async();
            pubsub = s;
            s.addListener(new Messages());
            s.async().subscribe(overridesChannel, acksChannel);
            return c;
        }).thenCompose(c -> onConnected()).whenComplete((ok, error) -> {
            if (error != null) {
                closeConnections();
                // One of the two may have opened while the other failed: close it too.
                cmd.thenAccept(StatefulConnection::closeAsync);
                subscribed.thenAccept(StatefulConnection::closeAsync);
            }
        });
    }

    /**
     * After a (re)connect: write what was issued here meanwhile; if Redis lost its data (its epoch
     * key is new: a restart without persistence, a failover to an empty replica), write back the
     * fleet overrides this sidecar holds, without replacing any another member wrote first; then read
     * the overrides back, and only then count as up.
     */
    private CompletableFuture<Void> onConnected() {
        RedisClusterAsyncCommands<String, String> c = commands;
        if (c == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("not connected"));
        }
        List<Runnable> writes;
        synchronized (pending) {
            writes = new ArrayList<>(pending.values());
            pending.clear();
        }
        writes.forEach(Runnable::run);
        String mine = java.util.UUID.randomUUID().toString();
        return c.set(epochKey, mine, io.lettuce.core.SetArgs.Builder.nx()).toCompletableFuture()
                .thenCompose(x -> c.get(epochKey).toCompletableFuture())
                .thenCompose(epoch -> {
                    String before = knownEpoch;
                    knownEpoch = epoch;
                    Listener l = listener;
                    if (before == null || before.equals(epoch) || l == null) {
                        return CompletableFuture.completedFuture(null);
                    }
                    List<FleetOverride> held = l.current();
                    LOG.warn("Fleet {}: Redis came back without the fleet's data; writing back the {} fleet overrides "
                            + "this sidecar holds", config.name(), held.size());
                    CompletableFuture<?>[] done = held.stream()
                            .map(o -> c.hsetnx(overridesKey, o.field(), o.toJson()).toCompletableFuture())
                            .toArray(CompletableFuture[]::new);
                    return CompletableFuture.allOf(done);
                })
                .thenCompose(x -> load()).thenCompose(x -> heartbeat()).thenRun(() -> setUp(true, "connected"));
    }

    /** The fleet data's epoch last seen: a new one means Redis lost the data (see {@link #onConnected}). */
    private volatile String knownEpoch;

    /** Reads the whole overrides hash and hands it to the admin API's fleet layer. */
    private CompletableFuture<Void> load() {
        RedisClusterAsyncCommands<String, String> c = commands;
        if (c == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("not connected"));
        }
        return c.hgetall(overridesKey).toCompletableFuture().thenAccept(all -> {
            List<FleetOverride> entries = new ArrayList<>();
            List<String> expired = new ArrayList<>();
            long now = clock.currentTimeMillis();
            all.forEach((field, json) -> {
                try {
                    FleetOverride o = FleetOverride.parse(json);
                    if (o.untilMillis() > 0 && o.untilMillis() <= now) {
                        expired.add(field);
                    } else {
                        entries.add(o);
                    }
                } catch (IllegalArgumentException e) {
                    LOG.warn("Fleet {}: ignoring the unreadable override {}", config.name(), field);
                }
            });
            if (!expired.isEmpty()) {
                c.hdel(overridesKey, expired.toArray(String[]::new));
            }
            Listener l = listener;
            if (l != null) {
                l.loaded(entries);
            }
        });
    }

    private CompletableFuture<Void> heartbeat() {
        RedisClusterAsyncCommands<String, String> c = commands;
        if (c == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("not connected"));
        }
        String[] keys = {membersKey};
        String ttl = Long.toString(config.memberTtl().toMillis());
        return script(c, FleetScripts.HEARTBEAT, true, keys, memberId, ttl).thenAccept(reply -> {
            List<Member> seen = new ArrayList<>();
            List<?> list = (List<?>) reply;
            for (int i = 0; i + 1 < list.size(); i += 2) {
                seen.add(new Member(String.valueOf(list.get(i)), (long) Double.parseDouble(String.valueOf(list.get(i + 1)))));
            }
            members = List.copyOf(seen);
        });
    }

    /** Runs a script by its SHA, loading it (EVAL) when Redis does not know it (NOSCRIPT). */
    private CompletableFuture<Object> script(RedisClusterAsyncCommands<String, String> c, String script,
                                             boolean heartbeat, String[] keys, String... args) {
        String sha = heartbeat ? heartbeatSha : takeSha;
        CompletableFuture<Object> first = sha == null
                ? CompletableFuture.failedFuture(new RedisNoScriptException("not loaded yet"))
                : c.<Object>evalsha(sha, ScriptOutputType.MULTI, keys, args).toCompletableFuture();
        return first.handle((reply, error) -> {
            if (error == null) {
                return CompletableFuture.completedFuture(reply);
            }
            Throwable cause = error instanceof java.util.concurrent.CompletionException ? error.getCause() : error;
            if (!(cause instanceof RedisNoScriptException)) {
                return CompletableFuture.<Object>failedFuture(cause);
            }
            c.scriptLoad(script).thenAccept(loaded -> {
                if (heartbeat) {
                    heartbeatSha = loaded;
                } else {
                    takeSha = loaded;
                }
            });
            return c.<Object>eval(script, ScriptOutputType.MULTI, keys, args).toCompletableFuture();
        }).thenCompose(f -> f);
    }

    /** Every member-ttl / 3: the heartbeat, and a fresh read of the overrides (convergence after lost messages). */
    private void tick() {
        if (!up) {
            return;
        }
        heartbeat().thenCompose(x -> load()).whenComplete((ok, error) -> {
            if (error != null) {
                LOG.debug("Fleet heartbeat failed: {}", error.toString());
                setUp(false, "heartbeat_failed");
            }
        });
    }

    /** Notices a lost or regained connection (Lettuce reconnects by itself; the first connect is ours to retry). */
    private void checkConnection() {
        if (closed) {
            return;
        }
        StatefulConnection<String, String> c = connection;
        StatefulRedisPubSubConnection<String, String> s = pubsub;
        boolean open = c != null && c.isOpen() && s != null && s.isOpen();
        if (up && !open) {
            setUp(false, "disconnected");
        } else if (!up && open && !reconnecting) {
            reconnecting = true;
            onConnected().whenComplete((ok, error) -> reconnecting = false);
        } else if (c == null && !reconnecting) {
            reconnecting = true;
            connect().whenComplete((ok, error) -> reconnecting = false);
        }
    }

    private volatile boolean reconnecting;

    private synchronized void setUp(boolean now, String reason) {
        if (up == now) {
            return;
        }
        up = now;
        lastChangeMillis = clock.currentTimeMillis();
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("redis", config.redactedRedis());
        detail.put("fleet", config.name());
        if (now) {
            LOG.info("Fleet {}: connected to Redis {} as {}", config.name(), config.redactedRedis(), memberId);
        } else {
            LOG.warn("Fleet {}: lost Redis {} ({}); global limits fall back to {}", config.name(),
                    config.redactedRedis(), reason, config.onRedisDown() == FleetConfig.OnRedisDown.DENY
                            ? "refusing (on-redis-down = deny)" : "this sidecar's share");
        }
        events.publish(new StateEvent(lastChangeMillis, now ? "fleet_redis_up" : "fleet_redis_down", null, null,
                now ? "down" : "up", now ? "up" : "down", reason, detail, StateEvent.FLEET));
    }

    private void closeConnections() {
        StatefulConnection<String, String> c = connection;
        StatefulRedisPubSubConnection<String, String> s = pubsub;
        connection = null;
        commands = null;
        pubsub = null;
        if (c != null) {
            c.closeAsync();
        }
        if (s != null) {
            s.closeAsync();
        }
    }

    // ------------------------------------------------------------------ QuotaSource

    @Override
    public CompletionStage<Grant> take(String route, String key, double ratePerSecond, int burst, long owed,
                                       long want) {
        RedisClusterAsyncCommands<String, String> c = commands;
        if (c == null || !up) {
            return CompletableFuture.failedFuture(new IllegalStateException("Redis is down"));
        }
        fetches.incrementAndGet();
        String[] keys = {prefix + "rl:" + route + ":" + key};
        return script(c, FleetScripts.TAKE, false, keys, Double.toString(ratePerSecond), Integer.toString(burst),
                Long.toString(owed), Long.toString(want)).handle((reply, error) -> {
                    if (error != null) {
                        fetchFailures.incrementAndGet();
                        throw new java.util.concurrent.CompletionException(error);
                    }
                    List<?> list = (List<?>) reply;
                    return new Grant(((Number) list.get(0)).longValue(), ((Number) list.get(1)).longValue());
                });
    }

    @Override
    public boolean up() {
        return up;
    }

    @Override
    public int liveMembers() {
        return Math.max(1, members.size());
    }

    @Override
    public boolean denyWhenDown() {
        return config.onRedisDown() == FleetConfig.OnRedisDown.DENY;
    }

    @Override
    public Duration timeout() {
        return config.timeout();
    }

    @Override
    public void recordDecision(String route, boolean byRedis) {
        // On every request of a global limit: one lookup by the route's name, nothing allocated.
        Counter[] pair = decisions.get(route);
        if (pair == null) {
            pair = decisions.computeIfAbsent(route, r -> new Counter[] {decisionCounter(r, "redis"),
                    decisionCounter(r, "local")});
        }
        pair[byRedis ? 0 : 1].increment();
    }

    private Counter decisionCounter(String route, String by) {
        return Counter.builder("bulwark_global_rate_limit_decisions_total")
                .description("Decisions of scope = global rate limits: by tokens Redis granted, or by this "
                        + "sidecar's own share (Redis down or not asked yet)")
                .tag("route", route).tag("by", by).register(registry);
    }

    // ------------------------------------------------------------------ FleetControl

    @Override
    public String memberId() {
        return memberId;
    }

    @Override
    public void publish(FleetOverride entry) {
        ObjectNode message = JSON.createObjectNode();
        message.put("op", "set");
        message.put("entry", entry.toJson());
        String text = message.toString();
        write(entry.field(), () -> {
            RedisClusterAsyncCommands<String, String> c = commands;
            c.hset(overridesKey, entry.field(), entry.toJson());
            c.publish(overridesChannel, text);
        });
    }

    @Override
    public void remove(String cluster, String address, FleetOverride.Kind kind, String id) {
        ObjectNode message = JSON.createObjectNode();
        message.put("op", "remove");
        message.put("cluster", cluster);
        message.put("address", address);
        message.put("kind", kind.name());
        message.put("id", id);
        message.put("origin", memberId);
        String text = message.toString();
        String field = FleetOverride.field(cluster, address, kind);
        write(field, () -> {
            RedisClusterAsyncCommands<String, String> c = commands;
            c.hdel(overridesKey, field);
            c.publish(overridesChannel, text);
        });
    }

    /** Runs a write now when Redis is up, else keeps it (the latest per field) for when it is back. */
    private void write(String field, Runnable write) {
        synchronized (pending) {
            if (up && commands != null) {
                write.run();
            } else {
                pending.put(field, write);
            }
        }
    }

    @Override
    public Status status() {
        Map<String, Decisions> byRoute = new java.util.TreeMap<>();
        decisions.forEach((route, pair) -> byRoute.put(route,
                new Decisions((long) pair[0].count(), (long) pair[1].count())));
        return new Status(config.name(), config.redactedRedis(), config.mode().name().toLowerCase(java.util.Locale.ROOT),
                up, lastChangeMillis, members, fetches.get(), fetchFailures.get(), byRoute);
    }

    /** The messages of the overrides and acks channels, on Lettuce's thread. */
    private final class Messages extends RedisPubSubAdapter<String, String> {
        @Override
        public void message(String channel, String message) {
            Listener l = listener;
            if (l == null) {
                return;
            }
            try {
                if (channel.equals(acksChannel)) {
                    int space = message.indexOf(' ');
                    if (space > 0) {
                        l.seen(message.substring(0, space), message.substring(space + 1));
                    }
                    return;
                }
                JsonNode n = JSON.readTree(message);
                String id;
                if ("set".equals(n.path("op").asText())) {
                    FleetOverride o = FleetOverride.parse(n.get("entry").asText());
                    l.applied(o);
                    id = o.id();
                } else if ("remove".equals(n.path("op").asText())) {
                    id = n.get("id").asText();
                    l.removed(n.get("cluster").asText(), n.get("address").asText(),
                            FleetOverride.Kind.valueOf(n.get("kind").asText()), id, n.path("origin").asText(""));
                } else {
                    return;
                }
                RedisClusterAsyncCommands<String, String> c = commands;
                if (c != null) {
                    c.publish(acksChannel, id + " " + memberId);
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("Fleet {}: ignoring an unreadable message on {}: {}", config.name(), channel, e.toString());
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        RedisClusterAsyncCommands<String, String> c = commands;
        if (c != null && up) {
            try {
                c.zrem(membersKey, memberId).get(500, TimeUnit.MILLISECONDS); // leave the members list at once
            } catch (Exception e) {
                // it expires by itself after member-ttl
            }
        }
        closeConnections();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        resources.shutdown(0, 1, TimeUnit.SECONDS);
    }
}
