package io.bulwark.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bulwark.routing.Clock;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Persists the operator's overrides (drain, health override, weight, each with its TTL) to
 * {@code admin.state-file} so they survive a restart. Every change rewrites the whole file
 * atomically: a temporary file is written and fsynced, then renamed over the old one. A state
 * file that cannot be read or parsed is never fatal and never silently dropped: it is moved
 * aside (kept as {@code <file>.corrupt-<time>}), logged and reported as an event.
 */
public final class OperatorStateFile {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorStateFile.class);
    private static final int VERSION = 1;

    /** One upstream's operator overrides; {@code *Until} is epoch millis or 0 for no TTL. */
    record Entry(boolean drained, long drainUntil, String override, long overrideUntil, Integer weight,
                 long weightUntil) {
        boolean empty() {
            return !drained && override == null && weight == null;
        }
    }

    private final Path file;
    private final Clock clock;
    private final EventSink events;
    private final ScheduledExecutorService writer;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    /**
     * @param writer where file writes run, one at a time (never an event loop)
     */
    public OperatorStateFile(Path file, Clock clock, EventSink events, ScheduledExecutorService writer) {
        this.file = file;
        this.clock = clock;
        this.events = events;
        this.writer = writer;
    }

    static String key(String cluster, String address) {
        return cluster + "/" + address;
    }

    /**
     * Records the local operator overrides of {@code u} now (after a change), and schedules a write.
     * Fleet overrides are not recorded: Redis keeps them, and a sidecar loads them at start.
     *
     * @param override null for none; weight null for the configured one
     */
    void record(Upstream u, boolean drained, long drainUntil, String override, long overrideUntil, Integer weight,
                long weightUntil) {
        Entry e = new Entry(drained, drainUntil, override, overrideUntil, weight, weightUntil);
        if (e.empty()) {
            entries.remove(key(u.cluster(), u.address()));
        } else {
            entries.put(key(u.cluster(), u.address()), e);
        }
        writer.execute(this::write);
    }

    private synchronized void write() {
        ObjectNode root = StateJson.MAPPER.createObjectNode();
        root.put("version", VERSION);
        ArrayNode list = root.putArray("upstreams");
        new java.util.TreeMap<>(entries).forEach((k, e) -> {
            int slash = k.indexOf('/');
            ObjectNode n = list.addObject();
            n.put("cluster", k.substring(0, slash));
            n.put("address", k.substring(slash + 1));
            if (e.drained()) {
                n.put("drained", true);
                putUntil(n, "drain_until", e.drainUntil());
            }
            if (e.override() != null) {
                n.put("override", e.override());
                putUntil(n, "override_until", e.overrideUntil());
            }
            if (e.weight() != null) {
                n.put("weight", e.weight());
                putUntil(n, "weight_until", e.weightUntil());
            }
        });
        byte[] bytes = (StateJson.write(root) + "\n").getBytes(StandardCharsets.UTF_8);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.error("Cannot write the state file {}: {} (operator overrides will not survive a restart)",
                    file, e.toString());
            publish("state_file_write_failed", null, null, e.toString());
        }
    }

    private static void putUntil(ObjectNode n, String field, long until) {
        if (until > 0) {
            n.put(field, java.time.Instant.ofEpochMilli(until).toString());
        }
    }

    /**
     * Reads the file (if it exists) and re-applies its overrides to the upstreams of
     * {@code clusters}; overrides whose TTL ran out while the process was down are dropped, the
     * rest get their remaining TTL through {@code actions}.
     */
    void restore(Map<String, Cluster> clusters, OperatorActions actions) {
        if (!Files.exists(file)) {
            return;
        }
        JsonNode root;
        try {
            root = StateJson.MAPPER.readTree(Files.readAllBytes(file));
            if (root == null || !root.isObject() || !root.path("upstreams").isArray()) {
                throw new IOException("not a Bulwark state file (no \"upstreams\" list)");
            }
        } catch (IOException e) {
            quarantine(e.getMessage());
            return;
        }
        long now = clock.currentTimeMillis();
        int applied = 0;
        for (JsonNode n : root.get("upstreams")) {
            String cluster = n.path("cluster").asText(null);
            String address = n.path("address").asText(null);
            Cluster c = cluster == null ? null : clusters.get(cluster);
            Upstream u = c == null || address == null ? null : c.upstream(address);
            if (u == null) {
                LOG.warn("State file {}: no upstream {} in cluster {} any more; its override is kept in the file",
                        file, address, cluster);
                if (cluster != null && address != null) {
                    entries.put(key(cluster, address), entryOf(n));
                }
                continue;
            }
            try {
                if (n.path("drained").asBoolean(false)) {
                    Duration ttl = remaining(n, "drain_until", now);
                    if (ttl == null || !ttl.isNegative()) {
                        actions.drain(u, ttl, "state_file", null);
                    }
                }
                if (n.hasNonNull("override")) {
                    Duration ttl = remaining(n, "override_until", now);
                    if (ttl == null || !ttl.isNegative()) {
                        actions.override(u, Upstream.HealthOverride.valueOf(
                                n.get("override").asText().toUpperCase(Locale.ROOT)), ttl, "state_file", null);
                    }
                }
                if (n.hasNonNull("weight")) {
                    Duration ttl = remaining(n, "weight_until", now);
                    if (ttl == null || !ttl.isNegative()) {
                        actions.weight(u, n.get("weight").asInt(), ttl, "state_file", null);
                    }
                }
                applied++;
            } catch (RuntimeException e) {
                LOG.warn("State file {}: cannot apply the entry for {} {}: {}", file, cluster, address, e.toString());
            }
        }
        LOG.info("Restored operator overrides of {} upstreams from {}", applied, file);
    }

    private static Entry entryOf(JsonNode n) {
        return new Entry(n.path("drained").asBoolean(false), untilOf(n, "drain_until"),
                n.hasNonNull("override") ? n.get("override").asText() : null, untilOf(n, "override_until"),
                n.hasNonNull("weight") ? n.get("weight").asInt() : null, untilOf(n, "weight_until"));
    }

    private static long untilOf(JsonNode n, String field) {
        return n.hasNonNull(field) ? java.time.Instant.parse(n.get(field).asText()).toEpochMilli() : 0;
    }

    /** The TTL left, null for none, negative when it already ran out. */
    private static Duration remaining(JsonNode n, String field, long now) {
        if (!n.hasNonNull(field)) {
            return null;
        }
        long until = java.time.Instant.parse(n.get(field).asText()).toEpochMilli();
        return Duration.ofMillis(until - now);
    }

    private void quarantine(String why) {
        Path aside = file.resolveSibling(file.getFileName() + ".corrupt-" + clock.currentTimeMillis());
        try {
            Files.move(file, aside, StandardCopyOption.REPLACE_EXISTING);
            LOG.error("The state file {} is unreadable ({}); moved it to {} and started without its overrides",
                    file, why, aside);
        } catch (IOException e) {
            LOG.error("The state file {} is unreadable ({}) and could not be moved aside ({}); "
                    + "started without its overrides", file, why, e.toString());
        }
        publish("state_file_unreadable", null, null, why);
    }

    private void publish(String type, String cluster, String upstream, String why) {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("file", file.toString());
        detail.put("error", why);
        events.publish(new StateEvent(clock.currentTimeMillis(), type, cluster, upstream, null, null, type, detail));
    }
}
