package io.bulwark.config;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Collects every problem of one config in the order they were found, so a load reports all of
 * them at once instead of stopping at the first. The same problem is kept once.
 */
final class Problems {

    private final Set<ConfigProblem> problems = new LinkedHashSet<>();

    void add(String path, String message) {
        problems.add(new ConfigProblem(path, message));
    }

    boolean isEmpty() {
        return problems.isEmpty();
    }

    List<ConfigProblem> list() {
        return List.copyOf(problems);
    }

    /** Ends a load: nothing to do when clean, otherwise the exception carrying every problem. */
    void throwIfAny() throws ConfigValidationException {
        if (!problems.isEmpty()) {
            throw new ConfigValidationException(list());
        }
    }
}
