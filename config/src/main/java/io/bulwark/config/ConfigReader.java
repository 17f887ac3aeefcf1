package io.bulwark.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Reads one HOCON object (already merged with its defaults) while tracking the full path of
 * every key, so each problem can name exactly where it is ({@code bulwark.routes[1].cluster}).
 *
 * <p>Nothing here throws on bad input: a bad value is recorded in the shared {@link Problems}
 * and a harmless placeholder is returned so parsing goes on and finds every other problem of
 * the file. The result built from placeholders is thrown away, because {@link Problems} is
 * not empty by then.
 */
final class ConfigReader {

    /**
     * One value and the full path it was found at; {@code value} is null when the key is absent. The
     * path text is only built when asked for (a problem names it): a config of thousands of routes
     * reads hundreds of thousands of values, nearly all of them fine.
     */
    static final class Slot {
        private final Slot parent;
        private final String key;
        private final int index;
        private final ConfigValue value;
        private String path;

        Slot(String path, ConfigValue value) {
            this(null, null, -1, value);
            this.path = path;
        }

        private Slot(Slot parent, String key, int index, ConfigValue value) {
            this.parent = parent;
            this.key = key;
            this.index = index;
            this.value = value;
        }

        String path() {
            if (path == null) {
                path = key != null ? parent.path() + "." + quoteKey(key) : parent.path() + "[" + index + "]";
            }
            return path;
        }

        ConfigValue value() {
            return value;
        }

        boolean isPresent() {
            return value != null && value.valueType() != ConfigValueType.NULL;
        }
    }

    static final String DURATION_EXAMPLE = "like 250ms or 5s";

    private static final ConfigObject EMPTY = ConfigValueFactory.fromMap(Map.of());
    /** Parsed durations and sizes by their text (see {@link #parsedScalar}); bounded, shared by every load. */
    private static final int SCALAR_CACHE_LIMIT = 1024;
    private static final Map<String, Optional<Duration>> DURATIONS = new ConcurrentHashMap<>();
    private static final Map<String, Optional<Long>> SIZES = new ConcurrentHashMap<>();
    private static final String SCRATCH_KEY = "v";

    /** Where this object is; its path is built lazily, as every slot's. */
    private final Slot self;
    private final ConfigObject object;
    private final Problems problems;

    ConfigReader(String path, ConfigObject object, Problems problems) {
        this(new Slot(path, object), object, problems);
    }

    private ConfigReader(Slot self, ConfigObject object, Problems problems) {
        this.self = self;
        this.object = object;
        this.problems = problems;
    }

    /**
     * A reader over nothing whose problems go nowhere: what a block that already failed its
     * type check is read with, so one wrong value does not also report every key inside it.
     */
    static ConfigReader detached(String path) {
        return new ConfigReader(path, EMPTY, new Problems());
    }

    String path() {
        return self.path();
    }

    Problems problems() {
        return problems;
    }

    String pathOf(String key) {
        return path() + "." + quoteKey(key);
    }

    /** A key as it has to be written in a path: bare when it is a plain word, quoted otherwise. */
    static String quoteKey(String key) {
        return isBareKey(key) ? key : ConfigUtil.quoteString(key);
    }

