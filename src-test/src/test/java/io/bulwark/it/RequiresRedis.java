package io.bulwark.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Runs a fleet test class only where a {@code redis-server} binary is installed (Debian
 * {@code redis-server}; {@code .ci/run} installs it). The tests start their own server on a free
 * port ({@link RedisServer}), so they can kill and restart it. Anywhere else the class is skipped
 * with one line on the build's console, except under {@code CI=true}, where it fails instead.
 */
public final class RequiresRedis extends RunsWhereItCan {

    public RequiresRedis() {
        super("fleet tests", "redis-server is installed");
    }

    /** The server binary ({@code -Dbulwark.redis-server} to use another). */
    static Path redisServer() {
        return Path.of(System.getProperty("bulwark.redis-server", "/usr/bin/redis-server"));
    }

    @Override
    protected Optional<String> missing() {
        if (!Files.isExecutable(redisServer())) {
            return Optional.of("no redis-server at " + redisServer() + " (apt-get install redis-server)");
        }
        return Optional.empty();
    }
}
