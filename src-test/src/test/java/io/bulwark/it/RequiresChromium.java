package io.bulwark.it;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a browser test class only where a headless Chromium and its chromedriver are installed
 * (Debian {@code chromium} and {@code chromium-driver}; {@code .ci/run} installs them). Anywhere
 * else the class is skipped with one line on the build's console, except under {@code CI=true},
 * where a missing browser fails the class instead: CI must not pass by skipping it.
 */
public final class RequiresChromium implements ExecutionCondition, BeforeAllCallback {

    /** The browser binary ({@code -Dbulwark.chromium} to use another). */
    static Path chromium() {
        return Path.of(System.getProperty("bulwark.chromium", "/usr/bin/chromium"));
    }

    /** The driver: set explicitly, since Selenium Manager cannot download one here. */
    static Path chromedriver() {
        return Path.of(System.getProperty("bulwark.chromedriver", "/usr/bin/chromedriver"));
    }

    private static Optional<String> missing() {
        if (!Files.isExecutable(chromium())) {
            return Optional.of("no Chromium at " + chromium() + " (apt-get install chromium)");
        }
        if (!Files.isExecutable(chromedriver())) {
            return Optional.of("no chromedriver at " + chromedriver() + " (apt-get install chromium-driver)");
        }
        return Optional.empty();
    }

    private static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Optional<String> missing = missing();
        if (missing.isEmpty()) {
            return ConditionEvaluationResult.enabled("Chromium and chromedriver are installed");
        }
        if (ci()) {
            return ConditionEvaluationResult.enabled("CI=true: browser tests must run; they fail instead");
        }
        String reason = "browser tests skipped: " + missing.get() + "; with CI=true this fails instead";
        announce(reason);
        return ConditionEvaluationResult.disabled(reason);
    }

    private static final AtomicBoolean ANNOUNCED = new AtomicBoolean();

    /** Once per test JVM on the build's console (the forked JVM's own stderr, which surefire echoes). */
    @SuppressWarnings("resource") // the process's stderr stays open
    private static void announce(String reason) {
        if (ANNOUNCED.compareAndSet(false, true)) {
            PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
            err.println("[WARNING] " + reason);
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        missing().ifPresent(m -> {
            throw new IllegalStateException("CI=true and the browser tests cannot run: " + m);
        });
    }
}
