package io.bulwark.proxy.health;

import io.bulwark.config.ClusterConfig;
import io.bulwark.proxy.tls.TlsContexts;
import io.bulwark.proxy.transport.Transport;
import io.bulwark.routing.GrpcStatus;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.health.ProbeResult;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.AsciiString;

import java.util.function.Consumer;

/**
 * Active gRPC health checks ({@code health-check.grpc-service}): each check is one call of
 * {@code grpc.health.v1.Health/Check} for the configured service, on a stream of its own over one
 * kept HTTP/2 connection per upstream: h2c with prior knowledge, or h2 over TLS (ALPN offering
 * {@code h2} alone, the cluster's CA, server name and client certificate) when the cluster has
 * {@code tls = true}. A check passes only on
 * {@code grpc-status 0} with the serving status SERVING; NOT_SERVING, SERVICE_UNKNOWN, an error
 * status (NOT_FOUND for a service the server does not know), a malformed answer, a reset or a
 * closed connection fail it. Timing and thresholds are the scheduler's, as for {@link NettyProber};
 * a check that timed out closes the connection, so a hung host is reconnected to afresh.
 *
 * <p>Every method runs on the prober's event loop (calls from elsewhere are handed to it).
 */
public final class GrpcHealthProber extends KeptConnectionProber<GrpcHealthProber.Connection> {

    static final String PATH = "/grpc.health.v1.Health/Check";
    private static final AsciiString USER_AGENT = AsciiString.cached("bulwark-health-check");
    private static final AsciiString APPLICATION_GRPC = AsciiString.cached("application/grpc");

    private final Transport transport;
    private final TlsContexts tls;
    private final ClusterConfig cluster;
    private final AsciiString scheme;
    private final byte[] request;

    /**
     * @param tls makes the client TLS handler for a cluster with {@code tls = true}
     * @param service the service asked about ("" = the server as a whole)
     */
    public GrpcHealthProber(EventLoop loop, Transport transport, TlsContexts tls, ClusterConfig cluster,
                            String service) {
        super(loop);
        this.transport = transport;
        this.tls = tls;
        this.cluster = cluster;
        this.scheme = AsciiString.cached(cluster.tls() ? "https" : "http");
        this.request = GrpcHealthMessages.request(service);
    }

    @Override
    Connection open(Upstream upstream, String path) {
        return new Connection(upstream);
    }

    @Override
    boolean serves(Connection c, String path) {
        return true; // the path is always the health service's
    }

    /** One upstream's HTTP/2 connection and the check in flight on it. */
    final class Connection implements KeptConnectionProber.Kept {

        private final Upstream upstream;
        private Channel channel;
        private Consumer<ProbeResult> pending;
        /** The stream of the check in flight, once open. */
        private GrpcHealthCall call;
        private int timeoutMillis;

        Connection(Upstream upstream) {
            this.upstream = upstream;
        }

        @Override
        public void start(Consumer<ProbeResult> done, int timeoutMillis) {
            if (pending != null) {
                abandon(); // never queue behind an unanswered check
            }
            pending = done;
            this.timeoutMillis = timeoutMillis;
            if (channel != null && channel.isActive()) {
                openStream();
            } else {
                connect();
            }
        }

        private void connect() {
            closeChannel();
            Bootstrap b = new Bootstrap()
                    .group(loop)
                    .channel(transport.socketChannelClass())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            if (cluster.tls()) {
                                ch.pipeline().addLast(tls.clientHandler(ch.alloc(), upstream, cluster, true));
                            }
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                                    .initialSettings(Http2Settings.defaultSettings().pushEnabled(false))
                                    .build());
                            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        }
                    });
            ChannelFuture connecting = b.connect(upstream.socketAddress());
            Channel ch = connecting.channel();
            channel = ch;
            connecting.addListener(f -> {
                if (channel != ch) {
                    return; // given up on meanwhile
                }
                if (!f.isSuccess()) {
                    channel = null;
                    complete(ProbeResult.connectFailure(String.valueOf(f.cause().getMessage())));
                    return;
                }
                ch.closeFuture().addListener(closed -> {
                    if (channel == ch) {
                        channel = null; // the next check connects again
                    }
                });
                if (pending != null) {
                    openStream();
                }
            });
        }

        private void openStream() {
            Channel parent = channel;
            GrpcHealthCall opening = new GrpcHealthCall(this::complete);
            call = opening;
            new Http2StreamChannelBootstrap(parent).handler(opening).open().addListener(f -> {
                if (call != opening) {
                    if (f.isSuccess()) {
                        ((Channel) f.getNow()).close();
                    }
                    return;
                }
                if (!f.isSuccess()) {
                    complete(ProbeResult.error("cannot open a stream: " + f.cause().getMessage()));
                    return;
                }
                Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
                Http2Headers headers = new DefaultHttp2Headers()
                        .method("POST")
                        .scheme(scheme)
                        .path(PATH)
                        .authority(upstream.address());
                headers.set("content-type", APPLICATION_GRPC)
                        .set("te", "trailers")
                        .set("user-agent", USER_AGENT)
                        .set(GrpcStatus.TIMEOUT_HEADER, timeoutMillis + "m");
                stream.write(new DefaultHttp2HeadersFrame(headers, false));
                stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(request), true));
            });
        }

        /**
         * Reports the check in flight, once. The connection stays for the next check whatever the
         * answer (a stream's end or reset says nothing of it); when it closed, the next check connects again.
         */
        void complete(GrpcHealthCall from, ProbeResult result) {
            if (call == from) {
                complete(result);
            }
        }

        private void complete(ProbeResult result) {
            Consumer<ProbeResult> done = pending;
            pending = null;
            call = null;
            if (done != null) {
                done.accept(result);
            }
        }

        /** Drops the check in flight without reporting it, and the connection with it. */
        @Override
        public void abandon() {
            pending = null;
            call = null;
            closeChannel();
        }

        @Override
        public void close() {
            abandon();
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
