package io.bulwark.proxy.server;

import io.bulwark.config.ListenerConfig;
import io.bulwark.proxy.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The client-facing listener. Each accepted connection gets a pipeline built in named steps:
 * TLS, HTTP/2 detection (ALPN, or the h2c preface), request-start detection (for the header
 * timeout), the HTTP/1 codec with the listener's size limits, the idle timer, and the
 * {@link FrontendHandler}; an HTTP/2 connection swaps the HTTP/1 steps for {@link Http2Frontend}'s.
 */
public final class ProxyServer {

    private final ProxyContext proxy;
    private final Transport transport;
    private final EventLoopGroup group;
    private Channel serverChannel;
    private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong refused = new java.util.concurrent.atomic.AtomicLong();

    /** Downstream connections open now. */
    public int openConnections() {
        return open.get();
    }

    /** Connections closed on accept because max-connections was reached. */
    public long refusedConnections() {
        return refused.get();
    }

    public ProxyServer(ProxyContext proxy, Transport transport, EventLoopGroup group) {
        this.proxy = proxy;
        this.transport = transport;
        this.group = group;
    }

    /** Binds the listener of the current snapshot's config; blocks until bound. */
    public InetSocketAddress start() throws InterruptedException {
        ListenerConfig listener = proxy.snapshot().config().listener();
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .option(ChannelOption.RCVBUF_ALLOCATOR, acceptsPerRead(listener))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // Limits come from the config in force when the connection is accepted.
                        ListenerConfig current = proxy.snapshot().config().listener();
                        if (open.incrementAndGet() > current.maxConnections()) {
                            // Over max-connections (a flood of slow clients): refuse at once, before any
                            // byte is read or buffered, so memory and descriptors stay bounded.
                            open.decrementAndGet();
                            refused.incrementAndGet();
                            ch.close();
                            return;
                        }
                        ch.closeFuture().addListener(f -> open.decrementAndGet());
                        initPipeline(ch.pipeline(), current);
                        proxy.connections().add(ch);
                    }
                });
        serverChannel = bootstrap.bind(listener.host(), listener.port()).sync().channel();
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /**
     * How many connections one turn of the event loop accepts. A new TLS connection costs a full
     * handshake; a burst of them taken 16 at a time (Netty's default) makes the requests of open
     * connections wait behind all those handshakes. A few per turn interleaves the two: the rest
     * wait in the kernel's accept queue, costing nothing (#15, "handshakes off the hot path's way").
     */
    private static io.netty.channel.RecvByteBufAllocator acceptsPerRead(ListenerConfig listener) {
        int perRead = listener.tls().isPresent() ? Integer.getInteger("bulwark.tls.accepts-per-read", 4) : 16;
        return new io.netty.channel.ServerChannelRecvByteBufAllocator().maxMessagesPerRead(Math.max(1, perRead));
    }

    void initPipeline(ChannelPipeline p, ListenerConfig listener) {
        FrontendHandler frontend = new FrontendHandler(proxy, listener);
        addTls(p, listener);
        addHttp2Detection(p, listener);
        addRequestStartDetector(p, frontend);
        p.addLast("strict-http", new io.bulwark.proxy.http.StrictHttpScanner());
        addCodec(p, listener);
        addIdleTimeout(p, listener);
        p.addLast("frontend", frontend);
    }

    /** TLS first, when the listener has it; the context follows the config in force (and its files). */
    private void addTls(ChannelPipeline p, ListenerConfig listener) {
        listener.tls().ifPresent(tls -> p.addLast("tls",
                proxy.tls().serverHandler(p.channel().alloc(), tls, listener.http2().enabled())));
    }

    /** The HTTP/1 handlers, which a connection that turns out to speak HTTP/2 loses. */
    private static final String[] HTTP1_HANDLERS = {"request-start", "strict-http", "codec", "idle", "frontend"};

    /**
     * With {@code listener.http2} on, the step that tells HTTP/2 from HTTP/1: ALPN after TLS, the
     * client preface on plaintext (h2c with prior knowledge). On HTTP/2 the HTTP/1 handlers make way
     * for {@link Http2Frontend}'s.
     */
    private void addHttp2Detection(ChannelPipeline p, ListenerConfig listener) {
        if (!listener.http2().enabled()) {
            return;
        }
        String name = listener.tls().isPresent() ? "alpn" : "h2c-preface";
        Runnable switchToHttp2 = () -> {
            for (String http1 : HTTP1_HANDLERS) {
                if (p.get(http1) != null) {
                    p.remove(http1);
                }
            }
            Http2Frontend.install(p, name, proxy, listener);
        };
        p.addLast(name, listener.tls().isPresent() ? new AlpnSwitch(switchToHttp2) : new H2cPrefaceDetector(switchToHttp2));
    }

    private static void addRequestStartDetector(ChannelPipeline p, FrontendHandler frontend) {
        p.addLast("request-start", new RequestStartDetector(frontend));
    }

    private static void addCodec(ChannelPipeline p, ListenerConfig listener) {
        HttpDecoderConfig decoder = new HttpDecoderConfig()
                .setMaxInitialLineLength(listener.maxInitialLineLength())
                .setMaxHeaderSize(listener.maxHeaderSize())
                .setMaxChunkSize(16 * 1024)
                .setAllowDuplicateContentLengths(false)
                .setAllowPartialChunks(true)
                .setValidateHeaders(true)
                .setStrictLineParsing(true);
        p.addLast("codec", new HttpServerCodec(decoder));
    }

    private static void addIdleTimeout(ChannelPipeline p, ListenerConfig listener) {
        long idle = listener.idleTimeout().toMillis();
        if (idle > 0) {
            p.addLast("idle", new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS));
        }
    }

    public InetSocketAddress localAddress() {
        return serverChannel == null ? null : (InetSocketAddress) serverChannel.localAddress();
    }

    /** Stops accepting new connections; open ones are left to finish. */
    public void stopAccepting() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
    }
}