    /** {@code [A-Za-z0-9_-]+}, without a regex: every key of every route passes through here. */
    private static boolean isBareKey(String key) {
        if (key.isEmpty()) {
            return false;
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    ConfigReader withDefaults(ConfigObject defaults) {
        return new ConfigReader(self, object.withFallback(defaults), problems);
    }

    void problem(String key, String message) {
        problems.add(pathOf(key), message);
    }

    void problemHere(String message) {
        problems.add(path(), message);
    }

    void problemAt(Slot slot, String message) {
        problems.add(slot.path(), message);
    }

    Slot slot(String key) {
        return new Slot(self, key, -1, object.get(key));
    }

    boolean has(String key) {
        return slot(key).isPresent();
    }

    /** Keys in the order they appear in the file (then by name, for keys of other origins). */
    List<String> keys() {
        List<String> keys = new ArrayList<>(object.keySet());
        keys.sort(Comparator.comparingInt((String k) -> object.get(k).origin().lineNumber())
                .thenComparing(Comparator.naturalOrder()));
        return keys;
    }

    /** Reports every key not in {@code known}, with a hint when a known key is close. */
    void rejectUnknownKeys(List<String> known) {
        for (String key : keys()) {
            if (!known.contains(key)) {
                String hint = DidYouMean.hint(key, known);
                problem(key, "unknown key" + (hint.isEmpty() ? " (known keys: " + String.join(", ", known) + ")" : hint));
            }
        }
    }

    // ---- objects and lists

    /** The object at {@code key}; absent or null = empty; a non-object is a problem. */
    Optional<ConfigReader> optionalObject(String key) {
        Slot slot = slot(key);
        return slot.isPresent() ? Optional.of(asObject(slot)) : Optional.empty();
    }

    /** The object at {@code key}, normally present through its defaults. */
    ConfigReader object(String key) {
        Slot slot = slot(key);
        if (!slot.isPresent()) {
            problemAt(slot, render(slot.value()) + " (expected: an object)");
            return detached(slot.path());
        }
        return asObject(slot);
    }

    ConfigReader asObject(Slot slot) {
        if (slot.value().valueType() != ConfigValueType.OBJECT) {
            problemAt(slot, render(slot.value()) + " (expected: an object { ... })");
            return detached(slot.path());
        }
        return new ConfigReader(slot, (ConfigObject) slot.value(), problems);
    }

    /** The elements of the list at {@code key}, each with its {@code [i]} path; absent = empty. */
    List<Slot> list(String key, String expectedElements) {
        Slot slot = slot(key);
        if (!slot.isPresent()) {
            return List.of();
        }
        if (slot.value().valueType() != ConfigValueType.LIST) {
            problemAt(slot, render(slot.value()) + " (expected: a list of " + expectedElements + ")");
            return List.of();
        }
        List<Slot> items = new ArrayList<>();
        List<?> values = (List<?>) slot.value();
        for (int i = 0; i < values.size(); i++) {
            items.add(new Slot(slot, null, i, (ConfigValue) values.get(i)));
        }
        return items;
    }

    // ---- scalars by key

    int integer(String key, int min, int max) {
        return integer(slot(key), min, max);
    }

    /** A percentage 0..100. */
    double percent(String key) {
        return number(slot(key), 0, true, 100, "a number 0..100");
    }

    /** A percentage that must be above zero, e.g. a circuit-breaker threshold. */
    double positivePercent(String key) {
        return number(slot(key), 0, false, 100, "a number > 0 and <= 100");
    }

    double positiveNumber(String key) {
        return number(slot(key), 0, false, Double.MAX_VALUE, "a number > 0");
    }

    /** A duration >= 0. */
    Duration duration(String key) {
        return duration(slot(key), false);
    }

    /** A duration > 0. */
    Duration positiveDuration(String key) {
        return duration(slot(key), true);
    }

    long bytes(String key, long min, long max, String expected) {
        return bytes(slot(key), min, max, expected);
    }

    boolean bool(String key) {
        Slot slot = slot(key);
        if (!requirePresent(slot, "true or false")) {
            return false;
        }
        if (slot.value().valueType() == ConfigValueType.BOOLEAN) {
            return (Boolean) slot.value().unwrapped();
        }
        try {
            return slot.value().atKey(SCRATCH_KEY).getBoolean(SCRATCH_KEY);
        } catch (ConfigException e) {
            problemAt(slot, render(slot.value()) + " (expected: true or false)");
            return false;
        }
    }

    String string(String key, String expected) {
        return string(slot(key), expected).orElse("");
    }

    /** Absent or null = empty; present but not a string = a problem. */
    Optional<String> optionalString(String key, String expected) {
        Slot slot = slot(key);
        return slot.isPresent() ? string(slot, expected) : Optional.empty();
    }

    <E> E choice(String key, Map<String, E> options, E placeholder) {
        return choice(slot(key), options).orElse(placeholder);
    }

    // ---- scalars by slot (also used for list elements)

    int integer(Slot slot, int min, int max) {
        String expected = max == Integer.MAX_VALUE ? "an integer >= " + min : "an integer " + min + ".." + max;
        if (!requirePresent(slot, expected)) {
            return min;
        }
        Optional<BigDecimal> n = numberOf(slot.value());
        if (n.isEmpty() || n.get().stripTrailingZeros().scale() > 0
                || n.get().compareTo(BigDecimal.valueOf(min)) < 0 || n.get().compareTo(BigDecimal.valueOf(max)) > 0) {
            problemAt(slot, render(slot.value()) + " (expected: " + expected + ")");
            return min;
        }
        return n.get().intValueExact();
    }

    double number(Slot slot, double min, boolean minInclusive, double max, String expected) {
        if (!requirePresent(slot, expected)) {
            return max;
        }
        Optional<BigDecimal> n = numberOf(slot.value());
        double d = n.map(BigDecimal::doubleValue).orElse(Double.NaN);
        boolean aboveMin = minInclusive ? d >= min : d > min;
        if (n.isEmpty() || !aboveMin || d > max) {
            problemAt(slot, render(slot.value()) + " (expected: " + expected + ")");
            return max;
        }
        return d;
    }

    Duration duration(Slot slot, boolean positive) {
        String expected = (positive ? "a duration > 0, " : "a duration >= 0, ") + DURATION_EXAMPLE;
        if (!requirePresent(slot, expected)) {
            return Duration.ZERO;
        }
        Optional<BigDecimal> unitless = numberOf(slot.value());
        if (unitless.isPresent() && unitless.get().signum() != 0) {
            // HOCON reads a bare number as milliseconds: `timeout = 15` would silently be 15ms.
            String n = unitless.get().stripTrailingZeros().toPlainString();
            problemAt(slot, render(slot.value()) + " has no unit (write " + n + "s or " + n + "ms)");
            return Duration.ZERO;
        }
        Duration d = parsedScalar(slot, DURATIONS, v -> v.atKey(SCRATCH_KEY).getDuration(SCRATCH_KEY));
        if (d == null) {
            problemAt(slot, render(slot.value()) + " (expected: " + expected + ")");
            return Duration.ZERO;
        }
        if (d.isNegative() || (positive && d.isZero())) {
            problemAt(slot, render(slot.value()) + " (expected: " + expected + ")");
            return Duration.ZERO;
        }
        return d;
    }

    long bytes(Slot slot, long min, long max, String expected) {
        if (!requirePresent(slot, expected)) {
            return min;
        }
        Long parsed = parsedScalar(slot, SIZES, v -> v.atKey(SCRATCH_KEY).getBytes(SCRATCH_KEY));
        if (parsed == null) {
            problemAt(slot, render(slot.value()) + " (expected: " + expected + ")");
            return min;
        }
        long n = parsed;
        if (n < min || n > max) {
            problemAt(slot, render(slot.value()) + " (expected: " + expected + ")");
            return min;
        }
        return n;
    }

    /** A scalar as a string (HOCON converts numbers and booleans); lists and objects are problems. */
    Optional<String> string(Slot slot, String expected) {
        if (!requirePresent(slot, expected)) {
            return Optional.empty();
        }
        ConfigValueType type = slot.value().valueType();
        if (type == ConfigValueType.LIST || type == ConfigValueType.OBJECT) {
            problemAt(slot, render(slot.value()) + " (expected: " + expected + ")");
            return Optional.empty();
        }
        if (type == ConfigValueType.STRING) {
            return Optional.of((String) slot.value().unwrapped()); // what getString returns, without a scratch Config
        }
        return Optional.of(slot.value().atKey(SCRATCH_KEY).getString(SCRATCH_KEY));
    }

    /** One of a fixed set of names, with a "did you mean" hint when the value is close to one. */
    <E> Optional<E> choice(Slot slot, Map<String, E> options) {
        String expected = "one of " + String.join(", ", options.keySet());
        Optional<String> s = string(slot, expected);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        E e = options.get(s.get());
        if (e == null) {
            Optional<String> suggestion = DidYouMean.suggest(s.get(), options.keySet());
            problemAt(slot, render(slot.value()) + " (expected: " + expected
                    + suggestion.map(x -> "; did you mean \"" + x + "\"?").orElse("") + ")");
            return Optional.empty();
        }
        return Optional.of(e);
    }

    /** Parses a scalar string with {@code parser}, which throws IllegalArgumentException saying what was expected. */
    <T> Optional<T> parsed(Slot slot, String expected, Function<String, T> parser) {
        Optional<String> s = string(slot, expected);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(parser.apply(s.get()));
        } catch (IllegalArgumentException e) {
            problemAt(slot, render(slot.value()) + " (" + e.getMessage() + ")");
            return Optional.empty();
        }
    }

    /**
     * Durations and sizes parsed by Typesafe Config, remembered by their text: a config of thousands
     * of routes repeats the same few ("15s", "25ms", "64KiB"), and parsing one through a scratch
     * {@code Config} costs far more than the lookup. Only string values are remembered (a bare number
     * means something else per unit); null when the value does not parse.
     */
    private static <T> T parsedScalar(Slot slot, Map<String, Optional<T>> cache, Function<ConfigValue, T> parse) {
        ConfigValue value = slot.value();
        if (value.valueType() != ConfigValueType.STRING) {
            try {
                return parse.apply(value);
            } catch (ConfigException e) {
                return null;
            }
        }
        Optional<T> known = cache.get((String) value.unwrapped());
        if (known == null) {
            try {
                known = Optional.of(parse.apply(value));
            } catch (ConfigException e) {
                known = Optional.empty();
            }
            if (cache.size() < SCALAR_CACHE_LIMIT) {
                cache.put((String) value.unwrapped(), known);
            }
        }
        return known.orElse(null);
    }

    private boolean requirePresent(Slot slot, String expected) {
        if (!slot.isPresent()) {
            problemAt(slot, render(slot.value()) + " (expected: " + expected + ")");
            return false;
        }
        return true;
    }

    /** Numbers, and strings that read as numbers (HOCON's automatic conversion). */
    private static Optional<BigDecimal> numberOf(ConfigValue value) {
        Object raw = value.unwrapped();
        if (value.valueType() == ConfigValueType.NUMBER || value.valueType() == ConfigValueType.STRING) {
            String text = raw.toString().trim();
            if (!mayBeNumber(text)) {
                return Optional.empty(); // "15s": no exception thrown and caught for every duration of every route
            }
            try {
                return Optional.of(new BigDecimal(text));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** Only the characters a {@link BigDecimal} can be written with. */
    private static boolean mayBeNumber(String text) {
        if (text.isEmpty()) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) {
                return false;
            }
        }
        return true;
    }

    /** How a value is shown in a message: strings quoted, numbers as written, containers by kind. */
    static String render(ConfigValue value) {
        if (value == null) {
            return "missing";
        }
        return switch (value.valueType()) {
            case STRING -> ConfigUtil.quoteString((String) value.unwrapped());
            case NUMBER, BOOLEAN -> value.render();
            case NULL -> "null";
            case LIST -> "a list";
            case OBJECT -> "an object";
        };
    }
}
