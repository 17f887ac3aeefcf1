package io.bulwark.proxy.tls;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ClusterConfig;
import io.bulwark.config.HealthCheckConfig;
import io.bulwark.config.ServerTls;
import io.bulwark.config.TlsProvider;
import io.bulwark.routing.Upstream;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSslServerSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.ReferenceCountUtil;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSessionContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The TLS contexts of the proxy: the listener's (from {@code listener.tls}, rebuilt when a reload
 * names other files or the files changed, so a renewed certificate is picked up by a reload) and
 * the client ones for upstreams (system trust store, or a cluster's {@code tls-ca-file}), each on
 * the engine its {@code provider} resolves to: OpenSSL (BoringSSL) where it loads, else the JDK's.
 * Built by {@link #prepare} off the event loops; the event loops only read the caches.
 *
 * <p>The listener speaks TLS 1.3 and 1.2 only, with {@link #LISTENER_CIPHERS}, and resumes
 * sessions: with tickets (OpenSSL: keys from {@link SessionTicketKeys}, rotated by
 * {@link #rotateTicketKeys}; JDK: its own stateless tickets) and a server-side session cache.
 */
public final class TlsContexts implements AutoCloseable {

    /** TLS 1.3 and 1.2: everything older is broken or deprecated (RFC 8996). */
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    /**
     * The listener's cipher suites, in preference order: the three TLS 1.3 suites, then for TLS 1.2
     * only ECDHE key exchange (forward secrecy) with AEAD ciphers (Mozilla's "intermediate"
     * list). AES-GCM comes first: with AES-NI it is the fastest. Suites an engine lacks are dropped.
     */
    public static final List<String> LISTENER_CIPHERS = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    /** How long a resumable session lives; also how often the ticket key rotates (see {@link SessionTicketKeys}). */
    public static final Duration SESSION_TIMEOUT = Duration.ofHours(1);

    /** Sessions kept on the server for clients that resume by session id rather than by ticket. */
    static final int SESSION_CACHE_SIZE = 10_000;

    /** @param h2 whether ALPN offers {@code h2} before {@code http/1.1} ({@code listener.http2.enabled}) */
    private record ServerKey(ServerTls tls, boolean h2, long certModified, long keyModified) {
    }

    /** ALPN with {@code h2} preferred; a client that offers neither gets HTTP/1.1 (no ALPN answer). */
    private static final ApplicationProtocolConfig ALPN_H2 = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            // the only failure behaviours both engines (JDK and OpenSSL) support
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);

    /**
     * A client context per engine, CA and client certificate (with the files' times: a renewed file
     * makes a new one), and whether ALPN offers {@code h2} alone (a gRPC health check).
     */
    private record ClientKey(TlsEngine engine, Optional<Path> ca, Optional<Path> cert, Optional<Path> key,
                             long certModified, long keyModified, boolean h2) {
    }

    /** A client that speaks HTTP/2 only (a gRPC health check): ALPN offers {@code h2} alone. */
    private static final ApplicationProtocolConfig ALPN_H2_ONLY = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2);

    /**
     * Asked on first use, not at construction: loading BoringSSL (unpacking it to /tmp, linking it)
     * and seeding the ticket keys' SecureRandom are start-up time a proxy without TLS never needs.
     */
    private final Supplier<OpenSslSupport> detect;
    private volatile OpenSslSupport openSsl;
    private final Map<ClientKey, SslContext> clients = new ConcurrentHashMap<>();
    private volatile SessionTicketKeys ticketKeys;
    private volatile ServerKey serverKey;
    private volatile SslContext server;

    /** With the OpenSSL engine where this JVM can load it. */
    public TlsContexts() {
        this.detect = OpenSslSupport::detect;
    }

    /** @param support whether the OpenSSL engine can be used (tests pass an unavailable one) */
    public TlsContexts(OpenSslSupport support) {
        this.detect = () -> support;
    }

    /** @param detect asked once, on the first use of OpenSSL's support (tests count the calls) */
    TlsContexts(Supplier<OpenSslSupport> detect) {
        this.detect = detect;
    }

    /** Whether OpenSSL loads here, and which version it is (asked once, on the first call). */
    public OpenSslSupport openSsl() {
        OpenSslSupport known = openSsl;
        if (known == null) {
            synchronized (this) {
                if (openSsl == null) {
                    OpenSslSupport detected = detect.get();
                    ticketKeys = detected.available() ? new SessionTicketKeys(new SecureRandom()) : null;
                    openSsl = detected;
                }
                known = openSsl;
            }
        }
        return known;
    }

    /**
     * For the start-up line: {@link Engines#describe()} where the config uses TLS; without TLS,
     * "listener none (plain HTTP)" without asking whether OpenSSL loads (nothing would use it).
     */
    public String describe(BulwarkConfig config) {
        boolean anyTls = config.listener().tls().isPresent()
                || config.clusters().values().stream().anyMatch(ClusterConfig::tls);
        return anyTls ? engines(config).describe() : "TLS engine: listener none (plain HTTP)";
    }

    /**
     * What {@code provider} means here: {@code auto} is OpenSSL where it loads, else the JDK.
     *
     * @param path the config key that chose it, for the error
     * @throws TlsConfigException for {@code openssl} where it does not load
     */
    public TlsEngine engine(TlsProvider provider, String path) {
        return switch (provider) {
            case JDK -> TlsEngine.JDK;
            case AUTO -> openSsl().available() ? TlsEngine.OPENSSL : TlsEngine.JDK;
            case OPENSSL -> {
                OpenSslSupport openSsl = openSsl();
                if (!openSsl.available()) {
                    throw new TlsConfigException(path, "openssl (expected: auto or jdk on this machine: the OpenSSL "
                            + "engine cannot load: " + openSsl.unavailableBecause().orElse("unknown reason") + ")",
                            null);
                }
                yield TlsEngine.OPENSSL;
            }
        };
    }

    /**
     * Builds every context {@code config} needs (blocking file reads; not on an event loop), so a
     * setting that cannot work fails the start or the reload, not a connection.
     *
     * @throws TlsConfigException when a certificate, key or CA file cannot be used, or an engine cannot load
     */
    public void prepare(BulwarkConfig config) {
        boolean h2 = config.listener().http2().enabled();
        config.listener().tls().ifPresent(tls -> {
            ServerKey key = new ServerKey(tls, h2, modified(tls.certFile()), modified(tls.keyFile()));
            if (!key.equals(serverKey)) {
                build(key);
            }
        });
        for (ClusterConfig c : config.clusters().values()) {
            if (c.tls()) {
                // The cluster's own connections (ALPN h2 alone for protocol = http2), and a gRPC health
                // check's, which speaks h2 whatever the cluster's protocol.
                clientContext(c, c.protocol().http2());
                if (!c.protocol().http2() && c.healthCheck().map(HealthCheckConfig::grpc).orElse(false)) {
                    clientContext(c, true);
                }
            }
        }
    }

    /** The TLS engine of the listener and of each TLS cluster of {@code config}, for the admin API and the log. */
    public Engines engines(BulwarkConfig config) {
        Optional<TlsEngine> listener = config.listener().tls()
                .map(t -> engine(t.provider(), "bulwark.listener.tls.provider"));
        Map<String, TlsEngine> clusters = new LinkedHashMap<>();
        for (ClusterConfig c : config.clusters().values()) {
            if (c.tls()) {
                clusters.put(c.name(), engine(c.tlsOptions().provider(), clusterPath(c)));
            }
        }
        return new Engines(listener, clusters, openSsl());
    }

    /**
     * The engines in use.
     *
     * @param listener empty for a plain-HTTP listener
     * @param clusters the engine of each cluster with {@code tls = true}
     */
    public record Engines(Optional<TlsEngine> listener, Map<String, TlsEngine> clusters, OpenSslSupport openSsl) {

        /** For the start-up line: {@code listener openssl (BoringSSL), upstreams jdk}. */
        public String describe() {
            StringBuilder s = new StringBuilder("TLS engine: listener ");
            s.append(listener.map(this::name).orElse("none (plain HTTP)"));
            if (!clusters.isEmpty()) {
                s.append(", upstreams ");
                if (clusters.values().stream().distinct().count() == 1) {
                    s.append(name(clusters.values().iterator().next()));
                } else {
                    s.append(String.join(", ", clusters.entrySet().stream()
                            .map(e -> e.getKey() + "=" + e.getValue().configName()).toList()));
                }
            }
            if (!openSsl.available()) {
                s.append(" (OpenSSL unavailable: ").append(openSsl.unavailableBecause().orElse("?")).append(')');
            }
            return s.toString();
        }

        private String name(TlsEngine engine) {
            return engine == TlsEngine.OPENSSL
                    ? engine.configName() + openSsl.version().map(v -> " (" + v + ")").orElse("")
                    : engine.configName();
        }
    }

    /**
     * A server TLS handler for a new downstream connection on a listener with {@code tls}.
     *
     * @param h2 offer {@code h2} by ALPN (the listener's {@code http2.enabled})
     */
    public SslHandler serverHandler(ByteBufAllocator alloc, ServerTls tls, boolean h2) {
        return serverContext(tls, h2).newHandler(alloc);
    }

    /** The listener's context for {@code tls}: the one {@link #prepare} built, unless the config names another. */
    public SslContext serverContext(ServerTls tls, boolean h2) {
        ServerKey key = serverKey;
        if (key == null || !key.tls().equals(tls) || key.h2() != h2) {
            build(new ServerKey(tls, h2, modified(tls.certFile()), modified(tls.keyFile())));
        }
        return server;
    }

    private synchronized void build(ServerKey key) {
        if (key.equals(serverKey)) {
            return;
        }
        ServerTls tls = key.tls();
        TlsEngine engine = engine(tls.provider(), "bulwark.listener.tls.provider");
        SslContext context;
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(tls.certFile().toFile(), tls.keyFile().toFile());
            if (key.h2()) {
                builder.applicationProtocolConfig(ALPN_H2);
            }
            context = builder
                    .sslProvider(engine.sslProvider())
                    .protocols(PROTOCOLS)
                    .ciphers(LISTENER_CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .sessionCacheSize(SESSION_CACHE_SIZE)
                    .sessionTimeout(SESSION_TIMEOUT.toSeconds())
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new TlsConfigException("bulwark.listener.tls", "cannot use " + tls.certFile() + " and "
                    + tls.keyFile() + ": " + e.getMessage(), e);
        }
        installTicketKeys(context);
        SslContext previous = server;
        server = context;
        serverKey = key;
        // Open connections keep the old context alive through their engines; ours goes.
        ReferenceCountUtil.release(previous);
    }

    /** Releases the native contexts (OpenSSL); the event loops must be done with them. */
    @Override
    public synchronized void close() {
        ReferenceCountUtil.release(server);
        server = null;
        serverKey = null;
        clients.values().forEach(ReferenceCountUtil::release);
        clients.clear();
    }

    /**
     * A new session ticket key for the listener: new tickets are encrypted with it, tickets of the
     * previous key still resume, older ones make a full handshake. Called every
     * {@link #SESSION_TIMEOUT}; a no-op on the JDK engine, which rotates its own.
     */
    public synchronized void rotateTicketKeys() {
        if (ticketKeys != null) {
            ticketKeys.rotate();
            SslContext current = server;
            if (current != null) {
                installTicketKeys(current);
            }
        }
    }

    private void installTicketKeys(SslContext context) {
        SSLSessionContext sessions = context.sessionContext();
        if (sessions instanceof OpenSslServerSessionContext openSslSessions && ticketKeys != null) {
            // Setting keys is also what turns tickets on: Netty's OpenSSL contexts start without them.
            openSslSessions.setTicketKeys(ticketKeys.keys());
        }
    }

    private SslContext clientContext(ClusterConfig cluster, boolean h2) {
        TlsEngine engine = engine(cluster.tlsOptions().provider(), clusterPath(cluster));
        var options = cluster.tlsOptions();
        ClientKey clientKey = new ClientKey(engine, options.caFile(), options.certFile(), options.keyFile(),
                options.certFile().map(TlsContexts::modified).orElse(0L),
                options.keyFile().map(TlsContexts::modified).orElse(0L), h2);
        SslContext existing = clients.get(clientKey);
        if (existing != null) {
            return existing;
        }
        // A renewed client certificate or key: the context of the old files goes (connections already
        // made keep their engines).
        clients.keySet().removeIf(k -> {
            boolean replaced = k.engine() == clientKey.engine() && k.h2() == clientKey.h2() && k.ca().equals(clientKey.ca())
                    && k.cert().equals(clientKey.cert()) && k.key().equals(clientKey.key()) && !k.equals(clientKey);
            if (replaced) {
                ReferenceCountUtil.release(clients.get(k));
            }
            return replaced;
        });
        return clients.computeIfAbsent(clientKey, key -> {
            SslContextBuilder builder = SslContextBuilder.forClient()
                    .sslProvider(key.engine().sslProvider())
                    .protocols(PROTOCOLS);
            if (key.h2()) {
                builder.applicationProtocolConfig(ALPN_H2_ONLY);
            }
            String path = "bulwark.clusters." + cluster.name();
            try {
                if (key.ca().isPresent()) {
                    builder.trustManager(key.ca().get().toFile());
                }
            } catch (IllegalArgumentException e) {
                throw new TlsConfigException(path + ".tls-ca-file", "cannot use the CA file " + key.ca().get() + ": "
                        + e.getMessage(), e);
            }
            try {
                if (key.cert().isPresent() && key.key().isPresent()) {
                    builder.keyManager(key.cert().get().toFile(), key.key().get().toFile()); // upstream mTLS
                }
            } catch (IllegalArgumentException e) {
                throw new TlsConfigException(path + ".tls-cert-file", "cannot use the client certificate "
                        + key.cert().get() + " with the key " + key.key().get() + ": " + e.getMessage(), e);
            }
            try {
                return builder.build();
            } catch (SSLException | IllegalArgumentException e) {
                String where = key.cert().isPresent() ? ".tls-cert-file" : key.ca().isPresent() ? ".tls-ca-file" : ".tls";
                throw new TlsConfigException(path + where, "cannot create the TLS context: " + e.getMessage(), e);
            }
        });
    }

    private static String clusterPath(ClusterConfig cluster) {
        return "bulwark.clusters." + cluster.name() + ".tls-provider";
    }

    /**
     * A client TLS handler for a connection to {@code upstream}: SNI and hostname verification
     * against the cluster's {@code tls-server-name}, else the endpoint's host.
     */
    public SslHandler clientHandler(ByteBufAllocator alloc, Upstream upstream, ClusterConfig cluster) {
        return clientHandler(alloc, upstream, cluster, false);
    }

    /** @param h2 ALPN offers {@code h2} alone (an HTTP/2-only client: the gRPC health check) */
    public SslHandler clientHandler(ByteBufAllocator alloc, Upstream upstream, ClusterConfig cluster, boolean h2) {
        SslContext ctx = clientContext(cluster, h2);
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
