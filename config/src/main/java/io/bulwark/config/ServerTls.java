package io.bulwark.config;

import java.nio.file.Path;

/** TLS on the downstream listener: a PEM certificate chain and its PEM (PKCS#8) private key. */
public record ServerTls(Path certFile, Path keyFile) {
}
