package io.bulwark.it.container;

import com.github.dockerjava.api.exception.NotFoundException;
import io.bulwark.it.RunsWhereItCan;
import org.testcontainers.DockerClientFactory;

import java.util.Locale;
import java.util.Optional;

/**
 * Runs a container test class only where it can run: Linux (the containers use host networking),
 * a reachable Docker daemon and the image {@link BulwarkContainer#IMAGE} built. Anywhere else the
 * class is skipped, with one line on the build's console saying why, except under {@code CI=true},
 * where a missing piece fails the class instead: CI must not pass by skipping them.
 */
public final class RequiresDocker extends RunsWhereItCan {

    public RequiresDocker() {
        super("container tests", "Docker and " + BulwarkContainer.IMAGE + " are available");
    }

    /** Checked once per test JVM: why the container tests cannot run here, if they cannot. */
    private static final class Probe {
        static final Optional<String> MISSING = probe();
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
    protected Optional<String> missing() {
        return Probe.MISSING;
    }
}
