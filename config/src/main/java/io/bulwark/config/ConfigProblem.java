package io.bulwark.config;

/**
 * One thing wrong with a config file: the full path of the offending key and what is wrong,
 * e.g. {@code bulwark.routes[1].cluster: unknown cluster "usrs" (did you mean "users"?)}.
 */
public record ConfigProblem(String path, String message) {

    @Override
    public String toString() {
        return path + ": " + message;
    }
}
