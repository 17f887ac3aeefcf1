package io.bulwark.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Options for TLS to a cluster's upstreams (with {@code tls = true}).
 *
 * @param caFile PEM certificates to trust instead of the system trust store
 * @param serverName the name sent as SNI and verified in the upstream's certificate; by default the
 *     endpoint's host name (or IP literal)
 * @param provider the TLS engine of the upstream connections ({@code tls-provider})
 * @param certFile the PEM certificate chain Bulwark presents to the upstreams (mTLS); with {@code keyFile}
 * @param keyFile the PEM private key of {@code certFile}
 */
public record UpstreamTls(Optional<Path> caFile, Optional<String> serverName, TlsProvider provider,
                          Optional<Path> certFile, Optional<Path> keyFile) {

    public static final UpstreamTls DEFAULT = new UpstreamTls(Optional.empty(), Optional.empty(), TlsProvider.AUTO);

    public UpstreamTls(Optional<Path> caFile, Optional<String> serverName) {
        this(caFile, serverName, TlsProvider.AUTO);
    }

    /** Without a client certificate. */
    public UpstreamTls(Optional<Path> caFile, Optional<String> serverName, TlsProvider provider) {
        this(caFile, serverName, provider, Optional.empty(), Optional.empty());
    }
}
