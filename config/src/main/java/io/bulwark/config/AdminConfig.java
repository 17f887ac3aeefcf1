package io.bulwark.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The admin API listener.
 *
 * @param token when present every {@code /api} call needs {@code Authorization: Bearer <token>}
 * @param stateFile when present operator overrides are persisted there and restored on start
 */
public record AdminConfig(String host, int port, Optional<String> token, Optional<Path> stateFile) {

    @Override
    public String toString() {
        // Never let the token reach a log line through toString().
        return "AdminConfig[host=" + host + ", port=" + port + ", token=" + (token.isPresent() ? "<redacted>" : "none")
                + ", stateFile=" + stateFile.map(Path::toString).orElse("none") + "]";
    }
}
