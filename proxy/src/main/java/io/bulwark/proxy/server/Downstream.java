package io.bulwark.proxy.server;

import io.bulwark.config.ListenerConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.concurrent.EventExecutor;

/**
 * What an {@link Exchange} needs from the connection its request came on, and nothing more: the
 * seam between a request's lifecycle and a wire protocol (as Envoy's router talks to its
 * {@code StreamDecoderFilterCallbacks}, never to a codec). {@link Http1Downstream} is the HTTP/1
 * implementation; its framing rules (HTTP/1.0 clients, chunking, {@code Connection} headers)
 * live behind this interface, so an HTTP/2 stream can be a second one.
 *
 * <p>Every method is called on {@link #executor()}, the connection's event loop.
 */
interface Downstream {

    /** Reading of the request body is paused while any reason holds (bit flags). */
    int PAUSE_PIPELINE = 1;
    int PAUSE_BACKPRESSURE = 2;
    int PAUSE_CONNECTING = 4;

    EventExecutor executor();

    ByteBufAllocator alloc();

    ListenerConfig listener();

    /** The TCP peer's address (what X-Forwarded-For gets appended). */
    String peerIp();

    /** The request's client address: the peer, or from X-Forwarded-For behind a trusted proxy. */
    String clientIp();

    /** Whether the client connection is encrypted (for X-Forwarded-Proto). */
    boolean secure();

    void pause(int reason);

    void resume(int reason);

    /** Whether the client can take more response bytes now. */
    boolean isWritable();

    /** {@code 100 Continue}: the request was admitted, its body may come. */
    void sendContinue();

    /**
     * The upstream's response head, for the client: the implementation removes the fields that
     * belong to the upstream connection (hop-by-hop), adds the proxy's own and applies its
     * protocol's framing. The head is the exchange's to edit (its headers are reused, not copied).
     *
     * @param requestId the request's id, returned in {@code X-Request-Id}
     * @param extraHeaders adds the fields the proxy adds (rate-limit headers), or null
     * @param keepAlive whether the exchange wants the connection kept after this response
     * @return whether the connection can still be kept after the response (false when the framing
     *     needs the close, e.g. an HTTP/1.0 client and a body without a length)
     */
    boolean writeHead(HttpResponse head, String requestId, java.util.function.Consumer<HttpHeaders> extraHeaders,
                      boolean keepAlive);

    /** A part of the response body, the last one with its trailers. Not flushed. */
    void writeBody(HttpContent part);

    void flush();

    /** A whole response the proxy made itself. */
    void writeLocalReply(FullHttpResponse reply, boolean keepAlive);

    /** The exchange is over (response written or given up); the connection may serve the next request. */
    void complete(Exchange exchange, boolean keepAlive);

    /** The response cannot be completed: end the client's connection (or stream) now. */
    void abort();

    /**
     * The upstream switched protocols: send the client its {@code switchingProtocols} head (with
     * {@code X-Request-Id}) and relay raw bytes between the client and {@code upstream} from now on;
     * {@code onEnd} gets the bytes relayed each way when the tunnel closes.
     */
    void upgrade(HttpResponse switchingProtocols, String requestId, Channel upstream,
                 java.util.function.Consumer<Tunnel.Traffic> onEnd);

    /** Whether the connection is to close after the current response anyway (client asked, shutdown). */
    boolean closeAfterResponse();
}
