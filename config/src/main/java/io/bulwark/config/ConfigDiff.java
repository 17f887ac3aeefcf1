package io.bulwark.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What changed from one config to the next, for the summary of a config version: clusters and
 * routes added, removed and changed (with the keys that changed), and the other settings that
 * changed. Routes are matched by name; a route without a name is called {@code route-<index>}, so
 * moving an unnamed route makes it look removed and added — name your routes.
 *
 * @param clustersChanged by cluster name, the changed keys as dotted paths ({@code pool.idle-timeout})
 * @param routesChanged by route name, the changed keys as dotted paths ({@code cluster}, {@code retry.max-retries})
 * @param settingsChanged changed keys outside clusters and routes ({@code listener.idle-timeout})
 * @param routesReordered the routes both configs have are in a different match order
 */
public record ConfigDiff(List<String> clustersAdded, List<String> clustersRemoved,
                         Map<String, List<String>> clustersChanged, List<String> routesAdded,
                         List<String> routesRemoved, Map<String, List<String>> routesChanged,
                         List<String> settingsChanged, boolean routesReordered) {

    /** No change (also what is shown for a version whose config is no longer known). */
    public static final ConfigDiff EMPTY = new ConfigDiff(List.of(), List.of(), Map.of(), List.of(), List.of(),
            Map.of(), List.of(), false);

    public ConfigDiff {
        clustersAdded = List.copyOf(clustersAdded);
        clustersRemoved = List.copyOf(clustersRemoved);
        clustersChanged = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(clustersChanged));
        routesAdded = List.copyOf(routesAdded);
        routesRemoved = List.copyOf(routesRemoved);
        routesChanged = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(routesChanged));
        settingsChanged = List.copyOf(settingsChanged);
    }

    /** The summary of the first config: everything in it is added. */
    public static ConfigDiff initial(BulwarkConfig config) {
        return between(null, config);
    }

    /** @param before null for the first config */
    @SuppressWarnings("unchecked")
    public static ConfigDiff between(BulwarkConfig before, BulwarkConfig after) {
        Map<String, Object> a = before == null ? Map.of() : ConfigJson.tree(before, false);
        Map<String, Object> b = ConfigJson.tree(after, false);
        List<String> settings = new ArrayList<>();
        if (before != null) {
            for (Map.Entry<String, Object> e : b.entrySet()) {
                if (!e.getKey().equals("clusters") && !e.getKey().equals("routes")) {
                    changedKeys(e.getKey(), a.get(e.getKey()), e.getValue(), settings);
                }
            }
        }
        Map<String, Object> clustersBefore = (Map<String, Object>) a.getOrDefault("clusters", Map.of());
        Map<String, Object> clustersAfter = (Map<String, Object>) b.get("clusters");
        List<String> clustersAdded = new ArrayList<>();
        Map<String, List<String>> clustersChanged = new LinkedHashMap<>();
        clustersAfter.forEach((name, cluster) -> {
            Object old = clustersBefore.get(name);
            if (old == null) {
                clustersAdded.add(name);
            } else {
                List<String> keys = new ArrayList<>();
                changedKeys("", old, cluster, keys);
                if (!keys.isEmpty()) {
                    clustersChanged.put(name, keys);
                }
            }
        });
        List<String> clustersRemoved = clustersBefore.keySet().stream().filter(n -> !clustersAfter.containsKey(n))
                .toList();
        Map<String, Object> routesBefore = byName((List<Object>) a.getOrDefault("routes", List.of()));
        Map<String, Object> routesAfter = byName((List<Object>) b.get("routes"));
        List<String> routesAdded = new ArrayList<>();
        Map<String, List<String>> routesChanged = new LinkedHashMap<>();
        routesAfter.forEach((name, route) -> {
            Object old = routesBefore.get(name);
            if (old == null) {
                routesAdded.add(name);
            } else {
                List<String> keys = new ArrayList<>();
                changedKeys("", old, route, keys);
                if (!keys.isEmpty()) {
                    routesChanged.put(name, keys);
                }
            }
        });
        List<String> routesRemoved = routesBefore.keySet().stream().filter(n -> !routesAfter.containsKey(n)).toList();
        List<String> keptBefore = routesBefore.keySet().stream().filter(routesAfter::containsKey).toList();
        List<String> keptAfter = routesAfter.keySet().stream().filter(routesBefore::containsKey).toList();
        return new ConfigDiff(clustersAdded, clustersRemoved, clustersChanged, routesAdded, routesRemoved,
                routesChanged, settings, !keptBefore.equals(keptAfter));
    }

    /** Nothing changed at all (a reload of the same content). */
    public boolean empty() {
        return clustersAdded.isEmpty() && clustersRemoved.isEmpty() && clustersChanged.isEmpty()
                && routesAdded.isEmpty() && routesRemoved.isEmpty() && routesChanged.isEmpty()
                && settingsChanged.isEmpty() && !routesReordered;
    }

    /** One line for logs and events, e.g. {@code routes changed: api (cluster); clusters added: bad}. */
    public String describe() {
        List<String> parts = new ArrayList<>();
        part(parts, "clusters added", clustersAdded);
        part(parts, "clusters removed", clustersRemoved);
        if (!clustersChanged.isEmpty()) {
            parts.add("clusters changed: " + changes(clustersChanged));
        }
        part(parts, "routes added", routesAdded);
        part(parts, "routes removed", routesRemoved);
        if (!routesChanged.isEmpty()) {
            parts.add("routes changed: " + changes(routesChanged));
        }
        if (routesReordered) {
            parts.add("routes reordered");
        }
        part(parts, "settings changed", settingsChanged);
        return parts.isEmpty() ? "no change" : String.join("; ", parts);
    }

    private static void part(List<String> parts, String label, List<String> names) {
        if (!names.isEmpty()) {
            parts.add(label + ": " + String.join(", ", names));
        }
    }

    private static String changes(Map<String, List<String>> changed) {
        List<String> items = new ArrayList<>();
        changed.forEach((name, keys) -> items.add(name + " (" + String.join(", ", keys) + ")"));
        return String.join(", ", items);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> byName(List<Object> routes) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Object r : routes) {
            m.put((String) ((Map<String, Object>) r).get("name"), r);
        }
        return m;
    }

    /** Adds the dotted paths under {@code path} where the two trees differ; lists count as one value. */
    @SuppressWarnings("unchecked")
    private static void changedKeys(String path, Object a, Object b, List<String> out) {
        if (a instanceof Map && b instanceof Map) {
            Map<String, Object> ma = (Map<String, Object>) a;
            Map<String, Object> mb = (Map<String, Object>) b;
            java.util.Set<String> keys = new java.util.LinkedHashSet<>(mb.keySet());
            keys.addAll(ma.keySet());
            for (String k : keys) {
                changedKeys(path.isEmpty() ? k : path + "." + k, ma.get(k), mb.get(k), out);
            }
        } else if (!Objects.equals(a, b)) {
            out.add(path);
        }
    }
}
