package io.bulwark.proxy.demo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The three in-process upstreams behind {@code bulwark demo}: {@code demo-healthy} answers at once,
 * {@code demo-slow} answers after a delay and {@code demo-flaky} fails every third request (see
 * {@link DemoUpstream} for the exact behaviour). They are small non-blocking Netty HTTP/1.1 servers
 * on loopback, sharing one event loop group that is separate from the proxy's, and
 * {@link #demoConfig(int, int)} gives the built-in config that puts the proxy in front of them.
 *
 * <pre>{@code
 * try (DemoUpstreams upstreams = DemoUpstreams.start(9001, 9002, 9003)) {
 *     String hocon = upstreams.demoConfig(8080, 9901);
 *     ...
 * }
 * }</pre>
 */
public final class DemoUpstreams implements AutoCloseable {

    /** Requests (body included) larger than this get 413 from the aggregator. */
    static final int MAX_REQUEST_BYTES = 1024 * 1024;
    static final String LOOPBACK = "127.0.0.1";
    private static final String CONFIG_RESOURCE = "demo.conf";

    private final EventLoopGroup group;
    private final List<Channel> servers;
    private final int healthyPort;
    private final int slowPort;
    private final int flakyPort;
    private final AtomicBoolean closed = new AtomicBoolean();

    private DemoUpstreams(EventLoopGroup group, List<Channel> servers) {
        this.group = group;
        this.servers = List.copyOf(servers);
        this.healthyPort = localPort(servers.get(0));
        this.slowPort = localPort(servers.get(1));
        this.flakyPort = localPort(servers.get(2));
    }

    /**
     * Starts the three upstreams on the given ports (0 = ephemeral) on loopback.
     *
     * @throws IllegalStateException when a port cannot be bound (e.g. it is in use); nothing is left running
     */
    public static DemoUpstreams start(int healthyPort, int slowPort, int flakyPort) throws InterruptedException {
        checkBindPort("healthy", healthyPort);
        checkBindPort("slow", slowPort);
        checkBindPort("flaky", flakyPort);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                2, new DefaultThreadFactory("bulwark-demo-upstream", true), NioIoHandler.newFactory());
        List<Channel> servers = new ArrayList<>(3);
        try {
            servers.add(bind(group, new DemoUpstream(DemoUpstream.Kind.HEALTHY), healthyPort));
            servers.add(bind(group, new DemoUpstream(DemoUpstream.Kind.SLOW), slowPort));
            servers.add(bind(group, new DemoUpstream(DemoUpstream.Kind.FLAKY), flakyPort));
            return new DemoUpstreams(group, servers);
        } catch (RuntimeException | InterruptedException e) {
            for (Channel server : servers) {
                server.close();
            }
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
            throw e;
        }
    }

    private static void checkBindPort(String what, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(what + " port " + port + " (expected: 0..65535)");
        }
    }

    private static Channel bind(EventLoopGroup group, DemoUpstream upstream, int port) throws InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        addHttpHandlers(ch.pipeline(), upstream);
                    }
                });
        ChannelFuture bound = bootstrap.bind(new InetSocketAddress(LOOPBACK, port)).await();
        if (!bound.isSuccess()) {
            Throwable cause = bound.cause();
            throw new IllegalStateException(upstream.kind().serverName() + " cannot listen on " + LOOPBACK + ":" + port
                    + ": " + cause.getMessage(), cause);
        }
        return bound.channel();
    }

    private static void addHttpHandlers(ChannelPipeline pipeline, DemoUpstream upstream) {
        pipeline.addLast("codec", new HttpServerCodec());
        pipeline.addLast("aggregator", new HttpObjectAggregator(MAX_REQUEST_BYTES));
        pipeline.addLast("demo", new DemoUpstreamHandler(upstream));
    }

    public int healthyPort() {
        return healthyPort;
    }

    public int slowPort() {
        return slowPort;
    }

    public int flakyPort() {
        return flakyPort;
    }

    /**
     * The built-in demo config (HOCON) with the proxy in front of these three upstreams.
     *
     * @param proxyPort the proxy listener's port, 1..65535
     * @param adminPort the admin API's port, 1..65535
     */
    public String demoConfig(int proxyPort, int adminPort) {
        return demoConfig(proxyPort, adminPort, healthyPort, slowPort, flakyPort);
    }

    /**
     * The built-in demo config for upstreams listening on the given loopback ports. Reads the
     * {@code demo.conf} resource next to this class and fills in its {@code @NAME@} placeholders.
     */
    public static String demoConfig(int proxyPort, int adminPort, int healthyPort, int slowPort, int flakyPort) {
        String template;
        try (InputStream in = DemoUpstreams.class.getResourceAsStream(CONFIG_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + CONFIG_RESOURCE + " is missing next to "
                        + DemoUpstreams.class.getName());
            }
            template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the demo config", e);
        }
        return template
                .replace("@PROXY_PORT@", port("proxy", proxyPort))
                .replace("@ADMIN_PORT@", port("admin", adminPort))
                .replace("@HEALTHY@", port("healthy", healthyPort))
                .replace("@SLOW@", port("slow", slowPort))
                .replace("@FLAKY@", port("flaky", flakyPort));
    }

    private static String port(String what, int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(what + " port " + port + " (expected: 1..65535)");
        }
        return Integer.toString(port);
    }

    private static int localPort(Channel server) {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Stops all three upstreams, closing open connections, and waits for the event loop group to terminate. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (Channel server : servers) {
            server.close().awaitUninterruptibly();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    @Override
    public String toString() {
        return "DemoUpstreams[healthy=" + LOOPBACK + ":" + healthyPort + ", slow=" + LOOPBACK + ":" + slowPort
                + ", flaky=" + LOOPBACK + ":" + flakyPort + "]";
    }
}
