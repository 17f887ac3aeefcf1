package io.bulwark.proxy.server;

import io.bulwark.config.ListenerConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.concurrent.EventExecutor;

/**
 * One HTTP/2 stream's side of an {@link Exchange}: the response as HTTP/2 frames — the head as
 * HEADERS (connection-specific fields dropped, names in lower case), the body as DATA, trailers as
 * a trailing HEADERS frame that ends the stream — and the stream's flow control (reading paused
 * means no WINDOW_UPDATE for the client; writability follows the stream's send window).
 */
final class Http2Downstream implements Downstream {

    private final Http2StreamHandler stream;
    private final Channel channel;
    /** The response ended with its head (an upstream's HEADERS frame that ended its stream): no DATA follows. */
    private boolean endedWithHead;

    Http2Downstream(Http2StreamHandler stream, Channel channel) {
        this.stream = stream;
        this.channel = channel;
    }

    @Override
    public EventExecutor executor() {
        return channel.eventLoop();
    }

    @Override
    public ByteBufAllocator alloc() {
        return channel.alloc();
    }

    @Override
    public ListenerConfig listener() {
        return stream.listener();
    }

    @Override
    public String peerIp() {
        return stream.peerIp();
    }

    @Override
    public String clientIp() {
        return stream.requestClientIp();
    }

    @Override
    public boolean secure() {
        return stream.listener().tls().isPresent();
    }

    @Override
    public void pause(int reason) {
        stream.pause(reason);
    }

    @Override
    public void resume(int reason) {
        stream.resume(reason);
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public void sendContinue() {
        channel.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("100"), false));
    }

    @Override
    public boolean writeHead(HttpResponse head, String requestId, java.util.function.Consumer<HttpHeaders> extraHeaders,
                             boolean keepAlive) {
        HttpHeaders h = head.headers();
        Headers.stripHopByHop(h, false);
        h.set(Headers.X_REQUEST_ID, requestId);
        if (extraHeaders != null) {
            extraHeaders.accept(h);
        }
        // A head that is the whole response (from an HTTP/2 upstream, whose HEADERS ended its stream) ends this
        // stream too: a gRPC trailers-only response must not be followed by an empty DATA frame.
        endedWithHead = head instanceof FullHttpResponse full && !full.content().isReadable()
                && full.trailingHeaders().isEmpty();
        ChannelFuture written = channel.write(new DefaultHttp2HeadersFrame(HttpConversionUtil.toHttp2Headers(head, false),
                endedWithHead));
        if (endedWithHead) {
            stream.endedBy(written);
        }
        return true;
    }

    @Override
    public void writeBody(HttpContent part) {
        if (endedWithHead) {
            part.release(); // the empty end of a response that ended with its head
            return;
        }
        if (!(part instanceof LastHttpContent last)) {
            channel.write(new DefaultHttp2DataFrame(part.content(), false));
            return;
        }
        HttpHeaders trailers = last.trailingHeaders();
        if (trailers.isEmpty()) {
            stream.endedBy(channel.write(new DefaultHttp2DataFrame(last.content(), true)));
            return;
        }
        if (last.content().isReadable()) {
            channel.write(new DefaultHttp2DataFrame(last.content(), false));
        } else {
            last.release();
        }
        Http2Headers fields = new DefaultHttp2Headers();
        HttpConversionUtil.toHttp2Headers(trailers, fields); // drops connection-specific fields
        stream.endedBy(channel.write(new DefaultHttp2HeadersFrame(fields, true)));
    }

    @Override
    public void flush() {
        channel.flush();
    }

    @Override
    public void writeLocalReply(FullHttpResponse reply, boolean keepAlive) {
        stream.writeFull(reply);
    }

    @Override
    public void complete(Exchange exchange, boolean keepAlive) {
        stream.onExchangeComplete(exchange);
    }

    @Override
    public void abort() {
        stream.reset(Http2Error.INTERNAL_ERROR);
    }

    @Override
    public void upgrade(HttpResponse switchingProtocols, String requestId, Channel upstream,
                        java.util.function.Consumer<Tunnel.Traffic> onEnd) {
        // Unreachable: an HTTP/2 request cannot ask for an upgrade (Upgrade is connection-specific, refused).
        upstream.close();
        onEnd.accept(new Tunnel.Traffic());
        stream.reset(Http2Error.INTERNAL_ERROR);
    }

    @Override
    public boolean closeAfterResponse() {
        return false;
    }
}
