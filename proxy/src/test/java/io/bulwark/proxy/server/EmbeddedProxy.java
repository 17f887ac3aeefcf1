package io.bulwark.proxy.server;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigLoader;
import io.bulwark.routing.Snapshot;
import io.bulwark.proxy.log.AccessLog;
import io.bulwark.proxy.metrics.ProxyMetrics;
import io.bulwark.proxy.pool.ConnectionPools;
import io.bulwark.proxy.tls.TlsContexts;
import io.bulwark.proxy.transport.Transport;
import io.bulwark.routing.Clock;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.EventSink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;

import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The data plane on embedded channels and a driven clock: one client connection (the real
 * {@link FrontendHandler} behind an HTTP/1 codec) and, for every upstream connection the pool
 * opens, an {@link EmbeddedChannel} the test reads the request from and writes the response into.
 * Time moves only by {@link #advance}, which runs every timer that falls due — no sleeps.
 */
final class EmbeddedProxy implements AutoCloseable {

    private final MockTicker ticker = Ticker.newMockTicker();
    private final EmbeddedChannel client;
    private final List<EmbeddedChannel> upstreams = new ArrayList<>();
    private boolean refuseConnections;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    EmbeddedProxy(String clustersAndRoutes) throws Exception {
        BulwarkConfig config = ConfigLoader.parse("bulwark {\n listener { port = 8080 }\n" + clustersAndRoutes + "\n}\n");
        Clock clock = new Clock() {
            @Override
            public long nanoTime() {
                return ticker.nanoTime();
            }

            @Override
            public long currentTimeMillis() {
                return System.currentTimeMillis();
            }
        };
        Snapshot snapshot = Snapshot.build(config, clock, Cluster.Resolver.SYSTEM, EventSink.NONE, null, null);
        client = EmbeddedChannel.builder().ticker(ticker).build();
        ConnectionPools pools = new ConnectionPools(client.eventLoop(), Transport.nio(), u -> Duration.ofSeconds(30),
                new TlsContexts(), (loop, address, timeout, initializer) -> {
                    EmbeddedChannel up = EmbeddedChannel.builder().ticker(ticker).handlers(initializer).build();
                    if (refuseConnections) {
                        up.close();
                        return up.newFailedFuture(new ConnectException("connection refused: " + address));
                    }
                    upstreams.add(up);
                    return up.newSucceededFuture();
                });
        ProxyContext proxy = new ProxyContext(new AtomicReference<>(snapshot), pools,
                new ProxyMetrics(registry), new AccessLog(registry, 100, clock),
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), new TlsContexts(), clock);
        FrontendHandler frontend = new FrontendHandler(proxy, config.listener());
        client.pipeline().addLast("request-start", new RequestStartDetector(frontend));
        client.pipeline().addLast("codec", new HttpServerCodec());
        client.pipeline().addLast("frontend", frontend);
        client.pipeline().fireChannelActive(); // the handlers came after the channel was active
    }

    void refuseConnections(boolean refuse) {
        this.refuseConnections = refuse;
    }

    /** Bytes from the client. */
    void clientSends(String raw) {
        client.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.US_ASCII));
        client.runPendingTasks();
    }

    /** Everything the proxy wrote to the client so far. */
    String clientReceived() {
        return drain(client);
    }

    boolean clientOpen() {
        return client.isActive();
    }

    /** Upstream connections opened so far, in order. */
    int upstreamConnections() {
        return upstreams.size();
    }

    /** Whether upstream connection {@code i} is still open (a cancelled try's is closed, never pooled). */
    boolean upstreamOpen(int i) {
        return upstreams.get(i).isActive();
    }

    /** The count of a counter in the proxy's metrics, 0 when it was never incremented. */
    double counter(String name, String... tags) {
        var c = registry.find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    /** Everything the proxy wrote to upstream connection {@code i}. */
    String upstreamReceived(int i) {
        return drain(upstreams.get(i));
    }

    /** Bytes from upstream connection {@code i} to the proxy. */
    void upstreamSends(int i, String raw) {
        upstreams.get(i).writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.US_ASCII));
        client.runPendingTasks();
    }

    /** Moves the clock and runs whatever falls due. */
    void advance(Duration by) {
        ticker.advance(by.toNanos(), TimeUnit.NANOSECONDS);
        client.runScheduledPendingTasks();
        client.runPendingTasks();
        for (EmbeddedChannel up : upstreams) {
            up.runPendingTasks();
        }
    }

    private static String drain(EmbeddedChannel channel) {
        StringBuilder out = new StringBuilder();
        Object msg;
        while ((msg = channel.readOutbound()) != null) {
            if (msg instanceof ByteBuf buf) {
                out.append(buf.toString(StandardCharsets.US_ASCII));
                buf.release();
            } else {
                io.netty.util.ReferenceCountUtil.release(msg);
            }
        }
        return out.toString();
    }

    @Override
    public void close() {
        for (EmbeddedChannel up : upstreams) {
            up.finishAndReleaseAll();
        }
        client.finishAndReleaseAll();
    }
}
