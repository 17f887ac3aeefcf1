package io.bulwark.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The {@code bulwark.fleet} block: the Redis that the sidecars of one service share, for global
 * rate limits, fleet-wide operator overrides and the members list. Absent = single-process mode.
 *
 * @param redis the Redis URI as Lettuce reads it ({@code redis://}, {@code rediss://} for TLS,
 *     {@code redis-sentinel://}); may carry a password, so never log it: use {@link #redactedRedis()}
 * @param passwordFile a file whose first line is the Redis password (overrides one in the URI)
 * @param name the fleet's namespace in Redis: every key is {@code bulwark:{name}:...}
 * @param memberTtl a sidecar not heard from for this long is no longer a member
 * @param onRedisDown what a global rate limit does while Redis cannot answer
 * @param timeout how long a Redis call may take before this sidecar treats Redis as down for it
 *     (the data plane never waits for Redis either way; this bounds how stale a decision may be)
 */
public record FleetConfig(String redis, Mode mode, Optional<Path> passwordFile, String name, Duration memberTtl,
                          OnRedisDown onRedisDown, Duration timeout) {

    public enum Mode { STANDALONE, SENTINEL, CLUSTER }

    /** {@code local}: the global rate divided by the live members last seen; {@code deny}: 429. */
    public enum OnRedisDown { LOCAL, DENY }

    /** The URI with any password replaced by {@code <redacted>}, for logs and the admin API. */
    public String redactedRedis() {
        return redact(redis);
    }

    /** {@code scheme://user:secret@host} -> {@code scheme://user:<redacted>@host}; anything else unchanged. */
    public static String redact(String uri) {
        int scheme = uri.indexOf("://");
        if (scheme < 0) {
            return uri;
        }
        int start = scheme + 3;
        int at = uri.lastIndexOf('@');
        if (at < start) {
            return uri;
        }
        String userInfo = uri.substring(start, at);
        int colon = userInfo.indexOf(':');
        String user = colon >= 0 ? userInfo.substring(0, colon) : "";
        return uri.substring(0, start) + user + ":<redacted>" + uri.substring(at);
    }

    @Override
    public String toString() {
        return "FleetConfig[redis=" + redactedRedis() + ", mode=" + mode + ", passwordFile="
                + passwordFile.map(Path::toString).orElse("none") + ", name=" + name + ", memberTtl=" + memberTtl
                + ", onRedisDown=" + onRedisDown + ", timeout=" + timeout + "]";
    }
}
