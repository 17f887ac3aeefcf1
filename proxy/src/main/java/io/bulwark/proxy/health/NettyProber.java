package io.bulwark.proxy.health;

import io.bulwark.config.ClusterConfig;
import io.bulwark.proxy.tls.TlsContexts;
import io.bulwark.proxy.transport.Transport;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.health.ProbeResult;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Active HTTP health checks over Netty, on one event loop, over one kept-alive connection per
 * upstream (as Envoy's {@code reuse_connection}): a check writes {@code GET <path>} on the upstream's
 * connection and reports the status once the whole response is read (by a
 * {@link HealthResponseParser}, which frames it without allocating). A new connection is made only
 * when there is none, the last one was closed (by either side, or by a {@code Connection: close}
 * response) or a check on it failed or timed out; so a check costs one write and one read, not a
 * connect, a handshake and a close. The request bytes are built once per upstream.
 *
 * <p>Reuse must not hide a broken host:
 * <ul>
 *   <li>a host that hangs never answers, and the scheduler counts the timeout; it then calls
 *       {@link #timedOut}, which closes the connection (its request is still outstanding), so the
 *       next check connects afresh;</li>
 *   <li>a host that closes the connection during a check fails that check. Only when a reused
 *       connection closes before any byte of the answer, which is also how an idle connection the
 *       upstream closed at the same moment looks, is the check sent once more on a new connection;
 *       a host that closes that one too fails the check, and a dead one fails it to connect.</li>
 * </ul>
 * The scheduler owns timing and thresholds; this only does the I/O. Every method runs on the
 * prober's event loop (calls from elsewhere are handed to it).
 */
public final class NettyProber extends KeptConnectionProber<NettyProber.Probe> {

    private static final String USER_AGENT = "bulwark-health-check";

    private final Transport transport;
    private final TlsContexts tls;
    private final ClusterConfig cluster;

    /** @param tls makes the client TLS handler for a cluster with {@code tls = true} */
    public NettyProber(EventLoop loop, Transport transport, TlsContexts tls, ClusterConfig cluster) {
        super(loop);
        this.transport = transport;
        this.tls = tls;
        this.cluster = cluster;
    }

    @Override
    Probe open(Upstream upstream, String path) {
        return new Probe(upstream, path);
    }

    @Override
    boolean serves(Probe probe, String path) {
        return probe.path.equals(path);
    }

    /** One upstream's connection and the check in flight on it. */
    final class Probe extends ChannelInboundHandlerAdapter implements ChannelFutureListener, KeptConnectionProber.Kept {

        private final Upstream upstream;
        private final String path;
        /** {@code GET path}, built once off-heap (written without a copy); a duplicate each time, so never consumed. */
        private final ByteBuf request;
        private final HealthResponseParser parser = new HealthResponseParser();
        private Channel channel;
        private Consumer<ProbeResult> pending;
        /** The check in flight was written on a connection an earlier check used. */
        private boolean onReusedConnection;
        /** Some of the answer to the check in flight has arrived. */
        private boolean answering;
        private int connectTimeoutMillis;

        Probe(Upstream upstream, String path) {
            this.upstream = upstream;
            this.path = path;
            String head = "GET " + path + " HTTP/1.1\r\nHost: " + upstream.address() + "\r\nUser-Agent: " + USER_AGENT
                    + "\r\n\r\n";
            byte[] bytes = head.getBytes(StandardCharsets.ISO_8859_1);
            this.request = Unpooled.unreleasableBuffer(
                    Unpooled.wrappedBuffer(ByteBuffer.allocateDirect(bytes.length).put(bytes).flip()));
        }

        @Override
        public void start(Consumer<ProbeResult> done, int timeoutMillis) {
            if (pending != null) {
                abandon(); // the scheduler moved on without telling us; never queue behind an unanswered check
            }
            pending = done;
            answering = false;
            parser.reset();
            connectTimeoutMillis = timeoutMillis;
            if (channel != null && channel.isActive()) {
                onReusedConnection = true;
                send();
            } else {
                connect();
            }
        }

        private void connect() {
            onReusedConnection = false;
            closeChannel();
            Bootstrap b = new Bootstrap()
                    .group(loop)
                    .channel(transport.socketChannelClass())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            if (cluster.tls()) {
                                ch.pipeline().addLast(tls.clientHandler(ch.alloc(), upstream, cluster));
                            }
                            ch.pipeline().addLast(Probe.this);
                        }
                    });
            ChannelFuture connecting = b.connect(upstream.socketAddress());
            channel = connecting.channel();
            connecting.addListener(this);
        }

        /** The connect finished. */
        @Override
        public void operationComplete(ChannelFuture future) {
            if (future.channel() != channel) {
                return; // a connection given up on meanwhile
            }
            if (!future.isSuccess()) {
                channel = null;
                complete(ProbeResult.connectFailure(String.valueOf(future.cause().getMessage())), false);
                return;
            }
            if (pending != null) {
                send();
            }
        }

        private void send() {
            channel.writeAndFlush(request.duplicate(), channel.voidPromise());
        }

        @Override
        public boolean isSharable() {
            return true; // added to each new connection of this upstream in turn, one at a time
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (ctx.channel() != channel || !(msg instanceof ByteBuf in)) {
                    return;
                }
                if (pending == null) {
                    closeChannel(); // bytes nobody asked for: the connection is out of step
                    return;
                }
                answering = true;
                int read = parser.feed(in);
                if (read == HealthResponseParser.DONE) {
                    // Bytes after the response would be out of step with the next check: do not keep.
                    complete(ProbeResult.response(parser.status()), parser.keepAlive() && !in.isReadable());
                } else if (read == HealthResponseParser.FAILED) {
                    complete(ProbeResult.error(parser.failure()), false);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ctx.channel() != channel) {
                return;
            }
            channel = null;
            if (pending == null) {
                return; // an idle kept connection closed: the next check connects again
            }
            if (parser.untilClose()) {
                parser.closed();
                complete(ProbeResult.response(parser.status()), false); // a body that ends with the connection
                return;
            }
            if (onReusedConnection && !answering) {
                connect(); // an idle close racing our request; the check decides on a fresh connection
                return;
            }
            complete(ProbeResult.error("connection closed before a response"), false);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (ctx.channel() == channel && pending != null) {
                complete(ProbeResult.error(String.valueOf(cause.getMessage())), false);
            } else {
                ctx.close();
            }
        }

        /** Reports the check in flight; keeps the connection for the next check only if {@code keep}. */
        private void complete(ProbeResult result, boolean keep) {
            Consumer<ProbeResult> done = pending;
            pending = null;
            answering = false;
            if (!keep) {
                closeChannel();
            }
            if (done != null) {
                done.accept(result);
            }
        }

        /** Drops the check in flight without reporting it; its connection cannot be reused. */
        @Override
        public void abandon() {
            if (pending != null) {
                pending = null;
                answering = false;
                closeChannel();
            }
        }

        @Override
        public void close() {
            pending = null;
            closeChannel();
        }

        private void closeChannel() {
            Channel ch = channel;
            channel = null;
            if (ch != null) {
                ch.close();
            }
        }
    }
}
