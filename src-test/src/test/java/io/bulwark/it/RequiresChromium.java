package io.bulwark.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Runs a browser test class only where a headless Chromium and its chromedriver are installed
 * (Debian {@code chromium} and {@code chromium-driver}; {@code .ci/run} installs them). Anywhere
 * else the class is skipped with one line on the build's console, except under {@code CI=true},
 * where a missing browser fails the class instead: CI must not pass by skipping it.
 */
public final class RequiresChromium extends RunsWhereItCan {

    public RequiresChromium() {
        super("browser tests", "Chromium and chromedriver are installed");
    }

    /** The browser binary ({@code -Dbulwark.chromium} to use another). */
    static Path chromium() {
        return Path.of(System.getProperty("bulwark.chromium", "/usr/bin/chromium"));
    }

    /** The driver: set explicitly, since Selenium Manager cannot download one here. */
    static Path chromedriver() {
        return Path.of(System.getProperty("bulwark.chromedriver", "/usr/bin/chromedriver"));
    }

    @Override
    protected Optional<String> missing() {
        if (!Files.isExecutable(chromium())) {
            return Optional.of("no Chromium at " + chromium() + " (apt-get install chromium)");
        }
        if (!Files.isExecutable(chromedriver())) {
            return Optional.of("no chromedriver at " + chromedriver() + " (apt-get install chromium-driver)");
        }
        return Optional.empty();
    }
}
