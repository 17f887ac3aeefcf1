package io.bulwark.proxy.server;

import io.bulwark.config.RouteConfig;
import io.bulwark.routing.Cluster;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.HttpConversionUtil;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * The request as it goes upstream: the method, the target after the route's {@code prefix-rewrite},
 * and the header fields — the client's, without hop-by-hop fields (but {@code te: trailers}), plus
 * {@code X-Forwarded-For/-Proto/-Host}, {@code X-Request-Id} and the route's
 * {@code request-headers} edits. Built once per request; every try sends it with its own
 * {@code x-bulwark-attempt}.
 */
final class UpstreamRequest {

    private final HttpMethod method;
    private final String uri;
    private final HttpHeaders headers;

    UpstreamRequest(HttpRequest req, String uri, boolean upgrade, Downstream downstream, String requestId,
                    RouteConfig.HeaderRewrite rewrite, Cluster cluster) {
        this.method = req.method();
        this.uri = uri;
        this.headers = headers(req, upgrade, downstream, requestId, rewrite, cluster);
    }

    /**
     * The head of try {@code attempt}. It is encoded as it is written, on this event loop, so every
     * try can reuse the same fields with its own attempt number.
     */
    HttpRequest head(int attempt) {
        // An HTTP/2 try's codec notes its :scheme in the fields it encodes; a later try may go over HTTP/1.1.
        headers.remove(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text());
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri, headers.setInt(Headers.X_BULWARK_ATTEMPT, attempt));
    }

    private static HttpHeaders headers(HttpRequest req, boolean upgrade, Downstream downstream, String requestId,
                                       RouteConfig.HeaderRewrite rewrite, Cluster cluster) {
        HttpHeaders h = req.headers().copy();
        boolean chunked = HttpUtil.isTransferEncodingChunked(req);
        String originalHost = req.headers().get(HttpHeaderNames.HOST);
        List<String> priorForwardedFor = h.getAll(Headers.X_FORWARDED_FOR);
        boolean trailers = Headers.acceptsTrailers(req.headers());
        Headers.stripHopByHop(h, upgrade);
        if (trailers) {
            // TE is hop-by-hop, but "trailers" is passed on (CONTRACT §3): gRPC servers require it.
            h.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        }
        if (chunked) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        String peer = downstream.peerIp();
        String forwardedFor = priorForwardedFor.isEmpty() ? peer : String.join(", ", priorForwardedFor) + ", " + peer;
        h.set(Headers.X_FORWARDED_FOR, forwardedFor);
        h.set(Headers.X_FORWARDED_PROTO, downstream.secure() ? "https" : "http");
        if (originalHost != null) {
            h.set(Headers.X_FORWARDED_HOST, originalHost);
        } else {
            h.remove(Headers.X_FORWARDED_HOST);
        }
        h.set(Headers.X_REQUEST_ID, requestId);
        for (String name : rewrite.remove()) {
            h.remove(name);
        }
        for (Map.Entry<String, String> e : rewrite.add().entrySet()) {
            h.set(e.getKey(), e.getValue());
        }
        if (originalHost == null && req.protocolVersion() == HttpVersion.HTTP_1_0) {
            // An HTTP/1.0 request may lack Host; HTTP/1.1 upstreams require one.
            InetSocketAddress first = cluster.upstreams().isEmpty() ? null : cluster.upstreams().get(0).socketAddress();
            if (first != null) {
                h.set(HttpHeaderNames.HOST, first.getHostString() + ":" + first.getPort());
            }
        }
        return h;
    }
}
