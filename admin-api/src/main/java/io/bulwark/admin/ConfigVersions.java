package io.bulwark.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bulwark.config.AdminConfig;
import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigDiff;
import io.bulwark.config.ConfigLoader;
import io.bulwark.config.ConfigValidationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The history of the configs that took effect: one {@link Version} per start, reload and rollback,
 * the last {@value #CAPACITY} kept, newest last. It also remembers which contents were rolled back
 * (by content hash), so a restart on a file that still holds one starts on the last good version,
 * and whether the running config differs from the file. With {@code admin.state-file} set the
 * history is written next to it ({@link #fileFor}) after every change and read back at start.
 * Thread-safe; the writes are small and rare (one per config change), so they happen in the call.
 */
public final class ConfigVersions {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigVersions.class);
    public static final int CAPACITY = 20;
    private static final int FORMAT = 1;

    /**
     * One config that took effect.
     *
     * @param source {@code start}, {@code admin_api}, {@code sighup}, {@code file_change} or {@code rollback}
     * @param hash SHA-256 (hex) of the file content it came from; a rollback carries its target's hash
     * @param changes what changed from the version before it
     * @param detail for a rollback: {@code rolled_back_from}, {@code rolled_back_to}, {@code reason}; for a
     *               start on the last good version: {@code restored_from}
     * @param configJson the effective config as JSON, secrets redacted
     * @param config the config itself; empty for a version read back from disk that no longer loads
     */
    public record Version(int number, long timeMillis, String source, String hash, ConfigDiff changes,
                          Map<String, Object> detail, String configJson, Optional<BulwarkConfig> config) {

        public Version {
            detail = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(detail));
        }
    }

    private final Path file;
    private final Deque<Version> versions = new ArrayDeque<>();
    private final Set<String> rolledBack = new LinkedHashSet<>();
    private boolean differsFromFile;

    /** @param file where the history is kept, or null to keep it in memory only */
    private ConfigVersions(Path file) {
        this.file = file;
    }

    /** An empty history kept in memory only. */
    public static ConfigVersions inMemory() {
        return new ConfigVersions(null);
    }

    /** The history file for a state file: {@code state.json} -> {@code state.config-versions.json}. */
    public static Path fileFor(Path stateFile) {
        String name = stateFile.getFileName().toString();
        String base = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        return stateFile.resolveSibling(base + ".config-versions.json");
    }

    /**
     * Reads the history kept in {@code file} (none yet: an empty history). An unreadable file is
     * moved aside with a WARN and the history starts empty: losing history must never stop a start.
     */
    public static ConfigVersions load(Path file) {
        ConfigVersions v = new ConfigVersions(file);
        if (!Files.exists(file)) {
            return v;
        }
        try {
            JsonNode root = StateJson.MAPPER.readTree(Files.readString(file));
            BulwarkConfig before = null;
            for (JsonNode n : root.path("versions")) {
                Version read = read(n, before);
                v.versions.addLast(read);
                before = read.config().orElse(null);
            }
            root.path("rolled_back").forEach(h -> v.rolledBack.add(h.asText()));
        } catch (IOException | RuntimeException e) {
            Path aside = file.resolveSibling(file.getFileName() + ".corrupt-" + System.currentTimeMillis());
            LOG.warn("The config version history {} is unreadable ({}); moved to {}, starting a new history", file,
                    e.getMessage(), aside);
            try {
                Files.move(file, aside);
            } catch (IOException ignored) {
                // still unreadable next time; a new history overwrites it on the first write
            }
            v.versions.clear();
            v.rolledBack.clear();
        }
        return v;
    }

    /** @param before the config of the version before it, to describe the changes; null when not known */
    private static Version read(JsonNode n, BulwarkConfig before) {
        String json = n.path("config").toString();
        Optional<BulwarkConfig> config;
        try {
            // The token was redacted on disk; the redaction marker loads as a token and is replaced
            // by the running one before the config is used (see #restorable).
            config = Optional.of(ConfigLoader.parse(json));
        } catch (ConfigValidationException e) {
            LOG.warn("Config version {} from the history no longer loads ({}); it is listed but cannot be restored",
                    n.path("number").asInt(), e.problems().isEmpty() ? e.getMessage() : e.problems().get(0));
            config = Optional.empty();
        }
        Map<String, Object> detail = new LinkedHashMap<>();
        n.path("detail").fields().forEachRemaining(f -> detail.put(f.getKey(),
                f.getValue().isNumber() ? (Object) f.getValue().numberValue() : f.getValue().asText()));
        return new Version(n.path("number").asInt(), Instant.parse(n.path("time").asText()).toEpochMilli(),
                n.path("source").asText(), n.path("hash").asText(),
                config.map(c -> ConfigDiff.between(before, c)).orElse(ConfigDiff.EMPTY), detail, json, config);
    }

    /**
     * Records a config that took effect and returns its version.
     *
     * @param fromFile true when it is the file's content (start, reload): the running config matches the file
     *                 again; false for a rollback or a start on the last good version
     */
    public synchronized Version add(BulwarkConfig config, String source, String hash, Map<String, Object> detail,
                                    boolean fromFile, long nowMillis) {
        Version previous = versions.peekLast();
        ConfigDiff changes = previous == null || previous.config().isEmpty() ? ConfigDiff.initial(config)
                : ConfigDiff.between(previous.config().get(), config);
        Version v = new Version(previous == null ? 1 : previous.number() + 1, nowMillis, source, hash, changes, detail,
                ConfigLoader.toJson(config, true), Optional.of(config));
        versions.addLast(v);
        while (versions.size() > CAPACITY) {
            versions.removeFirst();
        }
        differsFromFile = !fromFile;
        if (fromFile) {
            rolledBack.remove(hash); // applied from the file again on purpose: no longer a rolled-back content
        }
        write();
        return v;
    }

    /** Remembers that {@code hash} was rolled back (a restart on it starts on the last good version). */
    public synchronized void markRolledBack(String hash) {
        rolledBack.add(hash);
        write();
    }

    public synchronized boolean rolledBack(String hash) {
        return rolledBack.contains(hash);
    }

    /** The running version; empty before the first. */
    public synchronized Optional<Version> current() {
        return Optional.ofNullable(versions.peekLast());
    }

    /** Newest first. */
    public synchronized List<Version> newestFirst() {
        List<Version> list = new ArrayList<>(versions);
        java.util.Collections.reverse(list);
        return list;
    }

    public synchronized Optional<Version> get(int number) {
        return versions.stream().filter(v -> v.number() == number).findFirst();
    }

    /**
     * The default target of a rollback: the newest version before the running one whose content
     * differs from it and was not itself rolled back.
     */
    public synchronized Optional<Version> previous() {
        Version running = versions.peekLast();
        if (running == null) {
            return Optional.empty();
        }
        List<Version> older = newestFirst();
        return older.stream().skip(1).filter(v -> !v.hash().equals(running.hash()) && !rolledBack.contains(v.hash()))
                .findFirst();
    }

    /** The newest version whose content was not rolled back and still loads (for a start on a rolled-back file). */
    public synchronized Optional<Version> lastGood() {
        return newestFirst().stream().filter(v -> !rolledBack.contains(v.hash()) && v.config().isPresent())
                .findFirst();
    }

    /** True after a rollback (or a start on the last good version) until the file's content is applied again. */
    public synchronized boolean differsFromFile() {
        return differsFromFile;
    }

    /**
     * Why the running config is not the file's, in one line for {@code /ready}'s body and
     * {@code /api/v1/config}; empty while it is the file's.
     */
    public synchronized Optional<String> note() {
        Version current = versions.peekLast();
        if (!differsFromFile || current == null) {
            return Optional.empty();
        }
        Object to = current.detail().get("rolled_back_to");
        Object restored = current.detail().get("restored_from");
        String why = to != null ? "rolled back to version " + to + " (" + current.detail().get("reason") + ")"
                : restored != null ? "started on version " + restored + " because the file holds rolled-back content"
                : "not the file's content";
        return Optional.of("running config version " + current.number() + " differs from the config file: " + why
                + "; the file is applied again when its content changes (watch-config) or on reload");
    }

    /**
     * The config of {@code v} ready to run: its own settings with the running admin token (a secret,
     * redacted in the history and not versioned: a rollback never changes who may call the admin API).
     */
    public static Optional<BulwarkConfig> restorable(Version v, Optional<String> runningToken) {
        return restorable(v, runningToken, Optional.empty());
    }

    /**
     * As {@link #restorable(Version, Optional)}, keeping the running {@code fleet} block too: like the
     * token, its Redis password is redacted in the history, and fleet mode is set at start.
     */
    public static Optional<BulwarkConfig> restorable(Version v, Optional<String> runningToken,
                                                     Optional<io.bulwark.config.FleetConfig> runningFleet) {
        return v.config().map(c -> {
            AdminConfig a = c.admin();
            return new BulwarkConfig(c.listener(), new AdminConfig(a.host(), a.port(), runningToken, a.stateFile()),
                    c.shutdown(), c.accessLog(), c.watchConfig(), c.reload(), c.clusters(), c.routes(),
                    runningFleet.isPresent() ? runningFleet : c.fleet());
        });
    }

    private void write() {
        if (file == null) {
            return;
        }
        ObjectNode root = StateJson.MAPPER.createObjectNode();
        root.put("format", FORMAT);
        ArrayNode list = root.putArray("versions");
        for (Version v : versions) {
            ObjectNode n = list.addObject();
            n.put("number", v.number());
            n.put("time", Instant.ofEpochMilli(v.timeMillis()).toString());
            n.put("source", v.source());
            n.put("hash", v.hash());
            n.set("detail", StateJson.MAPPER.valueToTree(v.detail()));
            try {
                n.set("config", StateJson.MAPPER.readTree(v.configJson()));
            } catch (IOException e) {
                throw new IllegalStateException("the config JSON does not parse", e);
            }
        }
        ArrayNode hashes = root.putArray("rolled_back");
        rolledBack.forEach(hashes::add);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.write(tmp, (StateJson.write(root) + "\n").getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.error("Cannot write the config version history {}: {} (versions will not survive a restart)", file,
                    e.toString());
        }
    }
}
