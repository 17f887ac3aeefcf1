package io.bulwark.proxy.pool;

import io.bulwark.routing.Upstream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * One connection to an upstream, and the last handler of its pipeline. While a request uses it,
 * it hands every decoded response part to that request's {@link Listener}; while it sits idle in
 * the pool, anything the upstream sends (data or a close) retires it, so a connection the
 * upstream closed is never handed to a new request.
 */
public final class UpstreamConnection extends ChannelInboundHandlerAdapter {

    /** What the request using a connection hears from it. Called on the connection's event loop. */
    public interface Listener {
        void onUpstreamResponse(UpstreamConnection connection, HttpResponse response);

        void onUpstreamContent(UpstreamConnection connection, HttpContent content);

        void onUpstreamReadComplete(UpstreamConnection connection);

        void onUpstreamWritable(UpstreamConnection connection);

        /** The connection closed or failed before the response was complete. */
        void onUpstreamClosed(UpstreamConnection connection, Throwable cause);
    }

    private final ConnectionPool pool;
    private final Upstream upstream;
    private Channel channel;
    private Listener listener;
    private boolean reused;
    private ScheduledFuture<?> idleTimer;

    UpstreamConnection(ConnectionPool pool, Upstream upstream) {
        this.pool = pool;
        this.upstream = upstream;
    }

    public Upstream upstream() {
        return upstream;
    }

    public Channel channel() {
        return channel;
    }

    /** True when this connection served an earlier request (so a failure may be the keep-alive race). */
    public boolean reused() {
        return reused;
    }

    /** Gives the connection to a request; its response parts go to {@code listener} from now on. */
    public void bind(Listener listener) {
        this.listener = listener;
    }

    /** Returns the connection to its pool (the request is done with it and the response was complete). */
    public void release() {
        listener = null;
        reused = true;
        pool.release(this);
    }

    /** Closes the connection instead of pooling it (its state is unknown or the request was abandoned). */
    public void discard() {
        listener = null;
        channel.close();
    }

    void idleTimer(ScheduledFuture<?> timer) {
        if (idleTimer != null) {
            idleTimer.cancel(false);
        }
        idleTimer = timer;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Listener l = listener;
        if (l == null) {
            // Data on an idle pooled connection: the upstream is confused or closing. Retire it.
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (msg instanceof HttpObject http && http.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            listener = null;
            ctx.close();
            l.onUpstreamClosed(this, new UpstreamProtocolException(http.decoderResult().cause()));
            return;
        }
        if (msg instanceof HttpResponse response) {
            l.onUpstreamResponse(this, response);
            if (msg instanceof HttpContent content && listener == l) {
                l.onUpstreamContent(this, content);
            } else if (msg instanceof HttpContent content) {
                content.release();
            }
        } else if (msg instanceof HttpContent content) {
            l.onUpstreamContent(this, content);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Listener l = listener;
        if (l != null) {
            l.onUpstreamReadComplete(this);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Listener l = listener;
        if (l != null && ctx.channel().isWritable()) {
            l.onUpstreamWritable(this);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (idleTimer != null) {
            idleTimer.cancel(false);
        }
        Listener l = listener;
        listener = null;
        if (l != null) {
            l.onUpstreamClosed(this, null);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Listener l = listener;
        listener = null;
        ctx.close();
        if (l != null) {
            l.onUpstreamClosed(this, cause);
        }
    }

    /** The upstream sent something that is not valid HTTP/1.1. */
    public static final class UpstreamProtocolException extends Exception {
        private static final long serialVersionUID = 1L;

        UpstreamProtocolException(Throwable cause) {
            super(cause == null ? "malformed response" : cause.getMessage(), cause, false, false);
        }
    }
}
