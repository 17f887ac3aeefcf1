package io.bulwark.it;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs a test class only where what it needs is there (a browser, Docker and the image...).
 * Anywhere else the class is skipped, with one line on the build's console saying why, except
 * under {@code CI=true}, where a missing piece fails the class instead: CI must not pass by
 * skipping it. Subclasses say what is missing, if anything.
 */
public abstract class RunsWhereItCan implements ExecutionCondition, BeforeAllCallback {

    private static final Set<String> ANNOUNCED = ConcurrentHashMap.newKeySet();

    private final String tests;
    private final String available;

    /**
     * @param tests what the tests are called in messages, e.g. "container tests"
     * @param available what is said when everything is there
     */
    protected RunsWhereItCan(String tests, String available) {
        this.tests = tests;
        this.available = available;
    }

    /** Why the tests cannot run here, or empty when they can. */
    protected abstract Optional<String> missing();

    public static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Optional<String> missing = missing();
        if (missing.isEmpty()) {
            return ConditionEvaluationResult.enabled(available);
        }
        if (ci()) {
            return ConditionEvaluationResult.enabled("CI=true: " + tests + " must run; they fail instead");
        }
        String reason = tests + " skipped: " + missing.get() + "; with CI=true this fails instead";
        announce(reason);
        return ConditionEvaluationResult.disabled(reason);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        missing().ifPresent(m -> {
            throw new IllegalStateException("CI=true and the " + tests + " cannot run: " + m);
        });
    }

    /**
     * Says once per test JVM and kind, on the build's console, why the tests are skipped. Through the
     * process's own stderr: surefire sends System.out and System.err of tests to report files
     * (redirectTestOutputToFile), but echoes what the forked JVM writes to its native stderr.
     */
    @SuppressWarnings("resource") // the process's stderr stays open
    private void announce(String reason) {
        if (ANNOUNCED.add(tests)) {
            PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
            err.println("[WARNING] " + reason);
        }
    }
}
