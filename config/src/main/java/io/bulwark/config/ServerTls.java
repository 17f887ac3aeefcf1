package io.bulwark.config;

import java.nio.file.Path;

/**
 * TLS on the downstream listener: a PEM certificate chain, its PEM (PKCS#8) private key, and the
 * engine that runs it.
 */
public record ServerTls(Path certFile, Path keyFile, TlsProvider provider) {

    /** With the engine chosen automatically (OpenSSL where it loads). */
    public ServerTls(Path certFile, Path keyFile) {
        this(certFile, keyFile, TlsProvider.AUTO);
    }
}
