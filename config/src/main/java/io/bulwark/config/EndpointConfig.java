package io.bulwark.config;

/**
 * One configured endpoint. {@code host} is an IP literal or a hostname; a hostname is
 * re-resolved every {@code dns-refresh} and each resolved address becomes an upstream.
 */
public record EndpointConfig(String host, int port, int weight) {

    /** {@code host:port}, the form the admin API uses. */
    public String address() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
