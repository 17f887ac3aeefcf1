package io.bulwark.proxy.health;

import io.bulwark.proxy.transport.Transport;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.health.ProbeResult;
import io.bulwark.routing.health.Prober;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.bulwark.config.ClusterConfig;
import io.bulwark.proxy.tls.TlsContexts;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.ReferenceCountUtil;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Active HTTP health checks over Netty: each probe opens its own connection (never a pooled
 * one, so a check measures the upstream and not a reused socket), sends
 * {@code GET <path>} with {@code Connection: close} and reports the status line. The check
 * scheduler owns timing and thresholds; this only does the I/O, on one event loop.
 */
public final class NettyProber implements Prober {

    private final EventLoop loop;
    private final Transport transport;
    private final TlsContexts tls;
    private final ClusterConfig cluster;

    /** @param tls makes the client TLS handler for a cluster with {@code tls = true} */
    public NettyProber(EventLoop loop, Transport transport, TlsContexts tls, ClusterConfig cluster) {
        this.loop = loop;
        this.transport = transport;
        this.tls = tls;
        this.cluster = cluster;
    }

    @Override
    public void probe(Upstream upstream, String path, Duration timeout, Consumer<ProbeResult> done) {
        Once once = new Once(done);
        long millis = Math.max(1, timeout.toMillis());
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(transport.socketChannelClass())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, millis))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (cluster.tls()) {
                            ch.pipeline().addLast(tls.clientHandler(ch.alloc(), upstream, cluster));
                        }
                        ch.pipeline()
                                .addLast(new ReadTimeoutHandler(millis, TimeUnit.MILLISECONDS))
                                .addLast(new HttpClientCodec())
                                .addLast(new StatusReader(once));
                    }
                });
        b.connect(upstream.socketAddress()).addListener(f -> {
            if (!f.isSuccess()) {
                once.accept(ProbeResult.connectFailure(String.valueOf(f.cause().getMessage())));
                return;
            }
            Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
            DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
            request.headers()
                    .set(HttpHeaderNames.HOST, upstream.address())
                    .set(HttpHeaderNames.USER_AGENT, "bulwark-health-check")
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ch.writeAndFlush(request);
        });
    }

    /** Reports the first response's status, then closes; anything else is an error. */
    private static final class StatusReader extends ChannelInboundHandlerAdapter {
        private final Once done;

        StatusReader(Once done) {
            this.done = done;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpObject http && http.decoderResult().isFailure()) {
                    done.accept(ProbeResult.error("malformed response"));
                    ctx.close();
                } else if (msg instanceof HttpResponse response && response.status().code() >= 200) {
                    done.accept(ProbeResult.response(response.status().code()));
                    ctx.close();
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.accept(ProbeResult.error("connection closed before a response"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.accept(cause instanceof io.netty.handler.timeout.ReadTimeoutException
                    ? ProbeResult.timeout() : ProbeResult.error(String.valueOf(cause.getMessage())));
            ctx.close();
        }
    }

    /** Calls the scheduler's callback exactly once, whatever happens first. */
    private static final class Once implements Consumer<ProbeResult> {
        private final Consumer<ProbeResult> done;
        private boolean called;

        Once(Consumer<ProbeResult> done) {
            this.done = done;
        }

        @Override
        public void accept(ProbeResult result) {
            if (!called) {
                called = true;
                done.accept(result);
            }
        }
    }
}
