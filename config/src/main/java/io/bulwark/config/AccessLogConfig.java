package io.bulwark.config;

/** @param enabled one JSON line per request on stdout; false = no access log at all */
public record AccessLogConfig(boolean enabled) {
}
