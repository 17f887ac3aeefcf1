package io.bulwark.config;

import java.time.Duration;
import java.util.Optional;

/**
 * A route's {@code fallback}: what a client gets instead of an error when the route's upstreams
 * fail it after its retries.
 *
 * @param staleIfError serve a kept copy of a successful GET/HEAD response up to this old; empty = no copies kept
 * @param maxSize bound, in bytes, of the route's kept copies (bodies and fields)
 * @param fixed a configured reply for when there is no copy (or none is kept); empty = none
 */
public record FallbackConfig(Optional<Duration> staleIfError, long maxSize, Optional<Fixed> fixed) {

    /** A fixed fallback reply. */
    public record Fixed(int status, String body, String contentType) {
    }
}
