package io.bulwark.proxy.tls;

import io.netty.handler.ssl.SslProvider;

/** The TLS engine a context was built with: what {@code auto | openssl | jdk} resolved to. */
public enum TlsEngine {
    /**
     * BoringSSL through netty-tcnative (native code from the jar). Reference-counted engines: each
     * connection's native SSL is freed when its handler is removed, not by a finalizer after a GC.
     */
    OPENSSL("openssl", SslProvider.OPENSSL_REFCNT),
    /** The JDK's {@code SSLEngine}. */
    JDK("jdk", SslProvider.JDK);

    private final String configName;
    private final SslProvider provider;

    TlsEngine(String configName, SslProvider provider) {
        this.configName = configName;
        this.provider = provider;
    }

    /** {@code openssl} or {@code jdk}, as in the config and in {@code /api/v1/config}'s {@code tls_engine}. */
    public String configName() {
        return configName;
    }

    SslProvider sslProvider() {
        return provider;
    }
}
