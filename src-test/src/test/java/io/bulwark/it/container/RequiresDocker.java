package io.bulwark.it.container;

import com.github.dockerjava.api.exception.NotFoundException;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a container test class only where it can run: Linux (the containers use host networking),
 * a reachable Docker daemon and the image {@link BulwarkContainer#IMAGE} built. Anywhere else the
 * class is skipped, with one line on the build's console saying why, except under {@code CI=true},
 * where a missing piece fails the class instead: CI must not pass by skipping them.
 */
public final class RequiresDocker implements ExecutionCondition, BeforeAllCallback {

    /** Checked once per test JVM: why the container tests cannot run here, if they cannot. */
    private static final class Probe {
        static final Optional<String> MISSING = probe();
    }

    static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    private static Optional<String> probe() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return Optional.of("they need Linux (every container runs with host networking)");
        }
        boolean docker;
        try {
            docker = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            docker = false;
        }
        if (!docker) {
            return Optional.of("Docker is not available (no daemon answers on DOCKER_HOST or /var/run/docker.sock)");
        }
        try {
            DockerClientFactory.instance().client().inspectImageCmd(BulwarkContainer.IMAGE).exec();
        } catch (NotFoundException e) {
            return Optional.of("the image " + BulwarkContainer.IMAGE
                    + " is not built (build the jar, then run docker/build-image.sh)");
        }
        return Optional.empty();
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Optional<String> missing = Probe.MISSING;
        if (missing.isEmpty()) {
            return ConditionEvaluationResult.enabled("Docker and " + BulwarkContainer.IMAGE + " are available");
        }
        if (ci()) {
            return ConditionEvaluationResult.enabled("CI=true: container tests must run; they fail instead");
        }
        String reason = "container tests skipped: " + missing.get() + "; with CI=true this fails instead";
        announce(reason);
        return ConditionEvaluationResult.disabled(reason);
    }

    private static final AtomicBoolean ANNOUNCED = new AtomicBoolean();

    /**
     * Says once per test JVM, on the build's console, why the container tests are skipped. Through
     * the process's own stderr: surefire sends System.out and System.err of tests to report files
     * (redirectTestOutputToFile), but echoes what the forked JVM writes to its native stderr.
     */
    @SuppressWarnings("resource") // the process's stderr stays open
    private static void announce(String reason) {
        if (ANNOUNCED.compareAndSet(false, true)) {
            PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
            err.println("[WARNING] " + reason);
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        Probe.MISSING.ifPresent(missing -> {
            throw new IllegalStateException("CI=true and the container tests cannot run: " + missing);
        });
    }
}
