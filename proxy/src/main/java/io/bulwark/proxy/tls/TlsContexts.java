package io.bulwark.proxy.tls;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ClusterConfig;
import io.bulwark.config.ServerTls;
import io.bulwark.routing.Upstream;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The TLS contexts of the proxy: the listener's (from {@code listener.tls}, rebuilt when a reload
 * names other files or the files changed, so a renewed certificate is picked up by a reload) and
 * the client ones for upstreams (system trust store, or a cluster's {@code tls-ca-file}). Built by
 * {@link #prepare} off the event loops; the event loops only read the caches.
 */
public final class TlsContexts {

    private record ServerKey(Path cert, Path key, long certModified, long keyModified) {
    }

    private final SslContext systemTrust;
    private final Map<Path, SslContext> byCa = new ConcurrentHashMap<>();
    private volatile ServerKey serverKey;
    private volatile SslContext server;

    public TlsContexts() {
        try {
            systemTrust = SslContextBuilder.forClient().build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot create the upstream TLS context: " + e.getMessage(), e);
        }
    }

    /**
     * Builds every context {@code config} needs (blocking file reads; not on an event loop).
     *
     * @throws IllegalArgumentException when a certificate, key or CA file cannot be used
     */
    public void prepare(BulwarkConfig config) {
        config.listener().tls().ifPresent(this::serverContext);
        for (ClusterConfig c : config.clusters().values()) {
            c.tlsOptions().caFile().ifPresent(this::caContext);
        }
    }

    /** The listener's context for {@code tls}, built on first use or when the files changed. */
    public SslContext serverContext(ServerTls tls) {
        ServerKey key = new ServerKey(tls.certFile(), tls.keyFile(), modified(tls.certFile()),
                modified(tls.keyFile()));
        if (!key.equals(serverKey)) {
            synchronized (this) {
                if (!key.equals(serverKey)) {
                    try {
                        server = SslContextBuilder.forServer(tls.certFile().toFile(), tls.keyFile().toFile()).build();
                    } catch (SSLException | IllegalArgumentException e) {
                        throw new IllegalArgumentException("listener TLS: cannot use " + tls.certFile() + " and "
                                + tls.keyFile() + ": " + e.getMessage(), e);
                    }
                    serverKey = key;
                }
            }
        }
        return server;
    }

    private SslContext caContext(Path ca) {
        return byCa.computeIfAbsent(ca, path -> {
            try {
                return SslContextBuilder.forClient().trustManager(path.toFile()).build();
            } catch (SSLException | IllegalArgumentException e) {
                throw new IllegalArgumentException("cannot use the CA file " + path + ": " + e.getMessage(), e);
            }
        });
    }

    /**
     * A client TLS handler for a connection to {@code upstream}: SNI and hostname verification
     * against the cluster's {@code tls-server-name}, else the endpoint's host.
     */
    public SslHandler clientHandler(ByteBufAllocator alloc, Upstream upstream, ClusterConfig cluster) {
        SslContext ctx = cluster.tlsOptions().caFile().map(this::caContext).orElse(systemTrust);
        String name = cluster.tlsOptions().serverName().orElse(upstream.socketAddress().getHostString());
        SslHandler handler = ctx.newHandler(alloc, name, upstream.socketAddress().getPort());
        SSLEngine engine = handler.engine();
        SSLParameters params = engine.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS"); // verify the certificate names the upstream
        engine.setSSLParameters(params);
        return handler;
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return -1;
        }
    }
}
