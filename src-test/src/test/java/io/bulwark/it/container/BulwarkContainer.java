package io.bulwark.it.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.startupcheck.StartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;

/**
 * The image {@code bulwark:local} (system property {@code bulwark.image}) as the tests run it:
 * host networking, so the proxy, its admin API and the WireMock upstreams of the test JVM all
 * talk over 127.0.0.1 with fixed ports, never over a Docker bridge; the config bind-mounted
 * read-only at {@code /etc/bulwark/bulwark.conf}; every log line kept for assertions. Only this
 * locally built image is ever used: nothing is pulled.
 */
final class BulwarkContainer extends GenericContainer<BulwarkContainer> {

    static final String IMAGE = System.getProperty("bulwark.image", "bulwark:local");
    static final String CONFIG_PATH = "/etc/bulwark/bulwark.conf";

    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final List<Bind> binds = new ArrayList<>();

    /** The config file {@code config} mounted read-only at {@code /etc/bulwark/bulwark.conf}. */
    BulwarkContainer(Path config) {
        this();
        readableByTheContainer(config, "rw-r--r--");
        binds.add(new Bind(config.toAbsolutePath().toString(), new Volume(CONFIG_PATH), AccessMode.ro));
    }

    private BulwarkContainer() {
        super(DockerImageName.parse(IMAGE));
        withNetworkMode("host");
        // Binds set on the create command itself: withFileSystemBind would first probe, with an
        // alpine image from Docker Hub, whether files can be mounted at all.
        withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withBinds(binds));
        withLogConsumer(this::keep);
        waitingFor(Wait.forLogMessage(".*Bulwark listening.*", 1).withStartupTimeout(Duration.ofSeconds(60)));
    }

    /**
     * The directory {@code dir} mounted read-only as {@code /etc/bulwark}, the way Kubernetes
     * mounts a ConfigMap: changes to the files in it (and symlink swaps) show in the container.
     */
    static BulwarkContainer withConfigDirectory(Path dir) {
        BulwarkContainer c = new BulwarkContainer();
        readableByTheContainer(dir, "rwxr-xr-x");
        c.binds.add(new Bind(dir.toAbsolutePath().toString(), new Volume("/etc/bulwark"), AccessMode.ro));
        return c;
    }

    /** A named Docker volume as {@code /var/lib/bulwark} (the image's VOLUME for state). */
    BulwarkContainer withStateVolume(String volumeName) {
        binds.add(new Bind(volumeName, new Volume("/var/lib/bulwark")));
        return this;
    }

    /** The container runs as uid 10001: what is mounted must be readable by others. */
    private static void readableByTheContainer(Path path, String permissions) {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** For a container that is expected to exit by itself: start() returns once it has exited. */
    BulwarkContainer expectingExit() {
        withStartupCheckStrategy(new StartupCheckStrategy() {
            @Override
            public StartupStatus checkStartupState(DockerClient docker, String containerId) {
                return Boolean.TRUE.equals(getCurrentState(docker, containerId).getRunning())
                        ? StartupStatus.NOT_YET_KNOWN : StartupStatus.SUCCESSFUL;
            }
        }.withTimeout(Duration.ofSeconds(60)));
        waitingFor(new AbstractWaitStrategy() {
            @Override
            protected void waitUntilReady() {
                // nothing to wait for: the startup check already waited for the exit
            }
        });
        return this;
    }

    private void keep(OutputFrame frame) {
        String text = frame.getUtf8StringWithoutLineEnding();
        if (frame.getType() != OutputFrame.OutputType.END && text != null) {
            lines.add(text);
        }
    }

    List<String> lines() {
        return lines;
    }

    String output() {
        return String.join("\n", lines);
    }

    /** Polls the admin {@code /ready} over loopback until it answers 200; fails at once if the container exits. */
    void awaitReady(int adminPort, Duration timeout) {
        HttpClient client = HttpClient.newHttpClient();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/ready"))
                .timeout(Duration.ofSeconds(1)).build();
        await("ready on admin port " + adminPort).atMost(timeout).pollInterval(Duration.ofMillis(50)).until(() -> {
            if (!isRunning()) {
                throw new AssertionError("the container exited:\n" + output());
            }
            try {
                return client.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException notYet) {
                return false; // not listening yet
            }
        });
    }

    /** {@code docker stop -t N}: the image's STOPSIGNAL (SIGTERM), SIGKILL after N seconds. */
    void dockerStop(int timeoutSeconds) {
        docker().stopContainerCmd(getContainerId()).withTimeout(timeoutSeconds).exec();
    }

    InspectContainerResponse.ContainerState state() {
        return docker().inspectContainerCmd(getContainerId()).exec().getState();
    }

    long exitCode() {
        return state().getExitCodeLong();
    }

    static DockerClient docker() {
        return DockerClientFactory.instance().client();
    }

    /**
     * A free TCP port on this host. The container shares the host's network, so its ports are
     * host ports; picked here and written into the config.
     */
    static int freePort() {
        return io.bulwark.it.Ports.free();
    }

    static boolean portFree(int port) {
        try (ServerSocket s = new ServerSocket(port)) {
            return s.isBound();
        } catch (IOException e) {
            return false;
        }
    }
}
