package io.bulwark.proxy.pool;

import io.bulwark.routing.Upstream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * One connection to an upstream, and the last handler of its pipeline. While a request uses it,
 * it hands every decoded response part to that request's {@link Listener}; while it sits idle in
 * the pool, anything the upstream sends (data or a close) retires it, so a connection the
 * upstream closed is never handed to a new request.
 *
 * <p>For a cluster with {@code protocol = http2} it is one stream of an {@link Http2Connection}
 * instead (its channel is the stream's child channel, after Netty's
 * {@code Http2StreamFrameToHttpObjectCodec}): used by one request, then closed, never pooled
 * itself. It then also tells apart why the stream ended early: refused by the upstream (GOAWAY
 * above its last stream id, {@code REFUSED_STREAM}, or never opened: nothing was processed), the
 * whole connection failing (one {@link ConnectionFailure} shared by its streams), or a reset of
 * this stream alone.
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
    /** The HTTP/2 connection this stream belongs to; null for an HTTP/1.1 connection. */
    private final Http2Connection parent;
    private boolean refused;
    private Http2Error resetBy;
    private Channel channel;
    private Listener listener;
    private boolean reused;
    private ScheduledFuture<?> idleTimer;

    UpstreamConnection(ConnectionPool pool, Upstream upstream) {
        this(pool, upstream, null);
    }

    UpstreamConnection(ConnectionPool pool, Upstream upstream, Http2Connection parent) {
        this.pool = pool;
        this.upstream = upstream;
        this.parent = parent;
    }

    /** Whether this is a stream of an HTTP/2 connection. */
    public boolean multiplexed() {
        return parent != null;
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
        if (parent != null) {
            channel.close(); // a stream serves one request; its slot on the connection frees when it closes
            return;
        }
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
        if (parent != null && msg instanceof HttpResponse response) {
            response.headers().remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
            if (msg instanceof FullHttpResponse full) {
                // The codec makes one for a HEADERS frame that ends the stream (or an interim 1xx). The head goes on
                // as a FullHttpResponse, so that an HTTP/2 client gets it ending the stream too (gRPC's
                // trailers-only responses must), and the end as a plain LastHttpContent.
                try {
                    l.onUpstreamResponse(this, full);
                    if (listener == l && full.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
                        l.onUpstreamContent(this, LastHttpContent.EMPTY_LAST_CONTENT);
                    }
                } finally {
                    full.release();
                }
                return;
            }
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
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2GoAwayFrame goAway) {
            refused = true; // this stream is above the GOAWAY's last stream id: the upstream never processed it
            goAway.release();
            return;
        }
        if (evt instanceof Http2ResetFrame reset) {
            resetBy = Http2Error.valueOf(reset.errorCode());
            refused |= resetBy == Http2Error.REFUSED_STREAM; // RFC 9113 §8.7: not processed, safe to retry
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** Why the stream ended before its response was complete (null for an HTTP/1.1 connection that closed). */
    private Throwable closeCause() {
        if (parent == null) {
            return null;
        }
        Http2FrameStream stream = ((Http2StreamChannel) channel).stream();
        // IDLE: never created on the connection (its HEADERS never went out, e.g. held back until a GOAWAY)
        if (refused || stream.id() <= 0 || stream.state() == Http2Stream.State.IDLE) {
            return new RefusedStreamException(refused ? "the upstream refused the stream (GOAWAY or REFUSED_STREAM)"
                    : "the stream was never opened");
        }
        if (!parent.isActive()) {
            return parent.failure();
        }
        return resetBy == null ? null : new StreamResetException(resetBy);
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
            l.onUpstreamClosed(this, closeCause());
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Listener l = listener;
        listener = null;
        ctx.close();
        if (l != null) {
            if (parent != null && cause instanceof Http2Exception.StreamException stream) {
                // This stream alone: a malformed response (bad pseudo-headers, Content-Length not matching its
                // DATA, ...) or another stream error
                cause = stream.error() == Http2Error.PROTOCOL_ERROR ? new UpstreamProtocolException(cause)
                        : new StreamResetException(stream.error());
            } else if (parent != null) {
                cause = parent.failure(cause); // anything else is the connection's: it fails all its streams
            }
            l.onUpstreamClosed(this, cause);
        }
    }

    /**
     * The upstream refused an HTTP/2 stream before processing it (a GOAWAY whose last stream id is
     * below it, {@code REFUSED_STREAM}), or the stream could not be opened: nothing of the request was
     * processed, so it may be sent again, also when its method is not idempotent.
     */
    public static final class RefusedStreamException extends Exception {
        private static final long serialVersionUID = 1L;

        RefusedStreamException(String message) {
            super(message, null, false, false);
        }
    }

    /** The upstream reset this HTTP/2 stream alone (RST_STREAM), the connection staying up. */
    public static final class StreamResetException extends Exception {
        private static final long serialVersionUID = 1L;

        StreamResetException(Http2Error code) {
            super("the upstream reset the stream (" + code + ")", null, false, false);
        }
    }

    /**
     * An HTTP/2 connection to an upstream failed (could not be made, was reset, closed with streams
     * in flight): every stream on it fails with this one object, and the first try to report it
     * claims the report, so the upstream's outlier detection counts the failure once.
     */
    public static final class ConnectionFailure extends Exception {
        private static final long serialVersionUID = 1L;
        private boolean reported;

        ConnectionFailure(String upstream, Throwable cause) {
            super("the HTTP/2 connection to " + upstream + " failed" + (cause == null ? ""
                    : ": " + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage())),
                    cause, false, false);
        }

        /** True for the first caller only: it reports the failure to the upstream's detectors. */
        public boolean claimReport() {
            if (reported) {
                return false;
            }
            reported = true;
            return true;
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
