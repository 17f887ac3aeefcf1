package io.bulwark.config;

import java.time.Duration;

/** @param drainTimeout how long in-flight requests may run after SIGTERM before the process exits anyway */
public record ShutdownConfig(Duration drainTimeout) {
}
