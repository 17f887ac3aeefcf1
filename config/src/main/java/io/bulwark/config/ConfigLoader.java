package io.bulwark.config;

import java.nio.file.Path;

/** Loads and validates a Bulwark config. (Being written: see the config helper.) */
public final class ConfigLoader {

    private ConfigLoader() {
    }

    public static BulwarkConfig load(Path file) throws ConfigValidationException {
        throw new UnsupportedOperationException("not yet");
    }

    public static BulwarkConfig parse(String hocon) throws ConfigValidationException {
        throw new UnsupportedOperationException("not yet");
    }
}
