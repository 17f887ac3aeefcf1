package io.bulwark.proxy.server;

import io.bulwark.config.ListenerConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.EventExecutor;

/**
 * One HTTP/1 request's view of its {@link FrontendHandler} connection: the HTTP/1 framing of the
 * response — the version an HTTP/1.0 client understands, chunking or a close-delimited body where
 * the upstream gave no length, {@code Connection} fields, trailers dropped where 1.0 cannot carry
 * them — and the connection's flow control.
 */
final class Http1Downstream implements Downstream {

    private final FrontendHandler connection;
    private final HttpVersion version;
    private final boolean bodyless;
    /** The response's body is delimited by closing the connection (HTTP/1.0 client, no length). */
    private boolean closeDelimited;

    Http1Downstream(FrontendHandler connection, HttpVersion requestVersion, HttpMethod method) {
        this.connection = connection;
        this.version = requestVersion == HttpVersion.HTTP_1_0 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
        this.bodyless = method == HttpMethod.HEAD;
    }

    @Override
    public EventExecutor executor() {
        return connection.ctx().executor();
    }

    @Override
    public ByteBufAllocator alloc() {
        return connection.ctx().alloc();
    }

    @Override
    public ListenerConfig listener() {
        return connection.listener();
    }

    @Override
    public String peerIp() {
        return connection.clientIp();
    }

    @Override
    public String clientIp() {
        return connection.requestClientIp();
    }

    @Override
    public boolean secure() {
        return connection.secure();
    }

    @Override
    public void pause(int reason) {
        connection.pause(reason);
    }

    @Override
    public void resume(int reason) {
        connection.resume(reason);
    }

    @Override
    public boolean isWritable() {
        return connection.ctx().channel().isWritable();
    }

    @Override
    public void sendContinue() {
        connection.sendContinue();
    }

    @Override
    public boolean writeHead(HttpResponse upstreamHead, String requestId,
                             java.util.function.Consumer<HttpHeaders> extraHeaders, boolean keepAlive) {
        HttpHeaders h = upstreamHead.headers();
        boolean upstreamChunked = HttpUtil.isTransferEncodingChunked(upstreamHead);
        boolean hasLength = h.contains(HttpHeaderNames.CONTENT_LENGTH);
        Headers.stripHopByHop(h, false);
        h.set(Headers.X_REQUEST_ID, requestId);
        if (extraHeaders != null) {
            extraHeaders.accept(h);
        }
        // The upstream's response object is ours and is not used again: its headers are reused rather than
        // copied (a copy per response was the largest allocation on the hot path).
        HttpResponse head = new DefaultHttpResponse(version, upstreamHead.status(), h);
        int status = upstreamHead.status().code();
        boolean noBody = bodyless || status == 204 || status == 304;
        boolean http10 = version == HttpVersion.HTTP_1_0;
        if (!noBody && !hasLength) {
            if (http10) {
                closeDelimited = true; // body delimited by the connection close
            } else {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        } else if (noBody && upstreamChunked && !http10) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        boolean keep = keepAlive && !closeDelimited && !connection.closeAfterResponse();
        if (!keep) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        connection.ctx().write(head);
        return keep;
    }

    @Override
    public void writeBody(HttpContent part) {
        if (closeDelimited && part instanceof LastHttpContent last && !last.trailingHeaders().isEmpty()) {
            // HTTP/1.0 cannot carry trailers; keep the bytes, drop the trailer fields.
            HttpContent plain = new DefaultLastHttpContent(part.content().retain());
            part.release();
            part = plain;
        }
        connection.ctx().write(part);
    }

    @Override
    public void flush() {
        connection.ctx().flush();
    }

    @Override
    public void writeLocalReply(FullHttpResponse reply, boolean keepAlive) {
        HttpUtil.setKeepAlive(reply, keepAlive);
        connection.ctx().writeAndFlush(reply);
    }

    @Override
    public void complete(Exchange exchange, boolean keepAlive) {
        connection.onExchangeComplete(exchange, keepAlive);
    }

    @Override
    public void abort() {
        connection.ctx().close();
    }

    @Override
    public void upgrade(HttpResponse switchingProtocols, String requestId, Channel upstream,
                        java.util.function.Consumer<Tunnel.Traffic> onEnd) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, switchingProtocols.status(),
                switchingProtocols.headers().copy());
        Headers.stripHopByHop(head.headers(), true);
        head.headers().set(Headers.X_REQUEST_ID, requestId);
        connection.ctx().writeAndFlush(head);
        connection.becomeTunnel(upstream, onEnd);
    }

    @Override
    public boolean closeAfterResponse() {
        return connection.closeAfterResponse();
    }
}
