package io.bulwark.config;

import java.util.Locale;

/**
 * Which TLS engine terminates or originates a TLS connection: {@code listener.tls.provider} and a
 * cluster's {@code tls-provider}.
 */
public enum TlsProvider {
    /** OpenSSL (BoringSSL, bundled) when its native library loads on this machine, else the JDK's engine. */
    AUTO,
    /** OpenSSL (BoringSSL) only: a proxy that cannot load it refuses to start. */
    OPENSSL,
    /** The JDK's own engine. */
    JDK;

    /** The name in the config file: {@code auto}, {@code openssl}, {@code jdk}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
