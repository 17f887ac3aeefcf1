package io.bulwark.config;

/**
 * What a consistent-hash balancer hashes on: {@code header:NAME}, {@code cookie:NAME} or {@code client-ip}.
 *
 * @param name the header or cookie name; empty for client-ip. Header names are lower case.
 */
public record HashKey(Source source, String name) {

    public enum Source { HEADER, COOKIE, CLIENT_IP }

    @Override
    public String toString() {
        return switch (source) {
            case HEADER -> "header:" + name;
            case COOKIE -> "cookie:" + name;
            case CLIENT_IP -> "client-ip";
        };
    }
}
